"""CI reports: SARIF rule metadata complete and without unfilled placeholders, helpUri into the committed
rules reference, the target named by tool.driver, the log valid against the SARIF 2.1.0 schema and GitHub's
upload rules; JUnit one test case per file."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import jsonschema
import pytest
from conftest import REPO, require, run_cli

from domlint import ruledoc

BAD = REPO / "examples" / "guest-bad.xml"
GOOD = REPO / "examples" / "guest-good.xml"
SCHEMA = REPO / "tests" / "data" / "sarif-schema-2.1.0.json"
PLACEHOLDER = re.compile(r"\{[$@A-Za-z_./()\[\]=' -]+\}")


def _repo(tmp_path: Path, copies: int = 1) -> Path:
    root = tmp_path / "repo"
    (root / "guests").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    for i in range(copies):
        shutil.copy(BAD, root / "guests" / f"web{i}.xml")
    shutil.copy(GOOD, root / "guests" / "db.xml")
    return root


@pytest.fixture(scope="module", params=["1.2.8", "9.0"])
def sarif(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = _repo(tmp_path_factory.mktemp("sarif"))
    proc = run_cli("check", "--libvirt", request.param, "--format", "sarif", "guests", cwd=root)
    assert proc.returncode == 1, proc.stderr
    return json.loads(proc.stdout)


def _texts(rule: dict) -> list[str]:
    return [rule["shortDescription"]["text"], rule["fullDescription"]["text"], rule["help"]["text"],
            rule["help"]["markdown"]]


def test_every_rule_has_full_metadata(sarif: dict) -> None:
    rules = sarif["runs"][0]["tool"]["driver"]["rules"]
    assert len(rules) > 500
    for rule in rules:
        assert all(_texts(rule)), rule["id"]
        # GitHub code scanning: descriptions up to 1024 characters.
        assert len(rule["shortDescription"]["text"]) <= 1024 and len(rule["fullDescription"]["text"]) <= 1024
        assert rule["helpUri"].startswith("https://"), rule["id"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")


def test_no_text_holds_an_unfilled_placeholder(sarif: dict) -> None:
    run = sarif["runs"][0]
    leftovers = [(r["id"], m.group(0)) for r in run["tool"]["driver"]["rules"]
                 for text in _texts(r) for m in PLACEHOLDER.finditer(text.split("```")[0])]
    leftovers += [(r["ruleId"], m.group(0)) for r in run["results"] for m in PLACEHOLDER.finditer(r["message"]["text"])]
    assert leftovers == []


def test_help_uri_resolves_to_the_rules_section_of_the_committed_reference(sarif: dict) -> None:
    base = ruledoc.REFERENCE_URL
    pages: dict[str, str] = {}
    for rule in sarif["runs"][0]["tool"]["driver"]["rules"]:
        uri = rule["helpUri"]
        assert uri.startswith(base)
        name, _, fragment = uri[len(base):].partition("#")
        page = pages.setdefault(name, (REPO / ruledoc.REFERENCE_DIR / name).read_text(encoding="utf-8"))
        # GitHub's anchor of the heading `### ID` is the id itself.
        assert f"\n### {rule['id']}\n" in page and fragment == rule["id"], rule["id"]
        assert urlsplit(uri).scheme == "https"


def test_driver_names_the_target(sarif: dict) -> None:
    driver = sarif["runs"][0]["tool"]["driver"]
    assert driver["name"] == "domlint" and driver["version"]
    assert re.search(r"verdicts for libvirt (1\.2\.8|9\.0\.0)", driver["fullName"])
    assert driver["properties"]["libvirtTarget"].startswith("libvirt ")
    # Even when no file could be judged, the target the run was for is named.
    broken = json.loads(run_cli("check", "--libvirt", "1.2.8", "--format", "sarif", "/nonexistent.xml").stdout)
    assert "libvirt 1.2.8" in broken["runs"][0]["tool"]["driver"]["fullName"]


def test_valid_sarif_and_githubs_upload_rules(sarif: dict) -> None:
    schema = json.loads(SCHEMA.read_text())
    errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(sarif), key=str)
    assert not errors, errors[0]
    assert sarif["$schema"] and sarif["version"] == "2.1.0"  # SARIF2008
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert len(rules) == len({r["id"] for r in rules})
    base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base.startswith("file:///") and base.endswith("/")  # SARIF1004, GH1006: a checkout path
    assert len(run["results"]) == 3 and len(run["results"]) <= 25000  # GH1004
    for res in run["results"]:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]  # SARIF1010
        loc = res["locations"][0]["physicalLocation"]
        art = loc["artifactLocation"]
        # GH1001, GH1005, GH1007: a relative URI under the checkout, and a region with a start line (GH1003).
        assert art["uriBaseId"] == "%SRCROOT%" and not urlsplit(art["uri"]).scheme and art["uri"].startswith("guests/")
        assert loc["region"]["startLine"] >= 1
        assert res["partialFingerprints"] and res["message"]["text"]


def test_pydantic_sarif_reads_the_log(sarif: dict) -> None:
    # An independent reading of the log: pydantic-sarif's models, generated from the same schema,
    # forbid unknown properties.
    try:
        from pydantic_sarif import model
    except ImportError:
        model = None
    require("pydantic-sarif", model, "pip install '.[test]'")
    model.StaticAnalysisResultsFormatSarifVersion210JsonSchema.model_validate(sarif)


def test_reference_is_up_to_date() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("rules_reference", REPO / "tools" / "rules_reference.py")
    assert spec and spec.loader
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    pages = ruledoc.reference()
    assert tool.stale(REPO / ruledoc.REFERENCE_DIR, pages) == [], "run python tools/rules_reference.py"
    # With examples, and every page reachable from the index.
    assert "Refused:\n\n```xml\n" in pages["disk.md"] and "Accepted:" in pages["disk.md"]
    assert all(f"]({name})" in pages["README.md"] for name in pages if name != "README.md")
    assert not any(PLACEHOLDER.search(line) for text in pages.values() for line in text.split("```")[::2])


def test_junit_is_one_test_case_per_file(tmp_path: Path) -> None:
    root = _repo(tmp_path, copies=4)
    proc = run_cli("check", "--format", "junit", "guests", cwd=root)
    top = ET.fromstring(proc.stdout)
    cases = list(top.iter("testcase"))
    assert [c.get("name") for c in cases] == ["guests/db.xml"] + [f"guests/web{i}.xml" for i in range(4)]
    assert (top.get("tests"), top.get("failures")) == ("5", "4")
    for case in cases[1:]:
        failure = case.findall("failure")
        assert len(failure) == 1 and failure[0].get("message").startswith("3 findings")
        assert failure[0].text.count("\n") >= 2
    assert len(proc.stdout) < 10000
