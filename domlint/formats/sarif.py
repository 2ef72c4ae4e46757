"""SARIF 2.1.0, for code-scanning services: rule metadata, repository-relative locations, fingerprints."""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

from .. import __version__
from ..findings import Finding
from . import Report, RuleInfo

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
ROOT_ID = "%SRCROOT%"
# The key under which results carry their identity; bump the suffix if the recipe changes.
# v1 hashed the positional XPath; v2 hashes the element as the user names the device.
FINGERPRINT_KEY = "domlintElement/v2"
_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def fingerprint(rule_id: str, element: str) -> str:
    """A result's identity: its rule and its element as the user names the device (`disk[vda]/driver`),
    never its line or position, so moving it or adding a device before it keeps it."""
    return hashlib.sha256(f"{rule_id}\0{element}".encode()).hexdigest()[:32]


def _builtin(info: RuleInfo) -> bool:
    """Whether info is a rule of domlint's own (the rules reference describes it), not a user's."""
    from ..builtin import builtin_ids

    if info.id in builtin_ids():
        return True
    return bool(info.path) and _own_file(os.path.realpath(info.path))


@cache
def _own_file(path: str) -> bool:
    """Whether path is one of domlint's rule files: under its rules or targets folder, or a byte-for-byte
    copy of one (a worker process may import another installed copy of domlint than the parent)."""
    from ..data import data_file, rules_dir

    homes = [os.path.realpath(d) for d in (rules_dir(), data_file("targets"))]
    if any(path.startswith(h + os.sep) for h in homes):
        return True
    for home in homes:
        marker = os.sep + os.path.basename(home) + os.sep
        if marker not in path:
            continue
        try:
            with open(path, "rb") as a, open(os.path.join(home, path.rsplit(marker, 1)[1]), "rb") as b:
                if a.read() == b.read():
                    return True
        except OSError:
            continue
    return False


def _rule(report: Report, info: RuleInfo) -> dict[str, Any]:
    from .. import ruledoc

    out: dict[str, Any] = {
        "id": info.id,
        "name": "".join(w.capitalize() for w in info.id.split("-")),
        "shortDescription": {"text": ruledoc.generic(info.summary, info)},
        "fullDescription": {"text": ruledoc.full_description(info)},
        "defaultConfiguration": {"level": _LEVELS.get(info.severity, "warning")},
        "help": {"text": ruledoc.help_text(info), "markdown": ruledoc.help_markdown(info)},
    }
    if _builtin(info):
        out["helpUri"] = ruledoc.help_uri(info.id)
    else:
        # A user's rule: the reference does not describe it, so its help says where it is defined.
        where = report.relpath(info.path) if info.path else None
        note = f"Defined in {where or info.path}:{info.line}." if info.path else ""
        out["help"] = {"text": "\n".join(t for t in (ruledoc.full_description(info),
                                                     f"Fix: {ruledoc.generic(info.hint, info)}" if info.hint else "",
                                                     note) if t),
                       "markdown": ruledoc.help_markdown(info).rsplit("\n\n[", 1)[0] + (f"\n\n{note}" if note else "")}
    props: dict[str, Any] = {"tags": ["libvirt", info.stage or "domain"]}
    if info.caps:
        props["capabilities"] = list(info.caps)
    where = report.relpath(info.path) if info.path else None
    if where:
        props["definedIn"] = f"{where}:{info.line}"
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
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(f.rule_id, f.key or f.xpath)},
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


def _default_target() -> str:
    """The target a run names when no file was judged (every input unusable): the default one."""
    from .. import target
    from ..errors import UsageError

    try:
        return target.default().label
    except UsageError:
        return ""


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
    target = report.target or _default_target()
    driver: dict[str, Any] = {
        "name": "domlint",
        "fullName": f"domlint {__version__}" + (f" (verdicts for {target})" if target else ""),
        "version": __version__,
        "semanticVersion": __version__,
        "informationUri": "https://libvirt.org/formatdomain.html",
        "rules": [_rule(report, r) for r in rules],
    }
    # What the verdicts are for: the libvirt release and where the QEMU capabilities came from.
    props = {k: v for k, v in (("libvirtTarget", target), ("qemuCapabilitySource", report.caps_source)) if v}
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
