"""The text format: one line per finding for people, hints below."""

from __future__ import annotations

from typing import TextIO

from ..findings import Finding
from . import Report

_COLOURS = {"error": "31", "warning": "33", "info": "36"}


def _paint(text: str, code: str, on: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if on else text


def write_text(out: TextIO, findings: list[Finding], show_hints: bool = True, color: bool = False) -> None:
    """One line per finding, `path:line:col: severity [rule] message`, hint below."""
    for f in findings:
        where = _paint(f"{f.path}:{f.line}:{f.column}:", "1", color)
        sev = _paint(f.severity, _COLOURS.get(f.severity, "0"), color)
        rule = _paint(f"[{f.rule_id}]", "2", color)
        out.write(f"{where} {sev} {rule} {f.message}\n")
        if show_hints and f.hint:
            out.write(f"    {_paint('hint:', '2', color)} {f.hint}\n")


def write(out: TextIO, report: Report) -> None:
    """The text report, then a `path: note: ...` line per file not judged; unusable inputs go to stderr."""
    write_text(out, report.findings, report.show_hints, report.color)
    for c in report.notes:
        out.write(f"{_paint(c.path + ':', '1', report.color)} {_paint('note', _COLOURS['info'], report.color)}: "
                  f"{c.note}\n")
