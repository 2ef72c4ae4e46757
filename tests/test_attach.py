"""attach-check: a device merged into a copy of the domain as `virsh attach-device --config` merges it."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import REPO, require_virsh, run_cli

import domlint
from domlint import attach

GOOD = REPO / "examples" / "guest-good.xml"

DEVICES = {
    # file-backed device='lun': SG_IO needs a block device
    "lun": """<?xml version='1.0'?>
<!-- a LUN that is really an image file -->
<disk type='file' device='lun'>
  <source file='/var/lib/libvirt/images/lun.img'/>
  <target dev='sdb' bus='scsi'/>
</disk>
""",
    "ide-readonly": """<disk type='file' device='disk'>
  <source file='/var/lib/libvirt/images/ro.img'/>
  <target dev='hdb' bus='ide'/>
  <readonly/>
</disk>
""",
    "target-taken": """<disk type='file' device='disk'>
  <source file='/var/lib/libvirt/images/other.img'/>
  <target dev='vda' bus='virtio'/>
</disk>
""",
    "virtio": """<disk type='file' device='disk'>
  <driver name='qemu' type='qcow2'/>
  <source file='/var/lib/libvirt/images/data.qcow2'/>
  <target dev='vdb' bus='virtio'/>
</disk>
""",
}
REJECTED = {"lun": ("disk-lun-not-block", 3), "ide-readonly": ("disk-ide-readonly", 1),
            "target-taken": ("attach-disk-target-used", 1)}


def _device(tmp_path: Path, name: str, text: str | None = None) -> Path:
    f = tmp_path / f"{name}.xml"
    f.write_text(text if text is not None else DEVICES[name])
    return f


def _domain_args(source: str) -> list[str]:
    if source == "file":
        return [str(GOOD)]
    require_virsh()
    return ["--connect", "test:///default", "--domain-name", "test"]


@pytest.mark.parametrize("source", ["file", "test:///default"])
@pytest.mark.parametrize("name", sorted(REJECTED))
def test_rejects(name: str, source: str, tmp_path: Path) -> None:
    dev = _device(tmp_path, name)
    proc = run_cli("attach-check", *_domain_args(source), str(dev))
    rule, line = REJECTED[name]
    assert proc.returncode == 1, proc.stdout + proc.stderr
    # The finding names DEVICE.xml and the line of the device in it.
    assert f"{dev}:{line}:1: error [{rule}]" in proc.stdout, proc.stdout


@pytest.mark.parametrize("source", ["file", "test:///default"])
def test_accepts_a_plain_virtio_disk(source: str, tmp_path: Path) -> None:
    # The test driver's own domain puts its disk at PCI 01:00.0 with no bridge, which libvirt 1.2.8's QEMU
    # address assignment refuses (slot 0 of a pci-bridge bus): a fact of that domain, not of the device.
    ignore = ["--ignore", "address-assign"] if source != "file" else []
    proc = run_cli("attach-check", *ignore, *_domain_args(source), str(_device(tmp_path, "virtio")))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == ""


def test_target_taken_names_the_disk_that_holds_it(tmp_path: Path) -> None:
    [f] = domlint.attach_check(GOOD, DEVICES["target-taken"])
    assert f.rule_id == "attach-disk-target-used" and f.stage == "attach"
    assert f"({GOOD}:12)" in f.message and f.path == "<string>"
    require_virsh()
    test_domain = domlint.dumpxml("test", "test:///default")
    [f] = domlint.attach_check(test_domain, DEVICES["target-taken"])
    assert f.rule_id == "attach-disk-target-used" and "(dumpxml:test:" in f.message


def test_api_takes_paths_strings_and_documents(tmp_path: Path) -> None:
    dev = _device(tmp_path, "lun")
    for device in (dev, str(dev), DEVICES["lun"], DEVICES["lun"].encode()):
        ids = [f.rule_id for f in domlint.attach_check(GOOD, device)]
        assert ids == ["disk-lun-not-block"], (device, ids)
    [f] = domlint.attach_check(GOOD.read_text(), dev, domain_path="guest.xml")
    assert (f.path, f.line, f.xpath) == (str(dev), 3, "/disk")
    assert domlint.attach_check(GOOD, DEVICES["virtio"]) == []
    # Capabilities decide as in check: without drive-readonly QEMU ignores read-only.
    assert domlint.attach_check(GOOD, DEVICES["ide-readonly"], caps=["drive", "drive-readonly"], select=["disk-ide"])
    assert not domlint.attach_check(GOOD, DEVICES["ide-readonly"], caps=["drive"], select=["disk-ide"])
    assert not domlint.attach_check(GOOD, DEVICES["target-taken"], ignore=["attach"])


def test_disk_config_checks_hold_whatever_the_qemu() -> None:
    # attach --config checks a new disk's lun/wwn/vendor settings before it looks at the QEMU.
    assert "disk-lun-not-block" in [f.rule_id for f in domlint.attach_check(GOOD, DEVICES["lun"], caps=[])]
    merged = GOOD.read_text().replace("</devices>", DEVICES["lun"].split("-->\n")[1] + "</devices>")
    assert "disk-lun-not-block" in [f.rule_id for f in domlint.check(merged)]
    assert "disk-lun-not-block" not in [f.rule_id for f in domlint.check(merged, caps=[])]


def test_never_writes(tmp_path: Path) -> None:
    dom = tmp_path / "guest.xml"
    shutil.copy(GOOD, dom)
    dev = _device(tmp_path, "lun")
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()}
    run_cli("attach-check", str(dom), str(dev), cwd=tmp_path)
    domlint.attach_check(dom, dev)
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()} == before


# ---------------------------------------------------------------- merge refusals

DOMAIN = """<domain type='kvm'>
  <name>g</name>
  <memory>1048576</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='scsi' index='0'/>
    <hostdev mode='subsystem' type='pci' managed='yes'><driver name='vfio'/>
      <source><address domain='0x0000' bus='0x06' slot='0x12' function='0x5'/></source></hostdev>
    <interface type='network'><source network='default'/><model type='virtio'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/></interface>
    <filesystem type='mount'><source dir='/srv'/><target dir='share'/></filesystem>
    <serial type='pty'><target port='0'/></serial>
    <channel type='unix'><source mode='bind' path='/var/lib/libvirt/qemu/g.agent'/>
      <target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    <lease><key>somekey</key><target path='/var/lib/libvirt/lockd/x'/></lease>
  </devices>
