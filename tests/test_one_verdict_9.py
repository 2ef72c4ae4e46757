"""One verdict under libvirt 9.0: whatever `check` passes, `argv` builds, or names the host profile key it needs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import CONFORMANCE_9, REPO, run_cli

sys.path.insert(0, str(REPO / "tools"))

import one_verdict
from test_one_verdict import HOST_KEYS_9

from domlint import caps as capsmod

pytestmark = pytest.mark.libvirt("9.0")

DOMAIN = """<domain type='kvm'><name>g</name><memory>1048576</memory>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>{cpu}{memory}
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator>{devices}</devices></domain>
"""


def write(tmp_path: Path, cpu: str = "", memory: str = "", devices: str = "") -> str:
    path = tmp_path / "g.xml"
    path.write_text(DOMAIN.format(cpu=cpu, memory=memory, devices=devices))
    return str(path)


def test_realworld_and_examples_check_passes_argv_builds_or_names_the_host_key(
        capsys: pytest.CaptureFixture[str]) -> None:
    # Every real-world domain and example, under the default host and every built-in 9.0 profile and none.
    files = one_verdict.domains("realworld") + one_verdict.domains("examples")
    tally = one_verdict.measure(files, one_verdict.hostmod.default_host(), libvirt="9.0")
    assert tally.refused_count == 0, dict(tally.refused)
    assert tally.passed > 300 and tally.built + sum(tally.host_fact.values()) == tally.passed
    assert set(tally.host_fact) <= HOST_KEYS_9, tally.host_fact


def test_host_model_builds_from_a_built_in_profile_without_a_host_profile(tmp_path: Path) -> None:
    path = write(tmp_path, cpu="<cpu mode='host-model'/>")
    res = run_cli("argv", "--libvirt", "9.0", "--caps-profile", "qemu-7.2.50-x86_64", "--format", "json", path)
    assert res.returncode == 0, res.stderr
    # QEMU 7.2.50's capability file says its KVM host CPU decodes to EPYC-Rome.
    assert '"-cpu", "EPYC-Rome,' in res.stdout


def test_a_profile_carries_what_its_capability_file_says_for_the_command_line() -> None:
    caps_file = CONFORMANCE_9 / "qemu-caps" / "caps_8.0.0.x86_64.xml"
    if not caps_file.is_file():
        pytest.skip("the libvirt 9.0 conformance corpus is not beside the clone")
    from_file = capsmod.from_file(caps_file, "9.0", warn=lambda m: None)
    profile = capsmod.from_profile("qemu-7.2.50-x86_64", "9.0")
    assert profile.argv_facts == from_file.argv_facts
    assert profile.argv_facts is not None and profile.argv_facts["host_models"]["kvm"] == "base"
    # Flags added or taken away keep the facts.
    assert profile.with_flags("tcg").argv_facts is profile.argv_facts


def test_a_flag_list_has_no_host_cpu_and_argv_names_the_profile_key(tmp_path: Path) -> None:
    path = write(tmp_path, cpu="<cpu mode='host-model'/>")
    res = run_cli("argv", "--libvirt", "9.0", "--caps", "kvm", path)
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "add `cpu` to the host profile (--host)" in res.stderr, res.stderr


def test_default_hugepages_use_the_default_mount_and_1g_pages_name_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, memory="<memoryBacking><hugepages/></memoryBacking>")
    res = run_cli("argv", "--libvirt", "9.0", path)
    assert res.returncode == 0, res.stderr
    assert "/dev/hugepages/libvirt/qemu/" in res.stdout
    path = write(tmp_path, memory="<memoryBacking><hugepages><page size='1' unit='GiB'/></hugepages></memoryBacking>")
    res = run_cli("argv", "--libvirt", "9.0", path)
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "add `driver.hugetlbfs` to the host profile" in res.stderr, res.stderr


def test_a_usb_device_by_vendor_is_found_in_the_host_profile(tmp_path: Path) -> None:
    usb = ("<hostdev mode='subsystem' type='usb'><source><vendor id='0x046d'/><product id='0xc52b'/></source>"
           "</hostdev>")
    path = write(tmp_path, devices=usb)
    res = run_cli("argv", "--libvirt", "9.0", path)
    assert res.returncode == 2 and "add `usb_devices` to the host profile" in res.stderr, res.stderr
    host = tmp_path / "host.yaml"
    host.write_text("usb_devices:\n  - {vendor: '0x046d', product: '0xc52b', bus: 3, device: 7}\n")
    res = run_cli("argv", "--libvirt", "9.0", "--host", str(host), "--format", "line", path)
    assert res.returncode == 0, res.stderr
    assert "hostdevice" in res.stdout and "/dev/bus/usb/003/007" in res.stdout
    host.write_text("usb_devices: []\n")
    res = run_cli("argv", "--libvirt", "9.0", "--host", str(host), path)
    assert res.returncode == 2 and "Did not find USB device 46d:c52b" in res.stderr, res.stderr


def test_a_secret_the_host_profile_does_not_list_names_the_key(tmp_path: Path) -> None:
    disk = ("<disk type='network' device='disk'><source protocol='rbd' name='pool/image'>"
            "<host name='mon.example'/></source><auth username='admin'>"
            "<secret type='ceph' uuid='457eb676-33da-42ec-9a8c-9293d545c337'/></auth>"
            "<target dev='vda' bus='virtio'/></disk>")
    res = run_cli("argv", "--libvirt", "9.0", write(tmp_path, devices=disk))
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "add `secrets` to the host profile" in res.stderr, res.stderr
