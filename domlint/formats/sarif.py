"""SARIF 2.1.0, for code-scanning services: rule metadata, repository-relative locations, fingerprints."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

from .. import __version__
from ..findings import Finding
from . import Report, RuleInfo

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
ROOT_ID = "%SRCROOT%"
# The key under which results carry their identity; bump the suffix if the recipe changes.
FINGERPRINT_KEY = "domlintElement/v1"
_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def fingerprint(rule_id: str, xpath: str) -> str:
    """A result's identity: its rule and its element's XPath, never its line, so moving it keeps it."""
    return hashlib.sha256(f"{rule_id}\0{xpath}".encode()).hexdigest()[:32]


def _rule(report: Report, info: RuleInfo) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": info.id,
        "name": "".join(w.capitalize() for w in info.id.split("-")),
        "shortDescription": {"text": info.summary},
        "defaultConfiguration": {"level": _LEVELS.get(info.severity, "warning")},
    }
    if info.hint:
        out["help"] = {"text": info.hint}
    props: dict[str, Any] = {}
    if info.caps:
        props["capabilities"] = list(info.caps)
    where = report.relpath(info.path) if info.path else None
    if where:
        props["definedIn"] = f"{where}:{info.line}"
    if props:
        out["properties"] = props
    return out


def _location(report: Report, path: str, line: int | None, column: int | None) -> dict[str, Any]:
    rel = report.relpath(path)
    artifact = {"uri": quote(rel), "uriBaseId": ROOT_ID} if rel is not None else {"uri": Path(path).resolve().as_uri()}
    physical: dict[str, Any] = {"artifactLocation": artifact}
    if line:
        physical["region"] = {"startLine": line, "startColumn": column or 1}
    return {"physicalLocation": physical}


def _result(report: Report, f: Finding, index: dict[str, int]) -> dict[str, Any]:
    text = f.message + (f" ({f.hint})" if f.hint else "")
    loc = _location(report, f.path, f.line, f.column)
    loc["logicalLocations"] = [{"fullyQualifiedName": f.xpath, "kind": "element"}]
    out: dict[str, Any] = {
        "ruleId": f.rule_id,
        "level": _LEVELS.get(f.severity, "warning"),
        "message": {"text": text},
        "locations": [loc],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(f.rule_id, f.xpath)},
    }
    if f.rule_id in index:
        out["ruleIndex"] = index[f.rule_id]
    fix = report.fixes.get((f.path, f.rule_id, f.xpath))
    if fix:
        # The rule's fix as edits of the file's bytes and lines (what `domlint check --fix` would do).
        artifact = loc["physicalLocation"]["artifactLocation"]
        out["fixes"] = [{"description": fix["description"],
                         "artifactChanges": [{"artifactLocation": artifact, "replacements": fix["replacements"]}]}]
    return out


def document(report: Report) -> dict[str, Any]:
    """The SARIF log as a dict."""
    rules = [report.rules[k] for k in sorted(report.rules)]
    index = {r.id: i for i, r in enumerate(rules)}
    notes = [{
        "level": "error",
        "message": {"text": e.message},
        "locations": [_location(report, e.path, e.line, None)],
    } for e in report.errors]
    # A file not judged (a domain for another hypervisor) is a note about the run, not a result.
    notes += [{
        "level": "note",
        "message": {"text": c.note},
        "locations": [_location(report, c.path, None, None)],
    } for c in report.notes]
    driver: dict[str, Any] = {
        "name": "domlint",
        "fullName": f"domlint {__version__}" + (f" (verdicts for {report.target})" if report.target else ""),
        "version": __version__,
        "semanticVersion": __version__,
        "informationUri": "https://libvirt.org/formatdomain.html",
        "rules": [_rule(report, r) for r in rules],
    }
    # What the verdicts are for: the libvirt release and where the QEMU capabilities came from.
    props = {k: v for k, v in (("libvirtTarget", report.target), ("qemuCapabilitySource", report.caps_source)) if v}
    if props:
        driver["properties"] = props
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "originalUriBaseIds": {ROOT_ID: {"uri": Path(os.path.abspath(report.root)).as_uri() + "/"}},
        "invocations": [{"executionSuccessful": not report.errors, "toolExecutionNotifications": notes}],
        "results": [_result(report, f, index) for f in report.findings],
        "columnKind": "unicodeCodePoints",
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def write(out: TextIO, report: Report) -> None:
    """The SARIF log."""
    json.dump(document(report), out, indent=2)
    out.write("\n")