</domain>
"""

REFUSED = {
    "controller-explicit": ("<controller type='scsi' index='0' model='virtio-scsi'/>", "attach-controller-exists"),
    "controller-implicit": ("<controller type='usb' index='0' model='ich9-ehci1'/>", "attach-controller-exists"),
    "hostdev-twice": ("<hostdev mode='subsystem' type='pci'><driver name='vfio'/><source>"
                      "<address domain='0' bus='6' slot='0x12' function='5'/></source></hostdev>",
                      "attach-hostdev-duplicate"),
    "pci-address-taken": ("<interface type='network'><source network='default'/><model type='virtio'/>"
                          "<address type='pci' domain='0' bus='0' slot='3' function='0'/></interface>",
                          "attach-address-used"),
    "filesystem-target": ("<filesystem type='mount'><source dir='/data'/><target dir='share'/></filesystem>",
                          "attach-filesystem-target-used"),
    "serial-twice": ("<serial type='pty'><target port='0'/></serial>", "attach-chardev-duplicate"),
    "channel-twice": ("<channel type='unix'><source mode='bind' path='/var/lib/libvirt/qemu/g.agent'/>"
                      "<target type='virtio' name='org.qemu.guest_agent.0'/></channel>", "attach-chardev-duplicate"),
    "console-serial": ("<console type='pty'/>", "attach-console-serial"),
    "lease-twice": ("<lease><key>somekey</key><target path='/tmp/l'/></lease>", "attach-lease-duplicate"),
}
ACCEPTED = {
    "controller-new-index": "<controller type='scsi' index='1' model='virtio-scsi'/>",
    "other-hostdev": ("<hostdev mode='subsystem' type='pci'><driver name='vfio'/><source>"
                      "<address domain='0' bus='6' slot='0x12' function='6'/></source></hostdev>"),
    "pci-address-free": ("<interface type='network'><source network='default'/><model type='virtio'/>"
                         "<address type='pci' domain='0' bus='0' slot='4' function='0'/></interface>"),
    "other-filesystem": "<filesystem type='mount'><source dir='/data'/><target dir='data'/></filesystem>",
    "serial-next-port": "<serial type='pty'><target port='1'/></serial>",
    "serial-no-port": "<serial type='pty'/>",
    "other-channel": ("<channel type='unix'><source mode='bind' path='/var/lib/libvirt/qemu/g.other'/>"
                      "<target type='virtio' name='org.example.other'/></channel>"),
    "virtio-console": "<console type='pty'><target type='virtio'/></console>",
    "other-lease": "<lease><key>otherkey</key><target path='/tmp/l'/></lease>",
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_merge_refusals(name: str) -> None:
    device, rule = REFUSED[name]
    ids = [f.rule_id for f in domlint.attach_check(DOMAIN, device, select=["attach"])]
    assert ids == [rule]


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_merges_libvirt_accepts(name: str) -> None:
    assert domlint.attach_check(DOMAIN, ACCEPTED[name], select=["attach"]) == []


def test_refusal_messages_say_what_and_where() -> None:
    [f] = domlint.attach_check(DOMAIN, REFUSED["pci-address-taken"][0], select=["attach"])
    assert f.message == "interface: PCI address 0000:00:03.0 is already taken by <interface> (<string>:10)"
    [f] = domlint.attach_check(DOMAIN, REFUSED["controller-implicit"][0], select=["attach"])
    assert "controller type='usb' index='0'" in f.message and "one libvirt adds by itself" in f.message
    [f] = domlint.attach_check(DOMAIN, REFUSED["hostdev-twice"][0], select=["attach"])
    assert f.message.startswith("PCI host device 0000:06:12.5: already assigned")


@pytest.mark.parametrize(("slot", "taken"), [("03", True), ("0x3", True), ("+3", True), (" 3", True),
                                             ("010", True), ("0x8", True), ("10", False), ("4", False)])
def test_device_numbers_are_compared_as_libvirt_stores_them(slot: str, taken: bool) -> None:
    # PCI address numbers take C prefixes: '010' is slot 8, taken; '10' is slot 10, free.
    device = REFUSED["pci-address-taken"][0]
    dom = DOMAIN.replace("<lease>", device.replace("slot='3'", "slot='8'") + "<lease>")
    ids = [f.rule_id for f in domlint.attach_check(dom, device.replace("slot='3'", f"slot='{slot}'"), select=["attach"])]
    assert ids == (["attach-address-used"] if taken else [])


def test_implied_serial_ports_count_up_without_exploding() -> None:
    # Serials without a port take one above the highest before them, read in one pass:
    # thirty of them are judged at once, and the implied port 29 is taken.
    serials = "".join(f"<serial type='file'><source path='/tmp/s{i}'/></serial>" for i in range(30))
    dom = DOMAIN.replace("<serial type='pty'><target port='0'/></serial>", serials)
    again = "<serial type='file'><source path='/tmp/s29'/><target port='29'/></serial>"
    assert [f.rule_id for f in domlint.attach_check(dom, again, select=["attach"])] == ["attach-chardev-duplicate"]
    assert domlint.attach_check(dom, again.replace("'29'", "'30'"), select=["attach"]) == []


def test_usb_device_needs_a_usb_controller() -> None:
    usb_disk = "<disk type='file'><source file='/u.img'/><target dev='sdz' bus='usb'/></disk>"
    assert domlint.attach_check(DOMAIN, usb_disk, select=["attach"]) == []
    no_usb = DOMAIN.replace("<devices>", "<devices><controller type='usb' index='0' model='none'/>")
    ids = [f.rule_id for f in domlint.attach_check(no_usb, usb_disk, select=["attach"])]
    assert ids == ["attach-usb-no-controller"]


def test_derived_drive_addresses_collide_too() -> None:
    # sdb on the SCSI bus sits at unit 1 of controller 0; an explicit address there is taken.
    dom = DOMAIN.replace("<lease>", "<disk type='file'><source file='/b.img'/><target dev='sdb'/></disk><lease>")
    taken = ("<disk type='file'><source file='/c.img'/><target dev='sdc' bus='scsi'/>"
             "<address type='drive' controller='0' bus='0' target='0' unit='1'/></disk>")
    [f] = domlint.attach_check(dom, taken, select=["attach"])
    assert f.rule_id == "attach-address-used" and "scsi drive address controller 0 bus 0 target 0 unit 1" in f.message
    assert domlint.attach_check(dom, taken.replace("unit='1'", "unit='2'"), select=["attach"]) == []


# ---------------------------------------------------------------- where findings point

RULES = """rules:
  - id: disk-test-source
    summary: s
    severity: warning
    stage: parse
    select: /domain/devices/disk/source
    message: "source {@file}"
    hint: h
    examples: {invalid: ["<disk><source file='/a'/></disk>"], valid: ["<disk/>"]}
  - id: controller-test-scsi
    summary: s
    severity: warning
    stage: parse
    select: /domain/devices/controller[@type='scsi']
    message: "scsi controller {@index}"
    hint: h
    examples: {invalid: ["<controller type='scsi'/>"], valid: ["<disk/>"]}
