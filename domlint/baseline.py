"""Baselines: record today's findings so that later runs report only new ones.

An entry is keyed on the file (relative to the baseline's directory), the rule id and
the element as the user names the device (domlint.identity: `disk[vda]`, not `disk[2]`),
so editing lines above a known finding, or adding a device before it, does not make it
new. A format 1 baseline, keyed on positional XPaths, is still read, with a note saying
how to write it again in the current format.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError, read_text
from .findings import Finding

FORMAT = 2
# Format 1 keyed entries on the element's positional XPath.
LEGACY = 1
Key = tuple[str, str, str]


def _relpath(path: str, base: Path) -> str:
    return Path(os.path.relpath(os.path.abspath(path), base)).as_posix()


def key(f: Finding, base: Path, legacy: bool = False) -> Key:
    """The identity of a finding in a baseline kept in directory base (legacy: a format 1 baseline's)."""
    return (_relpath(f.path, base), f.rule_id, f.xpath if legacy else (f.key or f.xpath))


def write(path: str | Path, findings: list[Finding]) -> int:
    """Write every finding to a baseline file; return how many entries it holds."""
    target = Path(path)
    base = Path(os.path.abspath(target)).parent
    entries = sorted({key(f, base): f.message for f in findings}.items())
    doc = {
        "domlint-baseline": FORMAT,
        "findings": [{"path": p, "rule": r, "element": x, "message": m} for (p, r, x), m in entries],
    }
    try:
        target.write_text(json.dumps(doc, indent=2) + "\n")
    except OSError as exc:
        raise InputError(str(path), None, f"cannot write baseline: {exc.strerror or exc}") from None
    return len(entries)


@dataclass
class Baseline:
    """The findings a baseline file records."""

    path: str
    base: Path
    keys: set[Key]
    format: int = FORMAT

    @property
    def upgrade_note(self) -> str | None:
        """What to tell the user about an older format, or None."""
        if self.format == FORMAT:
            return None
        return (f"{self.path}: a format {self.format} baseline, keyed on element positions: it still works, "
                "but adding a device before a known finding makes that finding new; run the same check with "
                f"--write-baseline {self.path} to key it on device names (format {FORMAT})")

    def filter(self, findings: list[Finding]) -> tuple[list[Finding], int]:
        """The findings that are new, and how many entries no finding matched any more."""
        seen: set[Key] = set()
        new = []
        for f in findings:
            k = key(f, self.base, self.format == LEGACY)
            if k in self.keys:
                seen.add(k)
            else:
                new.append(f)
        return new, len(self.keys - seen)


def load(path: str | Path) -> Baseline:
    """Read a baseline file; InputError naming it and the line when it cannot be used."""
    name = str(path)
    text = read_text(path, "baseline")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(name, exc.lineno, f"baseline is not valid JSON: {exc.msg}") from None
    version = doc.get("domlint-baseline") if isinstance(doc, dict) else None
    if version not in (FORMAT, LEGACY) or not isinstance(doc.get("findings"), list):
        raise InputError(name, 1, f"not a domlint baseline (format {FORMAT}); write one with --write-baseline")
    field = "xpath" if version == LEGACY else "element"
    keys: set[Key] = set()
    for i, entry in enumerate(doc["findings"]):
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("path", "rule", field)):
            raise InputError(name, None, f"baseline entry {i + 1} lacks a path, rule or {field} string")
        keys.add((entry["path"], entry["rule"], entry[field]))
    return Baseline(name, Path(os.path.abspath(name)).parent, keys, version)
