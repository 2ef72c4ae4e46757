"""Domains for another hypervisor are not judged: a note in every format, exit status 0, counted as skipped.

The QEMU driver of each target takes its own domain types (target.json `hypervisors`: 1.2.8 qemu, kqemu,
kvm; 9.0 qemu, kvm, hvf); a domain of any other type belongs to another libvirt driver, which domlint
does not model, so it says so instead of judging it as a QEMU guest.
"""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from conftest import REPO, run_cli

GOOD = REPO / "examples" / "guest-good.xml"

# What each driver's own tools write (virt-install, LXC, bhyve, Virtuozzo, the test driver, macOS HVF).
DOMAINS = {
    "xen": """<domain type='xen'>
  <name>xenvm</name>
  <memory unit='KiB'>1048576</memory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='x86_64' machine='xenfv'>hvm</type>
    <loader type='rom'>/usr/lib/xen/boot/hvmloader</loader>
    <boot dev='hd'/>
  </os>
  <features><acpi/><apic/><pae/></features>
  <devices>
    <emulator>/usr/lib/xen/bin/qemu-system-i386</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='/var/lib/xen/images/xenvm.img'/>
      <target dev='xvda' bus='xen'/>
    </disk>
    <interface type='bridge'>
      <source bridge='xenbr0'/>
      <script path='vif-bridge'/>
    </interface>
    <graphics type='vnc' port='-1' autoport='yes'/>
  </devices>
</domain>
""",
    "lxc": """<domain type='lxc'>
  <name>container1</name>
  <memory unit='KiB'>524288</memory>
  <os>
    <type>exe</type>
    <init>/sbin/init</init>
  </os>
  <vcpu>1</vcpu>
  <devices>
    <emulator>/usr/libexec/libvirt_lxc</emulator>
    <filesystem type='mount'>
      <source dir='/var/lib/lxc/container1/rootfs'/>
      <target dir='/'/>
    </filesystem>
    <interface type='network'>
      <source network='default'/>
    </interface>
    <console type='pty'/>
  </devices>
</domain>
""",
    "bhyve": """<domain type='bhyve'>
  <name>bhyve-guest</name>
  <memory unit='KiB'>2097152</memory>
  <vcpu>2</vcpu>
  <os>
    <type>hvm</type>
    <loader readonly='yes' type='pflash'>/usr/local/share/uefi-firmware/BHYVE_UEFI.fd</loader>
  </os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='file' type='raw'/>
      <source file='/vms/bhyve-guest.img'/>
      <target dev='hda' bus='sata'/>
    </disk>
    <interface type='bridge'>
      <model type='virtio'/>
      <source bridge='bridge0'/>
    </interface>
  </devices>
</domain>
""",
    "vz": """<domain type='vz'>
  <name>ct101</name>
  <memory unit='KiB'>1048576</memory>
  <vcpu>1</vcpu>
  <os>
    <type>exe</type>
    <init>/sbin/init</init>
  </os>
  <devices>
    <filesystem type='file'>
      <driver type='ploop' format='ploop'/>
      <source file='/vz/private/ct101/root.hdd'/>
      <target dir='/'/>
    </filesystem>
  </devices>
</domain>
""",
    "test": """<domain type='test'>
  <name>test</name>
  <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>
  <memory unit='KiB'>8388608</memory>
  <currentMemory unit='KiB'>2097152</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='i686'>hvm</type>
    <boot dev='hd'/>
  </os>
  <devices>
  </devices>
</domain>
""",
    "hvf": """<domain type='hvf'>
  <name>macvm</name>
  <memory unit='GiB'>2</memory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <boot dev='hd'/>
  </os>
  <devices>
    <emulator>/usr/local/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/Users/me/vms/macvm.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
""",
    "kqemu": """<domain type='kqemu'>
  <name>oldvm</name>
  <memory unit='MiB'>512</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='i686' machine='pc'>hvm</type>
  </os>
  <devices>
    <emulator>/usr/bin/qemu</emulator>
  </devices>
</domain>
""",
}

# The domain types each target's QEMU driver takes (target.json); every other one gets a note.
JUDGED = {"1.2.8": {"kqemu"}, "9.0": {"hvf"}}
TARGETS = list(JUDGED)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("foreign")
    out = {}
    for kind, text in DOMAINS.items():
        out[kind] = root / f"{kind}.xml"
        out[kind].write_text(text)
    return out


def _foreign(libvirt: str) -> list[str]:
    return [k for k in DOMAINS if k not in JUDGED[libvirt]]


def test_targets_agree_with_their_data() -> None:
    from domlint import target

    for name, judged in JUDGED.items():
        t = target.load(name)
        assert judged <= set(t.hypervisors) and not (set(DOMAINS) - judged) & set(t.hypervisors)


