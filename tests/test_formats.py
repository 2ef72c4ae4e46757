"""Report formats: SARIF validated against its schema, JUnit parsed back, GitHub annotations, colour."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest
from conftest import CONFORMANCE, REPO, run_cli, warning_rules

BAD = REPO / "examples" / "guest-bad.xml"
GOOD = REPO / "examples" / "guest-good.xml"
# The OASIS SARIF 2.1.0 schema (errata 01), kept in the repository so that a plain clone validates offline.
SARIF_SCHEMA = REPO / "tests" / "data" / "sarif-schema-2.1.0.json"
GITHUB_LINE = re.compile(r"^::(error|warning|notice) file=([^,]+)(?:,line=(\d+))?(?:,col=(\d+))?,title=([^:]+)::(.*)$")


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SARIF_SCHEMA.read_text())
    return jsonschema.Draft4Validator(schema)


def _repo(tmp_path: Path) -> Path:
    """A git work tree holding the bad example under guests/."""
    root = tmp_path / "repo"
    (root / "guests").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "guests" / "web01.xml").write_text(BAD.read_text())
    return root


def _results(sarif: dict) -> list[dict]:
    return sarif["runs"][0]["results"]


@pytest.mark.parametrize("caps", [[], ["--caps-profile", "1.2.2"]], ids=["all-caps", "qemu-1.2.2"])
@pytest.mark.corpus
def test_sarif_for_whole_corpus_validates(caps: list[str], sarif_validator: jsonschema.Draft4Validator) -> None:
    cases = CONFORMANCE / "cases"
    proc = run_cli("check", "--format", "sarif", *caps, str(cases))
    assert proc.returncode in (0, 1), proc.stderr
    sarif = json.loads(proc.stdout)
    errors = sorted(sarif_validator.iter_errors(sarif), key=str)
    assert not errors, errors[0]
    as_json = json.loads(run_cli("check", "--format", "json", *caps, str(cases)).stdout)
    results = _results(sarif)
    assert len(results) == len(as_json["findings"]) > 0
    rules = sarif["runs"][0]["tool"]["driver"]["rules"]
    for res, f in zip(results, as_json["findings"], strict=True):
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"] == f["rule_id"]
        region = res["locations"][0]["physicalLocation"]["region"]
        assert (region["startLine"], region["startColumn"]) == (f["line"], f["column"])
        assert res["partialFingerprints"]
    assert as_json["summary"]["files"] == len(list(cases.glob("*.xml")))


def test_sarif_uris_are_repository_relative(tmp_path: Path, sarif_validator: jsonschema.Draft4Validator) -> None:
    root = _repo(tmp_path)
    # Run from a subdirectory: paths are still taken from the top of the work tree.
    proc = run_cli("check", "--format", "sarif", "web01.xml", cwd=root / "guests")
    sarif = json.loads(proc.stdout)
    assert not list(sarif_validator.iter_errors(sarif))
    run = sarif["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == root.as_uri() + "/"
    locs = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"]]
    assert locs and all(loc == {"uri": "guests/web01.xml", "uriBaseId": "%SRCROOT%"} for loc in locs)
    ids = {r["id"] for r in run["tool"]["driver"]["rules"]}
    assert {"disk-ide-readonly", "disk-lun-not-block", "domlint-suppression-reason"} <= ids
    rule = next(r for r in run["tool"]["driver"]["rules"] if r["id"] == "disk-ide-readonly")
    assert rule["shortDescription"]["text"] and rule["help"]["text"]
    assert rule["defaultConfiguration"]["level"] == "error"


def _moved_down_ten_lines(text: str) -> str:
    """The lun disk of the bad example moved below the interface, ten lines further down."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if "device='lun'" in line)
    end = next(i for i in range(start, len(lines)) if "</disk>" in lines[i]) + 1
    block, rest = lines[start:end], lines[:start] + lines[end:]
    after = next(i for i, line in enumerate(rest) if "</interface>" in line) + 1
    padding = ["\n"] * (10 - (after - start))
    return "".join(rest[:after] + padding + block + rest[after:])


