"""The JSON format: one object with findings, unusable inputs and counts."""

from __future__ import annotations

import json
from typing import TextIO

from ..errors import DomlintError
from ..findings import Finding
from . import Report


def write_json(out: TextIO, findings: list[Finding], errors: list[DomlintError], files: int) -> None:
    """One JSON object: findings, unusable inputs and counts."""
    doc = {
        "findings": [f.as_dict() for f in findings],
        "errors": [{"path": e.path, "line": e.line, "message": e.message} for e in errors],
        "summary": {
            "files": files,
            "errors": sum(f.severity == "error" for f in findings),
            "warnings": sum(f.severity == "warning" for f in findings),
            "unusable": len(errors),
        },
    }
    json.dump(doc, out, indent=2)
    out.write("\n")


def write(out: TextIO, report: Report) -> None:
    """The JSON report."""
    write_json(out, report.findings, report.errors, report.files)
