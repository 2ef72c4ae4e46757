"""`domlint check`: check domain XML files and report what QEMU would refuse."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import jobs
from ..errors import DomlintError
from ..findings import Finding
from . import mend
from .options import (
    CONFIG_HELP,
    FORMATTER,
    add_check_options,
    add_incoming_options,
    caps_help,
    checker_from_args,
    finish,
)

EPILOG = CONFIG_HELP + """
exit status:
  0 no errors, 1 errors found (warnings too with --fail-on warning),
  2 an input, rule file, configuration or option could not be used.

examples:
  domlint check guest.xml
  domlint check --libvirt 1.2.8 /etc/libvirt/qemu/
  domlint check --caps-profile qemu-7.0.0-x86_64 /etc/libvirt/qemu/
  domlint check --qemu-caps /var/cache/libvirt/qemu/capabilities/X.xml guest.xml
  domlint check --format json --ignore disk-io-native-cache guest.xml
  domlint check -j auto /etc/libvirt/qemu/
  domlint check --format sarif guests/ > domlint.sarif
  domlint check --fix guest.xml       # mend what has a safe fix, report the rest
  domlint check --diff guests/        # show the fixes as a diff, change nothing
  domlint check --write-baseline .domlint-baseline.json guests/
  domlint check --baseline .domlint-baseline.json guests/
"""


NAME = "check"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the check subcommand."""
    p = sub.add_parser(NAME, help="check domain XML files",
                       description="Check libvirt domain XML files (directories: every *.xml below).",
                       epilog=caps_help() + "\n" + EPILOG, formatter_class=FORMATTER)
    p.add_argument("paths", nargs="+", metavar="PATH", help="domain XML files or directories")
    p.add_argument("-j", "--jobs", type=jobs.parse_jobs, default=1, metavar="N",
                   help="check files in N processes (0 or auto: one per CPU); the report is the same as "
                        "with -j 1 (default: 1)")
    add_check_options(p)
    add_incoming_options(p)
    mend.add_options(p)
    p.set_defaults(func=run)


def expand_paths(paths: list[str]) -> list[Path | DomlintError]:
    """Files to check: each file as given, every *.xml below each directory."""
    out: list[Path | DomlintError] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(q for q in p.rglob("*.xml") if q.is_file())
            if not found:
                out.append(DomlintError(str(p), None, "directory holds no *.xml file"))
            out.extend(found)
        elif p.exists():
            out.append(p)
        else:
            out.append(DomlintError(str(p), None, "no such file or directory"))
    return out


def run(args: argparse.Namespace) -> int:
    """Check every file; every file is reported even when another one is broken."""
    checker = checker_from_args(args)
    targets = expand_paths(args.paths)
    if args.fix or args.diff:
        return mend.run(args, checker, targets)
    files = [t for t in targets if isinstance(t, Path)]
    # One process unless there is something to share: starting workers costs more than a file.
    if args.jobs > 1 and len(files) > 1:
        outcomes = iter(jobs.check_parallel(checker, files, args.jobs))
    else:
        outcomes = (jobs.check_one(checker, f) for f in files)
    findings: list[Finding] = []
    errors: list[DomlintError] = []
    for target in targets:
        outcome = target if isinstance(target, DomlintError) else next(outcomes)
        if isinstance(outcome, DomlintError):
            errors.append(outcome)
        else:
            findings.extend(outcome)
    fixes = mend.sarif_fixes(args, checker, findings) if args.format == "sarif" else None
    return finish(args, checker, findings, errors, fixes=fixes)
