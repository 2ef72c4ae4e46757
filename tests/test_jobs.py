"""`check -j N`: the same report, byte for byte and in the same order, as `-j 1`."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import CONFORMANCE, REPO, USER_RULE, require_corpora, run_cli

from domlint import cli, jobs
from domlint.checker import Checker, Options
from domlint.errors import DomlintError
from domlint.formats import names as format_names

CASES = CONFORMANCE / "cases"

# Corpus files each of which draws a finding under every capability (checked without a host profile).
WITH_FINDINGS = ("boot-dev+order", "pci-root-address", "seclabel-multiple", "smbios-date", "tpm-no-backend-invalid",
                 "usb-none-hub", "usb-ich9-no-companion", "pci-bridge-negative-index-invalid")

BROKEN = {
    "c-not-well-formed.xml": b"<domain type='kvm'><name>x</name>\n<devices>\n</domain>\n",
    "g-nul.xml": b"<domain type='kvm'>\n<name>a\x00b</name></domain>\n",
    "k-empty.xml": b"",
    "p-wrong-root.xml": b"<network><name>n</name></network>\n",
    "t-latin1.xml": b"<domain type='kvm'><name>caf\xe9</name></domain>\n",
}


def _corpus() -> list[Path]:
    every = sorted(CASES.glob("*.xml"))
    return every[::9] + [CASES / f"{name}.xml" for name in WITH_FINDINGS]


def _suppressed(text: str, element: str, comment: str) -> str:
    """text with comment inserted just before the first <element."""
    at = text.index(f"<{element}")
    return text[:at] + f"<!-- {comment} -->\n" + text[at:]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Good, bad, broken and suppressed domains; a directory with its own configuration and rules, one with a broken one."""
    require_corpora()
    root = tmp_path_factory.mktemp("jobs")
    plain, team, badconf = root / "guests" / "plain", root / "guests" / "team", root / "guests" / "zz-badconf"
    for d in (plain, team / "legacy", badconf):
        d.mkdir(parents=True)
    files = _corpus()
    for i, src in enumerate(files):
        shutil.copy(src, (team if i % 3 == 0 else plain) / src.name)
    for name, data in BROKEN.items():
        (plain / name).write_bytes(data)
    tpm = (CASES / "tpm-no-backend-invalid.xml").read_text()
    (plain / "tpm-suppressed.xml").write_text(_suppressed(tpm, "tpm", "domlint: ignore tpm-no-backend - fixture"))
    (team / "tpm-no-reason.xml").write_text(_suppressed(tpm, "tpm", "domlint: ignore tpm-no-backend"))
    (team / "tpm-unused.xml").write_text(_suppressed(tpm, "tpm", "domlint: ignore tpm-no-backend, disk - fixture"))
    shutil.copy(CASES / "seclabel-multiple.xml", team / "legacy" / "old.xml")
    shutil.copy(CASES / "smbios-date.xml", badconf / "a.xml")
    shutil.copy(CASES / "minimal.xml", badconf / "b.xml")
    (team / "site-rules").mkdir()
    (team / "site-rules" / "site.yaml").write_text(USER_RULE)
    (team / ".domlint.yaml").write_text(
        "rules: [site-rules]\n"
        "severity: {controller: warning}\n"
        "per-path-ignores: {'legacy/**': [seclabel]}\n"
    )
    (badconf / ".domlint.yaml").write_text("no-such-key: 1\n")
    (root / "cli-rules").mkdir()
    (root / "cli-rules" / "site.yaml").write_text(USER_RULE.replace("severity: warning", "severity: info"))
    (root / "extra.xml").write_text((REPO / "examples" / "guest-bad.xml").read_text())
    return root


