"""`domlint argv` and `domlint.emit`: formats, refusal with findings, host profiles."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from conftest import REPO, run_cli
from emit_helpers import HOST, domain

import domlint

GOOD = REPO / "examples" / "guest-good.xml"
BAD = REPO / "examples" / "guest-bad.xml"


def test_lines_format_is_readable_and_pastes_back_as_the_same_words() -> None:
    res = run_cli("argv", str(GOOD))
    assert res.returncode == 0, res.stderr
    lines = res.stdout.rstrip("\n").split(" \\\n")
    assert lines[0] == "LC_ALL=C"
    assert any(line.startswith("-machine ") for line in lines)
    words = json.loads(run_cli("argv", "--format", "json", str(GOOD)).stdout)
    assert shlex.split(res.stdout.replace("\\\n", "")) == words


def test_json_is_a_list_of_strings_and_line_joins_them() -> None:
    words = json.loads(run_cli("argv", "--format", "json", str(GOOD)).stdout)
    assert isinstance(words, list) and all(isinstance(w, str) for w in words)
    assert "/usr/bin/qemu-system-x86_64" in words
    assert run_cli("argv", "--format", "line", str(GOOD)).stdout == " ".join(words) + "\n"


def test_domain_with_errors_is_refused_with_its_findings() -> None:
    res = run_cli("argv", str(BAD))
    assert res.returncode == 1
    assert res.stdout == ""
    assert "[disk-ide-readonly]" in res.stderr and "not emitted" in res.stderr


def test_capability_options_change_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "plain.xml"
    path.write_text(domain())
    old = run_cli("argv", "--format", "json", "--caps", "name,uuid", str(path))
    assert old.returncode == 0, old.stderr
    words = json.loads(old.stdout)
    assert "-M" in words and "-machine" not in words
    new = json.loads(run_cli("argv", "--format", "json", "--caps-profile", "qemu-1.6.0", str(path)).stdout)
    assert "-machine" in new and "-M" not in new


def test_bad_host_profile_names_file_line_and_field(tmp_path: Path) -> None:
    host = tmp_path / "host.yaml"
    host.write_text("name: x\ndriver:\n  vnc_tls: maybe\n")
    res = run_cli("argv", "--host", str(host), str(GOOD))
    assert res.returncode == 2
    assert f"{host}:3:" in res.stderr and "driver.vnc_tls" in res.stderr
    assert "Traceback" not in res.stderr


def test_unknown_host_profile_key_is_refused(tmp_path: Path) -> None:
    host = tmp_path / "host.yaml"
    host.write_text("name: x\nhugepages: []\n")
    res = run_cli("argv", "--host", str(host), str(GOOD))
    assert res.returncode == 2 and "hugepages" in res.stderr


PCI_HOSTDEV = ("<hostdev mode='subsystem' type='pci' managed='yes'><source>"
               "<address domain='0x0000' bus='0x06' slot='0x12' function='0x5'/></source></hostdev>")


def test_pci_hostdev_without_driver_needs_a_backend_from_the_host() -> None:
    xml = domain(PCI_HOSTDEV)
    caps = {"device", "pci-multibus", "kvm", "vfio-pci"}
    no_backend = domlint.host.from_dict("bare", {**HOST.raw, "pci_backend": None})
    with pytest.raises(domlint.Refused) as refused:
        domlint.emit(xml, caps=caps, host=no_backend)
    assert any("hostdev" in f.rule_id for f in refused.value.findings)
    assert domlint.emit(xml, caps=caps, host=HOST).words()
    # A profile that does not say which backend the host has is not a host without one.
    unknown = domlint.host.from_dict("bare", {k: v for k, v in HOST.raw.items() if k != "pci_backend"})
    assert domlint.emit(xml, caps=caps, host=unknown).words()


def test_shipped_host_profiles_validate() -> None:
    for path in (REPO / "domlint" / "data").glob("host-*.yaml"):
        assert domlint.host.load(path).guests


def test_argv_reads_the_capability_source_from_configuration(tmp_path: Path) -> None:
    path = tmp_path / "plain.xml"
    path.write_text(domain())
    (tmp_path / ".domlint.yaml").write_text("caps: [name, uuid]\n")
    words = json.loads(run_cli("argv", "--format", "json", str(path)).stdout)
    assert "-M" in words and "-machine" not in words
    # Options win over the configuration, and --no-config ignores it.
    assert "-machine" in json.loads(run_cli("argv", "--format", "json", "--caps-profile", "qemu-1.6.0",
                                            str(path)).stdout)
    assert "-machine" in json.loads(run_cli("argv", "--format", "json", "--no-config", str(path)).stdout)
