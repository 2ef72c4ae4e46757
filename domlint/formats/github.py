"""GitHub Actions workflow commands: each finding becomes an annotation on the changed file."""

from __future__ import annotations

from typing import TextIO

from . import Report

_COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def write(out: TextIO, report: Report) -> None:
    """One workflow command per finding, per unusable input and per file not judged."""
    for f in report.findings:
        path = report.relpath(f.path) or f.path
        props = f"file={_prop(path)},line={f.line},col={f.column},title={_prop(f.rule_id)}"
        message = f.message + (f"\nhint: {f.hint}" if f.hint and report.show_hints else "")
        out.write(f"::{_COMMANDS.get(f.severity, 'warning')} {props}::{_data(message)}\n")
    for e in report.errors:
        path = report.relpath(e.path) or e.path
        line = f",line={e.line}" if e.line else ""
        out.write(f"::error file={_prop(path)}{line},title=domlint%3A unusable input::{_data(e.message)}\n")
    # A domain for another hypervisor was not judged: a notice, never a failure. (What the verdicts
    # are for, target and capability source, is on the summary line, which the job log shows.)
    for c in report.notes:
        path = report.relpath(c.path) or c.path
        out.write(f"::notice file={_prop(path)},title=domlint%3A not judged::{_data(c.note)}\n")
