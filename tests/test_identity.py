"""A finding's identity survives edits: baselines and SARIF fingerprints key on the device as the
user names it (a disk's target, an interface's MAC, a controller's type and index...), not its position."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import REPO, run_cli
from lxml import etree

from domlint.identity import element_key

BAD = REPO / "examples" / "guest-bad.xml"
CLEAN_DISK = ("<disk type='file' device='disk'><source file='/var/lib/libvirt/images/new.qcow2'/>"
              "<target dev='vdb' bus='virtio'/></disk>")


def _guest(tmp_path: Path) -> Path:
    (tmp_path / "guests").mkdir()
    shutil.copy(BAD, tmp_path / "guests" / "web.xml")
    return tmp_path / "guests" / "web.xml"


def _add_clean_disk_on_top(path: Path) -> None:
    path.write_text(path.read_text().replace("<emulator>/usr/bin/qemu-system-x86_64</emulator>",
                                             "<emulator>/usr/bin/qemu-system-x86_64</emulator>\n    " + CLEAN_DISK))


def test_a_clean_disk_added_on_top_keeps_the_baseline(tmp_path: Path) -> None:
    web = _guest(tmp_path)
    assert run_cli("check", "--write-baseline", "baseline.json", "guests", cwd=tmp_path).returncode == 0
    _add_clean_disk_on_top(web)
    proc = run_cli("check", "--baseline", "baseline.json", "guests", cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (0, ""), proc.stdout
    assert "no longer found" not in proc.stderr
    # The disks moved one place down, so a positional key would have called all three new.
    every = json.loads(run_cli("check", "--format", "json", "guests", cwd=tmp_path).stdout)["findings"]
    assert sorted(f["xpath"] for f in every) == ["/domain/devices/disk[2]", "/domain/devices/disk[3]",
                                                 "/domain/devices/disk[4]"]


def test_sarif_fingerprints_survive_a_device_added_before(tmp_path: Path) -> None:
    web = _guest(tmp_path)

    def prints() -> dict[str, str]:
        doc = json.loads(run_cli("check", "--format", "sarif", "guests", cwd=tmp_path).stdout)
        return {r["ruleId"]: json.dumps(r["partialFingerprints"]) for r in doc["runs"][0]["results"]}

    before = prints()
    _add_clean_disk_on_top(web)
    assert prints() == before and len(before) == 3


def test_a_format_1_baseline_still_works_and_says_how_to_upgrade(tmp_path: Path) -> None:
    _guest(tmp_path)
    old = {"domlint-baseline": 1, "findings": [
        {"path": "guests/web.xml", "rule": rule, "xpath": f"/domain/devices/disk[{n}]", "message": "m"}
        for n, rule in ((1, "disk-io-native-cache"), (2, "disk-ide-readonly"), (3, "disk-lun-not-block"))]}
    (tmp_path / "baseline.json").write_text(json.dumps(old))
    proc = run_cli("check", "--baseline", "baseline.json", "guests", cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (0, ""), proc.stderr
    assert "format 1 baseline" in proc.stderr and "--write-baseline baseline.json" in proc.stderr
    assert "Traceback" not in proc.stderr


DOMAIN = """<domain type='kvm'><devices>
  <disk type='file' device='disk'><target dev='vda'/></disk>
  <interface type='network'><mac address='52:54:00:aa:bb:cc'/><source network='default'/></interface>
  <interface type='bridge'><alias name='ua-uplink'/><source bridge='br0'/></interface>
  <interface type='network'><source network='lab'/></interface>
  <controller type='usb' index='0'/>
  <controller type='pci' index='1' model='pci-bridge'/>
  <serial type='pty'><target port='0'/></serial>
  <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
  <hostdev mode='subsystem' type='pci'><source><address domain='0' bus='6' slot='0x12' function='5'/></source></hostdev>
  <filesystem type='mount'><source dir='/srv'/><target dir='srv'/></filesystem>
  <video><model type='qxl'/></video>
</devices></domain>"""


@pytest.mark.parametrize(("xpath", "key"), [
    ("/domain/devices/disk/target", "/domain/devices/disk[vda]/target"),
    ("/domain/devices/interface[1]", "/domain/devices/interface[52:54:00:aa:bb:cc]"),
    ("/domain/devices/interface[2]", "/domain/devices/interface[ua-uplink]"),
    ("/domain/devices/interface[3]", "/domain/devices/interface[network:lab]"),
    ("/domain/devices/controller[2]", "/domain/devices/controller[pci:1]"),
    ("/domain/devices/serial/target", "/domain/devices/serial[pty:0]/target"),
    ("/domain/devices/channel", "/domain/devices/channel[org.qemu.guest_agent.0]"),
    ("/domain/devices/hostdev", "/domain/devices/hostdev[pci:0:6:0x12.5]"),
    ("/domain/devices/filesystem", "/domain/devices/filesystem[srv]"),
    # Nothing names a video device but its model.
    ("/domain/devices/video/model", "/domain/devices/video[qxl]/model"),
])
def test_device_names(xpath: str, key: str) -> None:
    tree = etree.ElementTree(etree.fromstring(DOMAIN))
    assert element_key(tree.xpath(xpath)[0]) == key


def test_position_only_where_nothing_names_it() -> None:
    tree = etree.ElementTree(etree.fromstring(
        "<domain><devices><disk><source file='/a'/></disk><disk><target dev='vda'/></disk>"
        "<disk><target dev='vda'/></disk></devices></domain>"))
    keys = [element_key(d) for d in tree.xpath("/domain/devices/disk")]
    # No target: its position; the same target twice (what a rule reports): the name and its order.
    assert keys == ["/domain/devices/disk[1]", "/domain/devices/disk[vda#1]", "/domain/devices/disk[vda#2]"]
