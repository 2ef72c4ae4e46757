"""Each target's own conformance cases must reach libvirt's verdict, unless on that corpus's ratchet list."""

from __future__ import annotations

import json
import sys

import pytest
from conftest import CONFORMANCE, CORPORA, REPO, skip_module_without_corpora

sys.path.insert(0, str(REPO / "tests" / "conformance"))
import run as runner

skip_module_without_corpora()
MANIFEST = CONFORMANCE / "manifest.json"
CASES = {t: json.loads((root / "manifest.json").read_text())["cases"] for t, root in CORPORA.items()}
RATCHETS = {t: runner.load_ratchet(runner.ratchet_path(t)) for t in CORPORA}
HOSTS = {t: runner.anchor_host(runner.hostmod.load(runner.HOSTS[t]), root) for t, root in CORPORA.items()}


def _param(target: str, case: dict) -> object:
    marks = []
    if case["id"] in RATCHETS[target]:
        marks.append(pytest.mark.xfail(strict=True, reason=RATCHETS[target][case["id"]]))
    return pytest.param(target, case, id=f"{target}/{case['id']}", marks=marks)


@pytest.mark.parametrize(("target", "case"), [_param(t, c) for t, cases in CASES.items() for c in cases])
def test_case(target: str, case: dict) -> None:
    result = runner.run_case(CORPORA[target], case, HOSTS[target], target)
    assert result.passed, f"expected {case['expect']}, got {result.verdict}: {result.detail}"


@pytest.mark.parametrize("target", list(CORPORA))
def test_ratchet_names_only_real_cases(target: str) -> None:
    ids = {c["id"] for c in CASES[target]}
    assert set(RATCHETS[target]) <= ids, sorted(set(RATCHETS[target]) - ids)
    assert all(reason.strip() for reason in RATCHETS[target].values())


def test_runner_summary_and_results(tmp_path) -> None:
    import subprocess

    proc = subprocess.run([sys.executable, str(REPO / "tests" / "conformance" / "run.py"), str(MANIFEST),
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=600)
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("argv ") and "; rejected " in last and "; false errors 0/" in last, last
    results = json.loads((tmp_path / "results.json").read_text())
    assert len(results) == len(CASES["1.2.8"])
    assert {"id", "expect", "verdict", "rules"} <= set(results[0])


def test_runner_accepts_expect_valid(tmp_path) -> None:
    # Any manifest of the same layout works, `expect: valid` included.
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "ok.xml").write_text((REPO / "examples" / "guest-good.xml").read_text())
    (tmp_path / "cases" / "bad.xml").write_text((REPO / "examples" / "guest-bad.xml").read_text())
    manifest = {"cases": [
        {"id": "ok", "name": "ok", "expect": "valid", "caps": ["drive", "device", "drive-aio", "kvm"], "xml": "cases/ok.xml",
         "args": None, "settings": {}},
        {"id": "bad", "name": "bad", "expect": "failure", "caps": ["drive", "device", "drive-readonly", "kvm"],
         "xml": "cases/bad.xml", "args": None, "settings": {}},
    ]}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    code = runner.main([str(tmp_path / "manifest.json"), "--out", str(tmp_path / "out")])
    results = {r["id"]: r for r in json.loads((tmp_path / "out" / "results.json").read_text())}
    assert code == 0
    assert results["ok"]["verdict"] == "valid" and results["bad"]["verdict"] == "rejected"
    assert "disk-ide-readonly" in results["bad"]["rules"]


def test_ratchet_flags_a_listed_case_that_passes(tmp_path, capsys) -> None:
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "bad.xml").write_text((REPO / "examples" / "guest-bad.xml").read_text())
    manifest = {"cases": [{"id": "bad", "name": "bad", "expect": "failure", "xml": "cases/bad.xml",
                           "caps": ["drive", "device", "drive-readonly", "kvm"], "args": None, "settings": {}}]}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    ratchet = tmp_path / "ratchet.yaml"
    ratchet.write_text("cases:\n  bad: not rejected yet\n")
    assert runner.main([str(tmp_path / "manifest.json"), "--ratchet", str(ratchet)]) == 1
    assert "UNEXPECTED PASS bad" in capsys.readouterr().out
    ratchet.write_text("cases: {}\n")
    assert runner.main([str(tmp_path / "manifest.json"), "--ratchet", str(ratchet)]) == 0


def test_runner_compares_command_lines_word_for_word(tmp_path, capsys) -> None:
    (tmp_path / "cases").mkdir()
    src = CONFORMANCE / "cases" / "minimal.xml"
    (tmp_path / "cases" / "m.xml").write_text(src.read_text())
    real = (CONFORMANCE / "cases" / "minimal.args").read_text()
    (tmp_path / "cases" / "good.args").write_text(real)
    (tmp_path / "cases" / "bad.args").write_text(real.replace("-m 214", "-m 215"))
    manifest = {"cases": [
        {"id": i, "name": i, "expect": "argv", "caps": ["name"], "xml": "cases/m.xml", "args": f"cases/{i}.args",
         "settings": {}, "migrate_from": None, "migrate_fd": -1} for i in ("good", "bad")]}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "host").symlink_to(CONFORMANCE / "host")
    assert runner.main([str(tmp_path / "manifest.json"), "--ratchet", str(tmp_path / "none.yaml")]) == 1
    out = capsys.readouterr().out
    assert "FAIL bad (argv, got valid): argv differs at word" in out and "want '215 " in out
    assert "FAIL good" not in out
    assert out.strip().splitlines()[-1].startswith("argv 1/2 exact;")