def test_fingerprint_survives_moving_the_element(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    guest = root / "guests" / "web01.xml"

    def by_rule() -> dict[str, dict]:
        proc = run_cli("check", "--format", "sarif", str(guest), cwd=root)
        return {r["ruleId"]: r for r in _results(json.loads(proc.stdout))}

    before = by_rule()
    guest.write_text(_moved_down_ten_lines(BAD.read_text()))
    after = by_rule()
    assert set(before) == set(after) == {"disk-io-native-cache", "disk-ide-readonly", "disk-lun-not-block"}

    def line(r: dict) -> int:
        return r["locations"][0]["physicalLocation"]["region"]["startLine"]

    moved_before, moved_after = before["disk-lun-not-block"], after["disk-lun-not-block"]
    assert line(moved_after) == line(moved_before) + 10
    assert moved_after["partialFingerprints"] == moved_before["partialFingerprints"]
    for rid in before:
        assert after[rid]["partialFingerprints"] == before[rid]["partialFingerprints"], rid
    # Fingerprints do tell elements apart.
    prints = {json.dumps(r["partialFingerprints"]) for r in after.values()}
    assert len(prints) == 3


def test_fingerprint_changes_with_the_element() -> None:
    from domlint.formats.sarif import fingerprint

    a = fingerprint("disk-lun-not-block", "/domain/devices/disk[3]")
    assert a == fingerprint("disk-lun-not-block", "/domain/devices/disk[3]")
    assert a != fingerprint("disk-lun-not-block", "/domain/devices/disk[2]")
    assert a != fingerprint("disk-ide-readonly", "/domain/devices/disk[3]")


def test_sarif_reports_unusable_inputs_as_notifications(tmp_path: Path,
                                                        sarif_validator: jsonschema.Draft4Validator) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_text("<domain>\n<name>x</domain>\n")
    proc = run_cli("check", "--format", "sarif", str(broken), str(BAD))
    assert proc.returncode == 2
    sarif = json.loads(proc.stdout)
    assert not list(sarif_validator.iter_errors(sarif))
    inv = sarif["runs"][0]["invocations"][0]
    assert inv["executionSuccessful"] is False
    note = inv["toolExecutionNotifications"][0]
    assert "not well-formed" in note["message"]["text"]
    assert note["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    assert len(_results(sarif)) == 3


def test_junit_parses_one_case_per_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_text("<network/>\n")
    proc = run_cli("check", "--format", "junit", str(BAD), str(GOOD), str(broken))
    assert proc.returncode == 2
    top = ET.fromstring(proc.stdout)
    findings = json.loads(run_cli("check", "--format", "json", str(BAD), str(GOOD)).stdout)["findings"]
    cases = {c.get("name"): c for c in top.iter("testcase")}
    assert list(cases) == [str(BAD), str(GOOD), str(broken)] and len(list(top.iter("testsuite"))) == 1
    bad, good = cases[str(BAD)], cases[str(GOOD)]
    failure = bad.find("failure")
    assert failure.get("message").startswith("3 findings: [") and len(bad.findall("failure")) == 1
    assert {line.split("[")[1].split("]")[0] for line in failure.text.splitlines() if "[" in line} == {
        f["rule_id"] for f in findings if f["path"] == str(BAD)}
    assert "hdb" in failure.text and good.find("failure") is None
    assert cases[str(broken)].find("error") is not None
    assert (top.get("tests"), top.get("failures"), top.get("errors")) == ("3", "1", "1")


def test_junit_warnings_fail_only_with_fail_on_warning(tmp_path: Path) -> None:
    rules = warning_rules(tmp_path)
    for fail_on, failures in (("error", "0"), ("warning", "1")):
        proc = run_cli("check", "--format", "junit", "--rules", str(rules), "--fail-on", fail_on, str(GOOD))
        suite = ET.fromstring(proc.stdout).find("testsuite")
        assert suite.get("failures") == failures
        case = next(c for c in suite.iter("testcase") if c.get("name") == str(GOOD))
        assert (case.find("failure") is not None) == (fail_on == "warning")
        shown = case.find("failure") if fail_on == "warning" else case.find("system-out")
        assert "warning [disk-needs-serial]" in shown.text


def test_github_annotations(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    (root / "guests" / "broken.xml").write_text("<domain>\n</dom>\n")
    proc = run_cli("check", "--format", "github", "guests", cwd=root)
    assert proc.returncode == 2
    lines = proc.stdout.splitlines()
    matches = [GITHUB_LINE.match(line) for line in lines]
    assert all(matches), lines
    found = {(m.group(5), m.group(3), m.group(4)) for m in matches if m.group(1) == "error"}
    assert ("disk-ide-readonly", "17", "5") in found
    assert {m.group(2) for m in matches} == {"guests/web01.xml", "guests/broken.xml"}
    assert len(lines) == 4
    # Newlines inside a message are escaped, so one annotation stays one line.
    assert all("%0Ahint: " in m.group(6) for m in matches if m.group(2) == "guests/web01.xml")


def test_github_escapes_properties() -> None:
    import io

    from domlint.findings import Finding
    from domlint.formats import Report, get

    f = Finding("disk-x", "warning", "50% done\nreally", "", "a,b:c.xml", 3, 4, "/domain")
    out = io.StringIO()
    get("github")(out, Report(findings=[f], root=Path("/nonexistent")))
    assert out.getvalue() == "::warning file=a%2Cb%3Ac.xml,line=3,col=4,title=disk-x::50%25 done%0Areally\n"


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit", "github"])
def test_stdout_holds_only_the_report(fmt: str) -> None:
    proc = run_cli("check", "--format", fmt, str(BAD))
    assert proc.returncode == 1
    assert "1 file checked, 3 error(s)" in proc.stderr
    if fmt in ("json", "sarif"):
        json.loads(proc.stdout)
    elif fmt == "junit":
        ET.fromstring(proc.stdout)
    elif fmt == "github":
        assert all(GITHUB_LINE.match(line) for line in proc.stdout.splitlines())
    else:
        assert all(line.startswith((str(BAD), "    hint: ")) for line in proc.stdout.splitlines())
    quiet = run_cli("check", "--quiet", "--format", fmt, str(BAD))
    assert quiet.stderr == "" and quiet.stdout == proc.stdout


def test_format_choices_come_from_the_registry() -> None:
    from domlint import formats

    proc = run_cli("check", "--help")
    for name in formats.names():
        assert f"{name}:" in proc.stdout
    assert formats.names()[0] == "text"


def _on_terminal(*args: str, env: dict[str, str]) -> str:
    """Run domlint with standard output on a pseudo-terminal; return what it showed."""
    master, slave = pty.openpty()
    full_env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    full_env.update({"PYTHONPATH": str(REPO), **env})
    proc = subprocess.Popen([sys.executable, "-m", "domlint", *args], stdout=slave, stderr=subprocess.DEVNULL,
                            env=full_env, cwd=REPO)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(master)
    return b"".join(chunks).decode()


def test_colour_only_on_a_terminal_and_never_with_no_color() -> None:
    piped = run_cli("check", str(BAD), env={"NO_COLOR": ""})
    assert "\x1b[" not in piped.stdout
    shown = _on_terminal("check", str(BAD), env={"TERM": "xterm"})
    assert "\x1b[31merror\x1b[0m" in shown
    assert "\x1b[" not in _on_terminal("check", str(BAD), env={"TERM": "xterm", "NO_COLOR": "1"})
    forced = run_cli("check", "--color", "always", str(BAD))
    assert "\x1b[31merror\x1b[0m" in forced.stdout
    assert "\x1b[" not in _on_terminal("check", "--color", "never", str(BAD), env={"TERM": "xterm"})


XEN = """<domain type='xen'>
  <name>xenvm</name>
  <memory unit='KiB'>1048576</memory>
  <os><type arch='x86_64' machine='xenfv'>hvm</type></os>
</domain>
"""


@pytest.mark.parametrize("libvirt", ["1.2.8", "9.0"])
def test_every_format_names_target_and_capability_source(libvirt: str, tmp_path: Path,
                                                         sarif_validator: jsonschema.Draft4Validator) -> None:
    from domlint import target

    label = target.load(libvirt).label
    xen = tmp_path / "xen.xml"
    xen.write_text(XEN)
    files = (str(BAD), str(xen))
    doc = json.loads(run_cli("check", "--libvirt", libvirt, "--format", "json", *files).stdout)
    assert doc["target"] == label and doc["caps_source"].startswith("profile qemu-")
    sarif = json.loads(run_cli("check", "--libvirt", libvirt, "--format", "sarif", *files).stdout)
    assert not list(sarif_validator.iter_errors(sarif))
    driver = sarif["runs"][0]["tool"]["driver"]
    assert driver["properties"] == {"libvirtTarget": label, "qemuCapabilitySource": doc["caps_source"]}
    assert label in driver["fullName"] and driver["semanticVersion"] == driver["version"]
    notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert [n["level"] for n in notes] == ["note"] and "xen" in notes[0]["message"]["text"]
    top = ET.fromstring(run_cli("check", "--libvirt", libvirt, "--format", "junit", *files).stdout)
    props = {c.get("name"): {p.get("name"): p.get("value") for p in c.iter("property")} for c in top.iter("testcase")}
    assert props[str(BAD)] == {"libvirt-target": label, "qemu-capability-source": doc["caps_source"]}
    assert props[str(xen)] == {"libvirt-target": label}
    proc = run_cli("check", "--libvirt", libvirt, "--format", "github", *files)
    assert f"target {label}, QEMU capabilities: {doc['caps_source']}" in proc.stderr
    assert proc.stdout.splitlines()[-1].startswith("::notice file=")


def test_distinct_capability_sources_are_listed(tmp_path: Path) -> None:
    # The default profile is chosen per architecture: a ppc64 and an x86_64 domain list two sources.
    ppc = tmp_path / "ppc.xml"
    ppc.write_text("<domain type='qemu'><name>p</name><memory>524288</memory>"
                   "<os><type arch='ppc64' machine='pseries'>hvm</type></os></domain>\n")
    doc = json.loads(run_cli("check", "--libvirt", "9.0", "--format", "json", str(GOOD), str(ppc)).stdout)
    assert doc["caps_source"].count("; ") == 1 and "ppc64" in doc["caps_source"] and "x86_64" in doc["caps_source"]
    proc = run_cli("check", "--libvirt", "9.0", "-j", "2", "--format", "json", str(GOOD), str(ppc))
    assert json.loads(proc.stdout) == doc
