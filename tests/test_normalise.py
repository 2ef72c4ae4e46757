"""The parse-time defaults libvirt fills in, as rules see them."""

from __future__ import annotations

from conftest import REPO

from domlint.domain import disk_index, normalise
from domlint.host import default_host
from domlint.host import load as load_host
from domlint.parse import parse_bytes

DOMAIN = b"""<domain type='qemu'><name>n</name><memory>1024</memory>
<os><type arch='x86_64' machine='pc'>hvm</type></os>
<devices><emulator>/usr/bin/qemu-system-x86_64</emulator>
<disk><source file='/a'/><target dev='hdc'/></disk>
<disk device='floppy'><source file='/f'/><target dev='fda'/></disk>
<disk type='block'><source dev='/dev/sdb'/><target dev='sdh'/></disk>
<disk type='file'><source file='/v'/><target dev='vdb'/></disk>
<input type='tablet'/><input type='mouse'/>
<channel type='pty'><target type='virtio' name='x'/></channel>
</devices></domain>"""


def _norm(data: bytes = DOMAIN, host=None):
    doc = parse_bytes(data, "t.xml")
    normalise(doc, host or default_host())
    return doc.root


def test_disk_index() -> None:
    assert disk_index("hda") == 0 and disk_index("hdc") == 2
    assert disk_index("sdaa") == 26 and disk_index("vdz") == 25
    assert disk_index("nvme0") is None


def test_disk_defaults_and_drive_addresses() -> None:
    root = _norm()
    disks = root.findall("devices/disk")
    assert [d.get("type") for d in disks] == ["file", "file", "block", "file"]
    assert [d.get("device") for d in disks] == ["disk", "floppy", "disk", "disk"]
    assert [d.find("target").get("bus") for d in disks] == ["ide", "fdc", "scsi", "virtio"]
    hdc = disks[0].find("address").attrib
    assert (hdc["controller"], hdc["bus"], hdc["unit"]) == ("0", "1", "0")
    sdh = disks[2].find("address").attrib
    assert (sdh["controller"], sdh["unit"]) == ("1", "0")
    assert disks[3].find("address") is None


def test_implicit_controllers() -> None:
    root = _norm()
    have = {(c.get("type"), c.get("index"), c.get("model")) for c in root.iter("controller")}
    assert {("ide", "0", None), ("fdc", "0", None), ("scsi", "0", None), ("scsi", "1", None),
            ("virtio-serial", "0", None), ("usb", "0", None), ("pci", "0", "pci-root")} <= have
    # Implicit elements carry the line of what implied them.
    assert all(c.sourceline for c in root.iter("controller"))


def test_q35_gets_pcie_root_and_no_usb() -> None:
    root = _norm(DOMAIN.replace(b"machine='pc'", b"machine='pc-q35-2.0'"))
    have = {(c.get("type"), c.get("model")) for c in root.iter("controller")}
    assert ("pci", "pcie-root") in have and ("pci", "dmi-to-pci-bridge") in have
    assert ("usb", None) not in have and ("sata", None) in have


def test_input_bus_defaults() -> None:
    root = _norm()
    assert [i.get("bus") for i in root.iter("input")] == ["usb", "ps2"]


def test_machine_alias_from_host() -> None:
    host = load_host(REPO / "tests" / "hosts" / "conformance.yaml")
    root = _norm(host=host)
    assert root.find("os/type").get("machine") == "pc-0.11"
    root = _norm(DOMAIN.replace(b"/usr/bin/qemu-system-x86_64", b"/usr/bin/kvm"), host=host)
    assert root.find("os/type").get("machine") == "pc"


def test_missing_machine_takes_host_default() -> None:
    root = _norm(DOMAIN.replace(b" machine='pc'", b""))
    assert root.find("os/type").get("machine") == "pc"
