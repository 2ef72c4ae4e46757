"""`check --fix` and `check --diff`: mend what rules with a fix find, then report what remains."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TYPE_CHECKING

from ..errors import DomlintError, InputError
from ..findings import Finding
from ..parse import MAX_BYTES
from ..pathname import read_bytes
from .options import EXIT_FINDINGS, finish

if TYPE_CHECKING:
    import argparse

def _read(path: str) -> bytes:
    """The file's bytes (InputError naming it when it cannot be read or is too big)."""
    try:
        if os.stat(path).st_size > MAX_BYTES:
            raise InputError(path, None, f"file is over the {MAX_BYTES}-byte (10 MiB) size limit")
        return read_bytes(path)
    except OSError as exc:
        raise InputError(path, None, f"cannot read: {exc.strerror or exc}") from None


def run(args: argparse.Namespace, checker: object, targets: list[str | DomlintError]) -> int:
    """Mend every file (one process: each pass re-checks the file), write or show the change, report."""
    from .. import fix as fixmod  # only when mending: a plain check does not import it
    from ..checker import Checker

    assert isinstance(checker, Checker)
    findings: list[Finding] = []
    errors: list[DomlintError] = []
    fixed = files = unsafe_left = 0
    for target in targets:
        if isinstance(target, DomlintError):
            errors.append(target)
            continue
        try:
            outcome = fixmod.mend_file(checker, str(target), _read(target), args.unsafe_fixes)
        except DomlintError as exc:
            errors.append(exc)
            continue
        findings.extend(outcome.findings)
        unsafe_left += outcome.unsafe_left
        if outcome.problem:
            sys.stderr.write(f"{target}: not fixed further: {outcome.problem}\n")
        if not outcome.changed:
            continue
        fixed += len(outcome.applied)
        files += 1
        if args.diff:
            sys.stdout.write(fixmod.unified_diff(outcome))
            continue
        try:
            # Written in place: the file keeps its inode, owner and mode.
            with open(target, "r+b") as fh:
                fh.write(outcome.fixed)
                fh.truncate()
        except OSError as exc:
            errors.append(InputError(str(target), None, f"cannot write the fixes: {exc.strerror or exc}"))
    sys.stdout.flush()
    if not args.quiet:
        verb = "would fix" if args.diff else "fixed"
        more = f", {unsafe_left} more with --unsafe-fixes" if unsafe_left else ""
        sys.stderr.write(f"{verb} {fixed} finding(s) in {files} file(s){more}\n")
    if args.diff:
        # Standard output holds only the diff, for `git apply` or `patch -p1`.
        with contextlib.redirect_stdout(sys.stderr):
            status = finish(args, checker, findings, errors)
        return max(status, EXIT_FINDINGS) if files and status == 0 else status
    return finish(args, checker, findings, errors)


def sarif_fixes(args: argparse.Namespace, checker: object, findings: list[Finding]) -> dict[tuple[str, str, str], dict]:
    """The SARIF fix of each finding that has one, by (path, rule id, xpath): only files with such findings are read again."""
    from .. import fix as fixmod  # only when mending: a plain check does not import it
    from ..checker import Checker

    assert isinstance(checker, Checker)
    paths = []
    for f in findings:
        try:
            rule = checker.settings_for(f.path).engine.by_id.get(f.rule_id)
        except DomlintError:
            continue
        if rule is not None and rule.body.get("fix") and f.path not in paths:
            paths.append(f.path)
    out: dict[tuple[str, str, str], dict] = {}
    for path in paths:
        for (rule_id, xpath), sarif in fixmod.sarif_fixes(checker, path, args.unsafe_fixes).items():
            out[(path, rule_id, xpath)] = sarif
    return out
