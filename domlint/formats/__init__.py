"""Report formats: one module per format, all registered here so `--format` lists them."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TextIO

from ..errors import DomlintError
from ..findings import Finding
from ..pathname import relative_to
from ..record import field, record


@record(frozen=True)
class RuleInfo:
    """What a report says about a rule: enough for SARIF's rule metadata."""

    id: str
    severity: str
    summary: str
    hint: str = ""
    caps: tuple[str, ...] = ()
    path: str = ""
    line: int = 0
    # The rule's own texts, placeholders unfilled, for rule metadata (domlint.ruledoc fills them
    # generically): its message and feature, the capabilities whose absence it is about, its stage,
    # and its first invalid and first valid example.
    message: str = ""
    feature: str = ""
    wanted: tuple[str, ...] = ()
    stage: str = ""
    examples: tuple[str, ...] = ()


@record
class CheckedFile:
    """One file that was checked, with the ids of the rules that could fire on it."""

    path: str
    rule_ids: tuple[str, ...]
    # Why the file was not judged (a domain for another hypervisor), else empty.
    note: str = ""
    # What its verdict is for: the libvirt target's label and the QEMU capability source (empty when not judged).
    target: str = ""
    caps: str = ""


@record
class Report:
    """Everything a format may show about one run."""

    findings: list[Finding]
    errors: list[DomlintError] = field(default_factory=list)
    checked: list[CheckedFile] = field(default_factory=list)
    rules: dict[str, RuleInfo] = field(default_factory=dict)
    fail_on: tuple[str, ...] = ("error",)
    root: str = field(default_factory=os.getcwd)
    show_hints: bool = True
    color: bool = False
    # What the verdicts are for: the libvirt release and the QEMU capability source.
    target: str = ""
    caps_source: str = ""
    # The SARIF fix of each finding that has one, by (path, rule id, xpath) (commands/mend.py).
    fixes: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)

    @property
    def files(self) -> int:
        """How many inputs were named, checked or not."""
        return len(self.checked) + len({e.path for e in self.errors})

    @property
    def notes(self) -> list[CheckedFile]:
        """The files that were not judged, each with its note."""
        return [c for c in self.checked if c.note]

    def relpath(self, path: str) -> str | None:
        """path relative to the report's root in POSIX form, or None when outside it."""
        return relative_to(os.path.abspath(path), os.fspath(self.root))


def distinct(values: list[str]) -> str:
    """The distinct non-empty values in first-seen order, joined with '; ' (a run usually has one)."""
    return "; ".join(dict.fromkeys(v for v in values if v))


Writer = Callable[[TextIO, Report], None]


# Every format, the default first: its name (also its module's) and what it writes.
# Only the chosen format's module is imported.
HELP = {
    "text": "path:line:col: severity [rule] message, a hint below (default)",
    "json": "one JSON object: target and capability source, findings, notes, unusable inputs, counts",
    "sarif": "SARIF 2.1.0 (GitHub code scanning and other services)",
    "junit": "JUnit XML: a test case per file, its failing findings inside it",
    "github": "GitHub Actions annotations (::error file=...,line=...::message)",
}


def names() -> list[str]:
    """The format names, the default first."""
    return list(HELP)


def get(name: str) -> Writer:
    """The writer of the format called name."""
    from importlib import import_module

    writer: Writer = import_module(f".{name}", __name__).write
    return writer