@pytest.mark.parametrize("libvirt", TARGETS)
def test_text_notes_exit_0(libvirt: str, files: dict[str, Path]) -> None:
    foreign = _foreign(libvirt)
    proc = run_cli("check", "--libvirt", libvirt, *(str(files[k]) for k in foreign))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines == [f"{files[k]}: note: domain type '{k}' is not judged: " + lines[i].split("is not judged: ", 1)[1]
                     for i, k in enumerate(foreign)]
    assert all("QEMU driver takes 'qemu'" in line for line in lines)
    assert f"{len(foreign)} files checked, 0 error(s), 0 warning(s), {len(foreign)} skipped" in proc.stderr
    assert f"target libvirt {libvirt}" in proc.stderr


@pytest.mark.parametrize("libvirt", TARGETS)
def test_every_format_shows_the_note(libvirt: str, files: dict[str, Path]) -> None:
    foreign = _foreign(libvirt)
    paths = [str(files[k]) for k in foreign] + [str(GOOD)]
    args = ("check", "--libvirt", libvirt, "-q", *paths)

    doc = json.loads(run_cli(*args[:-len(paths)], "--format", "json", *paths).stdout)
    assert [n["path"] for n in doc["notes"]] == paths[:-1]
    assert all("is not judged" in n["message"] for n in doc["notes"])
    assert doc["summary"]["skipped"] == len(foreign) and doc["summary"]["files"] == len(paths)
    assert doc["target"].startswith(f"libvirt {libvirt}")

    proc = run_cli(*args[:-len(paths)], "--format", "sarif", *paths)
    run = json.loads(proc.stdout)["runs"][0]
    notes = [n for n in run["invocations"][0]["toolExecutionNotifications"] if n["level"] == "note"]
    assert len(notes) == len(foreign) and run["invocations"][0]["executionSuccessful"]
    assert not any(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(f"{k}.xml")
                   for r in run["results"] for k in foreign)

    top = ET.fromstring(run_cli(*args[:-len(paths)], "--format", "junit", *paths).stdout)
    cases = {c.get("name"): c for c in top.iter("testcase")}
    for p in paths[:-1]:
        assert cases[p].find("skipped") is not None
        assert "is not judged" in cases[p].find("skipped").get("message")
    assert top.get("skipped") == str(len(foreign)) and top.get("failures") == "0"

    out = run_cli(*args[:-len(paths)], "--format", "github", *paths).stdout.splitlines()
    assert len(out) == len(foreign) and all(line.startswith("::notice file=") for line in out)

    for fmt in ("text", "json", "sarif", "junit", "github"):
        assert run_cli(*args[:-len(paths)], "--format", fmt, *paths).returncode == 0, fmt


@pytest.mark.parametrize("libvirt", TARGETS)
def test_the_driver_s_own_types_are_judged(libvirt: str, files: dict[str, Path]) -> None:
    for kind in JUDGED[libvirt]:
        doc = json.loads(run_cli("check", "--libvirt", libvirt, "-q", "--format", "json", str(files[kind])).stdout)
        assert doc["notes"] == [] and doc["caps_source"], kind


@pytest.mark.parametrize("libvirt", TARGETS)
def test_argv_prints_a_note_and_exits_0(libvirt: str, files: dict[str, Path]) -> None:
    for kind in ("xen", "lxc"):
        proc = run_cli("argv", "--libvirt", libvirt, str(files[kind]))
        assert proc.returncode == 0 and proc.stdout == ""
        assert proc.stderr == (f"{files[kind]}: note: domain type '{kind}' is not judged: "
                               f"{proc.stderr.split('is not judged: ', 1)[1]}")
        assert proc.stderr.endswith("; no QEMU command line\n") and proc.stderr.count("\n") == 1


@pytest.mark.parametrize("libvirt", TARGETS)
def test_attach_check_skips_the_domain_and_its_device(libvirt: str, files: dict[str, Path], tmp_path: Path) -> None:
    disk = tmp_path / "disk.xml"
    disk.write_text("<disk type='file' device='disk'><source file='/a.img'/><target dev='vdb' bus='virtio'/></disk>\n")
    proc = run_cli("attach-check", "--libvirt", libvirt, str(files["xen"]), str(disk))
    assert proc.returncode == 0
    assert proc.stdout.splitlines()[0].startswith(f"{files['xen']}: note: domain type 'xen' is not judged")
    assert proc.stdout.splitlines()[1].startswith(f"{disk}: note: not judged")
    assert "2 skipped" in proc.stderr
    # libvirt's test driver stands in for QEMU (`--connect test:///default`): attach-check judges its domains.
    doc = json.loads(run_cli("attach-check", "--libvirt", libvirt, "--format", "json", str(files["test"]),
                             str(disk)).stdout)
    assert doc["notes"] == [] and doc["caps_source"]


def test_python_api_skips_foreign_domains(files: dict[str, Path]) -> None:
    import domlint

    for libvirt in TARGETS:
        for kind in _foreign(libvirt):
            assert domlint.check(str(files[kind]), libvirt=libvirt) == []
