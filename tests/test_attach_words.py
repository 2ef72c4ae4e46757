"""`domlint attach-check` takes the words of `virsh attach-device`: DOMAIN a file or a name, -c URI,
--config, --live, --persistent, --domain and --file; and every id a finding can carry can be looked up."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO, require_virsh, run_cli

GOOD = REPO / "examples" / "guest-good.xml"
TAKEN = "<disk type='file' device='disk'><source file='/x.img'/><target dev='vda' bus='virtio'/></disk>\n"
FREE = "<disk type='file' device='disk'><source file='/y.img'/><target dev='vdz' bus='virtio'/></disk>\n"


def _device(tmp_path: Path, text: str = TAKEN) -> str:
    path = tmp_path / "disk.xml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("flags", [["--config"], ["--persistent"], ["--config", "--live"], ["--current"], []])
def test_virsh_flags_after_the_files(flags: list[str], tmp_path: Path) -> None:
    proc = run_cli("attach-check", str(GOOD), _device(tmp_path), *flags)
    assert proc.returncode == 1, proc.stderr
    assert "error [attach-disk-target-used]" in proc.stdout
    assert run_cli("attach-check", str(GOOD), _device(tmp_path, FREE), *flags).returncode == 0


def test_virsh_command_line_with_a_domain_name(tmp_path: Path) -> None:
    require_virsh()
    # What a user types to virsh, with domlint attach-check in front.
    proc = run_cli("attach-check", "-c", "test:///default", "test", _device(tmp_path), "--config")
    assert proc.returncode == 1, proc.stderr
    assert "error [attach-disk-target-used]" in proc.stdout and "dumpxml:test:" in proc.stdout
    # virsh's option spellings of the same thing.
    proc = run_cli("attach-check", "--connect", "test:///default", "--domain", "test", "--file", _device(tmp_path),
                   "--persistent")
    assert proc.returncode == 1 and "attach-disk-target-used" in proc.stdout
    # --live alone reads the running definition: virsh dumpxml without --inactive.
    # The free disk's target is free in the running definition too. What else is reported is the test
    # driver's own definition judged as a QEMU guest (a NIC on the PIIX3's slot, a disk on a bus no
    # bridge provides, so that 1.2.8 places the new disk on slot 0 of that bus), which QEMU refuses too.
    live = run_cli("attach-check", "-c", "test:///default", "test", _device(tmp_path, FREE), "--live")
    assert live.returncode in (0, 1), live.stderr
    assert "[attach-" not in live.stdout, live.stdout


def test_domain_name_without_virsh_says_both_readings_failed(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    proc = run_cli("attach-check", "web1", _device(tmp_path), env={"PATH": str(empty)})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "web1: no such file; read as a domain name it needs virsh" in proc.stderr


def test_config_is_virsh_switch_and_config_file_names_the_configuration(tmp_path: Path) -> None:
    cfg = tmp_path / "domlint.yaml"
    cfg.write_text("ignore: [attach-disk-target-used]\n")
    assert run_cli("attach-check", "--config-file", str(cfg), str(GOOD), _device(tmp_path), "--config").returncode == 0
    # domlint's old spelling, --config FILE, gets a message saying what to write instead.
    proc = run_cli("attach-check", "--config", str(cfg), str(GOOD), _device(tmp_path))
    assert proc.returncode == 2 and "--config-file" in proc.stderr and "Traceback" not in proc.stderr
    # check and argv take --config-file too, so one spelling works everywhere.
    assert run_cli("check", "--config-file", str(cfg), str(GOOD)).returncode == 0


@pytest.mark.parametrize("rule_id", ["attach-disk-target-used", "attach-address-used", "domlint-suppression-reason",
                                     "domlint-suppression-unused"])
def test_rules_show_knows_built_in_ids(rule_id: str) -> None:
    proc = run_cli("rules", "show", rule_id)
    assert proc.returncode == 0, proc.stderr
    assert f"- id: {rule_id}" in proc.stdout and "built in" in proc.stdout


def test_rules_show_knows_every_id_a_finding_can_carry() -> None:
    from domlint.builtin import builtins
    from domlint.commands.rules import _find
    from domlint.engine import load_engine

    for target in ("1.2.8", "9.0"):
        engine = load_engine(target=target)
        for rid in engine.by_id:
            assert _find(engine, rid).id == rid
    from domlint import attach, suppress

    assert set(attach.REFUSAL_IDS) | set(suppress.META_RULES) <= set(builtins())
    # A parse-stage vocabulary id is a rule like any other.
    vocab = run_cli("rules", "show", "--libvirt", "9.0", "vocab-os-type")
    assert vocab.returncode == 0 and "vocab-os-type" in vocab.stdout
