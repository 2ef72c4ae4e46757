"""Writing findings for people (text) and programs (JSON)."""

from __future__ import annotations

import json
from typing import TextIO

from .errors import DomlintError
from .findings import Finding


def write_text(out: TextIO, findings: list[Finding], show_hints: bool = True) -> None:
    """One line per finding, `path:line:col: severity [rule] message`, hint below."""
    for f in findings:
        out.write(f"{f.path}:{f.line}:{f.column}: {f.severity} [{f.rule_id}] {f.message}\n")
        if show_hints and f.hint:
            out.write(f"    hint: {f.hint}\n")


def write_json(out: TextIO, findings: list[Finding], errors: list[DomlintError],
               files: int) -> None:
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