"""


def test_findings_point_into_device_or_domain(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "t.yaml").write_text(RULES)
    dev = _device(tmp_path, "lun")
    found = domlint.attach_check(GOOD, dev, rules=[tmp_path / "rules"], select=["disk-test", "controller-test"])
    where = sorted((f.rule_id, Path(f.path).name, f.line, f.column, f.xpath) for f in found)
    assert where == [
        # the implicit SCSI controller exists only because of the new disk
        ("controller-test-scsi", "lun.xml", 3, 1, "/disk"),
        ("disk-test-source", "guest-good.xml", 14, 7, "/domain/devices/disk[1]/source"),
        ("disk-test-source", "guest-good.xml", 18, 7, "/domain/devices/disk[2]/source"),
        ("disk-test-source", "lun.xml", 4, 3, "/disk/source"),
    ]
    # A SCSI controller the domain already implies stays with the domain.
    scsi_dom = GOOD.read_text().replace("</devices>", "<disk type='file'><source file='/s'/><target dev='sda'/>"
                                                      "</disk></devices>")
    found = domlint.attach_check(scsi_dom, dev, rules=[tmp_path / "rules"], select=["controller-test"],
                                 domain_path="scsi.xml")
    assert [(f.path, f.line) for f in found] == [("scsi.xml", 26)]


# ---------------------------------------------------------------- unusable input

@pytest.mark.parametrize(("text", "line", "message"), [
    ("<video>\n<model type='qxl'/></video>", 1, "attach-device --config does not add a <video>"),
    ("<?xml version='1.0'?>\n<gizmo/>", 2, "<gizmo> is not a device attach-device --config accepts"),
    ("<domain type='kvm'><name>x</name></domain>", 1, "this is a whole domain"),
    ("<disk type='file'>\n<source file='/a'/>\n</dsk>", 3, "not well-formed"),
    ("", 1, "file is empty"),
])
def test_unusable_device(text: str, line: int, message: str, tmp_path: Path) -> None:
    dev = _device(tmp_path, "bad", text)
    proc = run_cli("attach-check", str(GOOD), str(dev))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"{dev}:{line}: " in proc.stderr and message in proc.stderr, proc.stderr
    with pytest.raises(domlint.InputError):
        domlint.attach_check(GOOD, dev)


def test_unusable_domain_and_options(tmp_path: Path) -> None:
    dev = str(_device(tmp_path, "virtio"))
    proc = run_cli("attach-check", str(tmp_path / "missing.xml"), dev)
    assert proc.returncode == 2 and "missing.xml: no such file or directory" in proc.stderr.replace(
        "cannot read: No such file or directory", "no such file or directory")
    for args, message in ((["attach-check", dev], "give DOMAIN.xml and DEVICE.xml"),
                          (["attach-check", "--domain-name", "test", str(GOOD), dev], "give only DEVICE.xml"),
                          (["attach-check", "--connect", "test:///default", str(GOOD), dev], "--connect goes with"),
                          (["attach-check", "--ignore", "attach-nope", str(GOOD), dev], "no rule matches attach-nope")):
        proc = run_cli(*args)
        assert proc.returncode == 2 and message in proc.stderr, (args, proc.stderr)
    assert run_cli("attach-check", "--ignore", "attach-disk-target-used", str(GOOD),
                   str(_device(tmp_path, "target-taken"))).returncode == 0


def test_virsh_missing_says_so(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    proc = run_cli("attach-check", "--domain-name", "test", str(_device(tmp_path, "virtio")),
                   env={"PATH": str(empty)})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "virsh is not installed" in proc.stderr and "apt-get install libvirt-clients" in proc.stderr
    with pytest.raises(attach.VirshError):
        attach.dumpxml("test", virsh=str(empty / "virsh"))


def test_virsh_failure_is_reported(tmp_path: Path) -> None:
    require_virsh()
    proc = run_cli("attach-check", "-c", "test:///default", "--domain-name", "no-such-guest",
                   str(_device(tmp_path, "virtio")))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "dumpxml:no-such-guest: `virsh -c test:///default dumpxml --inactive --domain no-such-guest` failed: " \
        in proc.stderr, proc.stderr


def test_json_report(tmp_path: Path) -> None:
    proc = run_cli("attach-check", "--format", "json", str(GOOD), str(_device(tmp_path, "lun")))
    doc = json.loads(proc.stdout)
    assert proc.returncode == 1 and doc["summary"]["errors"] == 1
    assert doc["findings"][0]["path"].endswith("lun.xml") and doc["findings"][0]["line"] == 3


def test_test_driver_domain_is_judged_as_qemu(tmp_path: Path) -> None:
    require_virsh()
    dom = domlint.dumpxml("test", "test:///default")
    assert dom.root.get("type") == "test"
    merged = attach.merge(dom, attach.device_document(domlint.api.load_document(DEVICES["virtio"], roots=None)),
                          domlint.host.default_host())
    assert merged.after.root.get("type") == "qemu" and dom.root.get("type") == "test"
    assert os.path.basename(merged.device.path) == "<string>"


@pytest.mark.parametrize(("text", "caps", "expected"), [
    # A virtio RNG is added and judged like any device: fine with the capability, refused without it.
    ("<rng model='virtio'><backend model='random'>/dev/random</backend></rng>", None, []),
    ("<rng model='virtio'><backend model='random'>/dev/random</backend></rng>", ["device", "rng-random"],
     ["rng-virtio-unsupported"]),
    ("<watchdog model='i6300esb' action='reset'/>", None, []),
    ("<sound model='ich6'/>", None, []),
])
def test_later_libvirt_devices_are_merged_and_judged(text: str, caps: list[str] | None, expected: list[str],
                                                     tmp_path: Path) -> None:
    dev = _device(tmp_path, "dev", text)
    found = domlint.attach_check(GOOD, dev, caps=caps)
    assert sorted({f.rule_id for f in found if f.severity == "error" and f.path == str(dev)}) == expected


def test_a_second_watchdog_is_refused(tmp_path: Path) -> None:
    dom = tmp_path / "dom.xml"
    dom.write_text(GOOD.read_text().replace("</devices>", "<watchdog model='ib700'/></devices>"))
    dev = _device(tmp_path, "wd", "<watchdog model='i6300esb'/>")
    found = domlint.attach_check(dom, dev)
    assert [(f.rule_id, f.path, f.line) for f in found] == [("attach-single-exists", str(dev), 1)]
