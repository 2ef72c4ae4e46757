"""The JSON format: one object with what the verdict is for, findings, notes, unusable inputs and counts."""

from __future__ import annotations

import json
from typing import TextIO

from ..errors import DomlintError
from ..findings import Finding
from . import CheckedFile, Report


def write_json(out: TextIO, findings: list[Finding], errors: list[DomlintError], files: int,
               notes: list[CheckedFile] | None = None, target: str = "", caps_source: str = "") -> None:
    """One JSON object: the target and capability source, findings, notes on files not judged, unusable inputs, counts."""
    notes = notes or []
    doc = {
        "target": target,
        "caps_source": caps_source,
        "findings": [f.as_dict() for f in findings],
        "notes": [{"path": c.path, "message": c.note} for c in notes],
        "errors": [{"path": e.path, "line": e.line, "message": e.message} for e in errors],
        "summary": {
            "files": files,
            "errors": sum(f.severity == "error" for f in findings),
            "warnings": sum(f.severity == "warning" for f in findings),
            "skipped": len(notes),
            "unusable": len(errors),
        },
    }
    json.dump(doc, out, indent=2)
    out.write("\n")


def write(out: TextIO, report: Report) -> None:
    """The JSON report."""
    write_json(out, report.findings, report.errors, report.files, report.notes, report.target, report.caps_source)
