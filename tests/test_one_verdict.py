"""One verdict: whatever `check` passes, `argv` builds, under the same target, capabilities, host and start."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from conftest import CONFORMANCE, CONFORMANCE_9, REPO, run_cli

sys.path.insert(0, str(REPO / "tools"))

import one_verdict

from domlint import host as hostmod
from domlint.cpu import load_map, target_map
from domlint.errors import InputError
from domlint.target import resolve

DOMAIN = """<domain type='qemu'><name>g</name><memory>219136</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>{cpu}
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator>{devices}</devices></domain>
"""


def write(tmp_path: Path, cpu: str = "", devices: str = "") -> str:
    path = tmp_path / "g.xml"
    path.write_text(DOMAIN.format(cpu=cpu, devices=devices))
    return str(path)


# What only a real host knows, and argv asks for by its profile key.
HOST_KEYS_128 = {"storage_pools", "secrets", "scsi_generic", "cpu"}
HOST_KEYS_9 = {"cpu", "cpu_map_dir", "driver.fd_groups", "driver.hugetlbfs", "fs_root", "networks", "scsi_generic",
               "secrets", "storage_pools", "usb_devices"}
NO_CORPUS_9 = pytest.mark.skipif(not CONFORMANCE_9.is_dir() and os.environ.get("CI") != "true",
                                 reason="the libvirt 9.0 conformance corpus (../shared/conformance/libvirt-9.0) "
                                        "is not beside the clone")


@pytest.mark.parametrize(("argv", "min_passed", "host_keys"), [
    pytest.param([str(CONFORMANCE / "manifest.json")], 1500, HOST_KEYS_128, id="1.2.8"),
    pytest.param(["--libvirt", "9.0", "--only", "corpus", "--manifest", str(CONFORMANCE_9 / "manifest.json")],
                 5000, HOST_KEYS_9, id="9.0", marks=NO_CORPUS_9),
])
@pytest.mark.corpus
def test_every_public_domain_check_passes_argv_builds_or_names_the_host_key(
        argv: list[str], min_passed: int, host_keys: set[str], capsys: pytest.CaptureFixture[str]) -> None:
    # The tool as a user runs it: each distinct corpus domain, under the default host and every built-in
    # profile of the target and none.
    assert one_verdict.main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    summary = dict(part.rsplit(" ", 1) for part in lines[-1].split("; "))
    assert summary["refused"] == "0", lines
    assert int(summary["passed"]) > min_passed
    assert int(summary["built"]) + int(summary["host fact"]) == int(summary["passed"])
    keys = {line.split("`")[1] for line in lines[:-1]}
    assert keys <= host_keys, lines


def test_a_guest_cpu_model_builds_without_a_host_profile(tmp_path: Path) -> None:
    path = write(tmp_path, "<cpu match='exact'><model>Nehalem</model><feature policy='require' name='x2apic'/></cpu>")
    res = run_cli("argv", "--libvirt", "1.2.8", "--format", "json", path)
    assert res.returncode == 0, res.stderr
    assert '"-cpu", "Nehalem,+x2apic"' in res.stdout


def test_a_model_the_cpu_map_lacks_is_a_finding_not_an_argv_refusal(tmp_path: Path) -> None:
    path = write(tmp_path, "<cpu match='exact'><model>NoSuchCPU</model></cpu>")
    for command in ("check", "argv"):
        res = run_cli(command, "--libvirt", "1.2.8", path)
        assert res.returncode == 1, res.stderr
        assert "[cpu-model-not-in-map]" in res.stdout + res.stderr


def test_host_model_without_a_host_cpu_names_the_profile_key(tmp_path: Path) -> None:
    path = write(tmp_path, "<cpu mode='host-model'/>")
    res = run_cli("argv", "--libvirt", "1.2.8", path)
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "add `cpu` to the host profile" in res.stderr, res.stderr


def test_both_layouts_of_the_cpu_map_read_the_same_bits() -> None:
    old = load_map(str(target_map(resolve("1.2.8").folder)))
    new = load_map(str(target_map(resolve("9.0").folder)))
    assert str(target_map(resolve("9.0").folder)).endswith("cpu_map/index.xml")
    for name in ("fpu", "sse2", "lahf_lm", "x2apic"):
        assert old.features[name] == new.features[name], name
    assert "Conroe" in old.models and "Conroe" in new.models
    # Features named in one of 9.0's files are resolved across its includes; MSR features are read too.
    assert new.models["Haswell"] > new.features["avx2"]
    assert any(reg.startswith("msr-") for _, reg, _ in new.features["rdctl-no"])


def test_a_host_profile_may_name_a_cpu_map_folder(tmp_path: Path) -> None:
    folder = Path(resolve("9.0").folder) / "cpu_map"
    (tmp_path / "host.yaml").write_text(f"name: h\ncpu_map: {folder}\n")
    assert hostmod.load(tmp_path / "host.yaml").cpu_map == str(folder)
    (tmp_path / "bad.yaml").write_text(f"name: h\ncpu_map: {tmp_path}\n")
    with pytest.raises(InputError, match=r"nor a folder with an index\.xml"):
        hostmod.load(tmp_path / "bad.yaml")


@pytest.mark.parametrize(("options", "rule"), [
    (["--incoming", "stdio"], "migration-incoming-stdio-no-fd"),
    (["--incoming", "rdma:10.0.0.1:4444"], "migration-incoming-protocol-unknown"),
    (["--incoming", "unix:/run/in.sock", "--caps", "migrate-qemu-tcp"], "migration-incoming-unix-unsupported"),
])
def test_incoming_is_checked_by_check_and_argv_alike(options: list[str], rule: str) -> None:
    good = str(REPO / "examples" / "guest-good.xml")
    for command in ("check", "argv"):
        res = run_cli(command, "--libvirt", "1.2.8", *options, good)
        assert res.returncode == 1, res.stderr
        assert f"[{rule}]" in res.stdout + res.stderr
    # Without --incoming a plain start is judged: no migration rule runs.
    assert run_cli("check", "--libvirt", "1.2.8", good).returncode == 0


def test_stdio_is_built_on_the_descriptor_given() -> None:
    res = run_cli("argv", "--libvirt", "1.2.8", "--format", "line", "--incoming", "stdio", "--incoming-fd", "7",
                  str(REPO / "examples" / "guest-good.xml"))
    assert res.returncode == 0, res.stderr
    assert " -incoming fd:7 " in res.stdout and "fd:-1" not in res.stdout


def test_a_negative_incoming_fd_is_a_usage_error() -> None:
    res = run_cli("check", "--incoming", "stdio", "--incoming-fd", "-1", str(REPO / "examples" / "guest-good.xml"))
    assert res.returncode == 2 and "not a file descriptor number" in res.stderr


def test_a_max_sectors_libvirt_only_logs_is_a_warning_and_left_out(tmp_path: Path) -> None:
    path = write(tmp_path, devices="<controller type='scsi' index='0' model='virtio-scsi'>"
                                   "<driver max_sectors='lots' queues='2'/></controller>")
    res = run_cli("check", "--libvirt", "1.2.8", path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "warning [controller-driver-max-sectors-malformed]" in res.stdout
    argv = run_cli("argv", "--libvirt", "1.2.8", "--format", "line", path)
    assert argv.returncode == 0, argv.stderr
    assert "virtio-scsi-pci,id=scsi0,num_queues=2," in argv.stdout and "max_sectors" not in argv.stdout


def test_a_usb_host_device_with_nothing_to_find_it_by_is_built_as_missing(tmp_path: Path) -> None:
    path = write(tmp_path, devices="<hostdev mode='subsystem' type='usb'><source/></hostdev>")
    res = run_cli("argv", "--libvirt", "1.2.8", "--format", "json", path)
    assert res.returncode == 0, res.stderr
    assert '"usb-host,id=hostdev0"' in res.stdout


def test_the_first_disk_target_with_a_dev_is_the_one_read(tmp_path: Path) -> None:
    disk = ("<disk type='file' device='disk'><source file='/a.img'/><target bus='ide'/>"
            "<target dev='hda' bus='ide'/></disk>")
    res = run_cli("argv", "--libvirt", "1.2.8", "--caps", "name", "--format", "json", write(tmp_path, devices=disk))
    assert res.returncode == 0, res.stderr
    assert '"-hda", "/a.img"' in res.stdout