PATHS = ("guests", "missing.xml", "extra.xml")


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Exit status, standard output and standard error of `domlint ARGS`, in this process."""
    code = cli.main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def _same_for_all_jobs(capsys: pytest.CaptureFixture[str], *args: str, counts: tuple[str, ...] = ("2", "3")
                       ) -> tuple[int, str, str]:
    """Run `check ARGS` with -j 1 and each of counts; assert identical results and return them."""
    first = _run(capsys, "check", "-j", "1", *args)
    for n in counts:
        assert _run(capsys, "check", "-j", n, *args) == first, f"-j {n} differs from -j 1"
    return first


@pytest.mark.parametrize("fmt", format_names())
def test_every_format_is_identical(fmt: str, tree: Path, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree)
    code, out, err = _same_for_all_jobs(capsys, "--format", fmt, *PATHS)
    assert code == 2  # a missing path, broken files and a broken configuration among the good ones
    assert out
    if fmt == "json":
        doc = json.loads(out)
        rules = {f["rule_id"] for f in doc["findings"]}
        # Each ingredient is really there: built-in and configured rules, suppressions, per-directory settings.
        assert {"disk-needs-serial", "domlint-suppression-reason", "tpm-no-backend"} <= rules
        assert not any(f["path"].endswith("tpm-suppressed.xml") for f in doc["findings"])
        assert not any(f["path"].endswith("legacy/old.xml") and f["rule_id"].startswith("seclabel")
                       for f in doc["findings"])
        assert any(f["rule_id"].startswith("controller") and f["severity"] == "warning" for f in doc["findings"])
        broken = [e["path"] for e in doc["errors"]]
        assert "missing.xml" in broken and any(p.endswith("zz-badconf/.domlint.yaml") for p in broken)
        # p-wrong-root.xml holds a <network>: a directory search passes it by (tests/test_discovery.py).
        assert sum(p.endswith(tuple(BROKEN)) for p in broken) == len(BROKEN) - 1
    if fmt == "text":
        assert "missing.xml: no such file or directory" in err


@pytest.mark.parametrize("extra", [
    ("--report-unused-suppressions", "--fail-on", "warning", "--no-hints"),
    ("--rules", "cli-rules", "--format", "sarif"),
    ("--no-inline-suppressions", "--ignore", "disk", "--format", "junit"),
    ("--no-config", "--caps-profile", "1.2.2", "--format", "github"),
], ids=["unused-suppressions", "cli-rules", "no-suppressions", "no-config"])
def test_options_are_identical(extra: tuple[str, ...], tree: Path, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree)
    code, out, _ = _same_for_all_jobs(capsys, *extra, *PATHS, counts=("2",))
    assert code in (1, 2) and out


def test_only_good_files_exit_1_for_every_job_count(tree: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree)
    code, out, err = _same_for_all_jobs(capsys, "guests/team", counts=("2",))
    assert code == 1 and "[disk-needs-serial]" in out and "unusable" not in err


def test_baselines_are_identical(tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree)
    written = {}
    target = tmp_path / "baseline.json"
    for n in ("1", "2"):
        run = _run(capsys, "check", "-j", n, "--write-baseline", str(target), "guests/plain", "guests/team")
        written[n] = (*run, target.read_bytes())
    assert written["1"] == written["2"]
    assert json.loads(written["1"][3])["findings"]
    # A baseline of one directory: the other's findings are new, and those of the first are known.
    base = tmp_path / "team.json"
    assert _run(capsys, "check", "--write-baseline", str(base), "guests/team")[0] == 0
    code, out, err = _same_for_all_jobs(capsys, "--baseline", str(base), "--format", "json", "guests", counts=("2",))
    paths = {f["path"] for f in json.loads(out)["findings"]}
    assert paths and not any(p.startswith("guests/team/") for p in paths)
    assert code == 2 and "files checked" in err


def test_broken_rule_pack_stops_every_run_alike(tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "w"
    shutil.copytree(tree / "guests", work / "guests")
    (work / "guests" / "team" / "site-rules" / "site.yaml").write_text("rules:\n  - id: Bad Id\n")
    monkeypatch.chdir(work)
    code, out, err = _same_for_all_jobs(capsys, "guests", counts=("2",))
    assert code == 2 and out == "" and "site.yaml" in err


@pytest.mark.parametrize("value", ["0", "auto", "7"])
def test_auto_and_large_counts(value: str, tree: Path, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree)
    assert _run(capsys, "check", "-j", value, *PATHS) == _run(capsys, "check", *PATHS)


def test_parse_jobs() -> None:
    assert jobs.parse_jobs("3") == 3
    assert jobs.parse_jobs("0") == jobs.parse_jobs("auto") == jobs.parse_jobs(" AUTO") == (os.cpu_count() or 1)


@pytest.mark.parametrize("value", ["-1", "x", "1.5", "", "2 3", "0x2", "9999999"])
def test_invalid_job_count_is_a_usage_error(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["check", "-j", value, str(REPO / "examples" / "guest-good.xml")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "-j/--jobs" in err and "Traceback" not in err


def test_cli_in_a_fresh_process(tree: Path) -> None:
    one = run_cli("check", "-j", "1", "--format", "sarif", *PATHS, cwd=tree)
    two = run_cli("check", "-j", "2", "--format", "sarif", *PATHS, cwd=tree)
    assert (one.returncode, one.stdout, one.stderr) == (two.returncode, two.stdout, two.stderr)
    assert one.returncode == 2 and "Traceback" not in two.stderr
    bad = run_cli("check", "--jobs", "many", "examples/guest-good.xml")
    assert bad.returncode == 2 and "--jobs" in bad.stderr and "Traceback" not in bad.stderr


def test_help_documents_jobs(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["check", "--help"])
    text = capsys.readouterr().out
    assert "-j N, --jobs N" in text and "auto" in text


def _die(options: Options, paths: list[Path]) -> jobs.ChunkResult:
    """A chunk that takes its worker process down with it."""
    os._exit(3)


def _fail(options: Options, paths: list[Path]) -> jobs.ChunkResult:
    """A chunk whose checking hits a bug."""
    raise RuntimeError(f"bug on {paths[0]}")


@pytest.mark.corpus
def test_dead_worker_is_an_error_not_a_hang() -> None:
    files = sorted(CASES.glob("*.xml"))[:8]
    with pytest.raises(DomlintError) as exc:
        jobs.check_parallel(Checker(Options()), files, 2, work=_die)
    assert "worker process died" in str(exc.value) and exc.value.path == str(files[0])


@pytest.mark.corpus
def test_bug_in_a_worker_reaches_the_parent() -> None:
    files = sorted(CASES.glob("*.xml"))[:8]
    with pytest.raises(RuntimeError, match="bug on"):
        jobs.check_parallel(Checker(Options()), files, 2, work=_fail)


def test_chunks_keep_order_and_cover_every_file() -> None:
    paths = [Path(f"{i}.xml") for i in range(23)]
    for n in (1, 2, 3, 7, 50):
        parts = jobs.chunks(paths, n)
        assert [p for part in parts for p in part] == paths
        assert len(parts) <= n * jobs.CHUNKS_PER_JOB and all(parts)


def _grandchildren(pid: int) -> set[int]:
    """Processes whose parent is a child of pid (the forkserver's workers)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    children = {p for p, pp in parents.items() if pp == pid}
    return {p for p, pp in parents.items() if pp in children}


def _running(pid: int) -> bool:
    """Whether pid is a live process (not gone, not a zombie)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.corpus
def test_ctrl_c_ends_cleanly(tmp_path: Path) -> None:
    many = tmp_path / "many"
    many.mkdir()
    files = sorted(CASES.glob("*.xml"))
    for i in range(20):
        for f in files:
            (many / f"{i:02d}-{f.name}").symlink_to(f)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    # As from a terminal: Ctrl-C's signal has its default disposition. A test run started as a background
    # job of a non-interactive shell (a CI runner's, say) inherits SIGINT ignored, which exec keeps.
    proc = subprocess.Popen([sys.executable, "-m", "domlint", "check", "-j", "2", str(many)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    workers: set[int] = set()
    while not workers and proc.poll() is None:
        workers = _grandchildren(proc.pid)
        time.sleep(0.01)
    assert workers, "the run ended before its workers could be seen"
    assert proc.poll() is None, "the run ended before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal does: the whole process group
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err and out == ""
    for _ in range(500):
        if not any(_running(w) for w in workers):
            break
        time.sleep(0.01)
    else:
        pytest.fail("worker processes outlived the interrupted run")
