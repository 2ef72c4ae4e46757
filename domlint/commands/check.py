"""`domlint check`: check domain XML files and report what QEMU would refuse."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from .. import discover
from ..checker import Checker
from ..errors import DomlintError, InputError, UsageError
from ..findings import Finding
from ..record import record
from .options import (
    CAPS_HELP_MARK,
    CONFIG_HELP,
    FORMATTER,
    add_check_options,
    add_incoming_options,
    checker_from_args,
    finish,
)

if TYPE_CHECKING:
    import argparse

    from .. import jobs

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
  virsh dumpxml web1 | domlint check --stdin-filename guests/web1.xml -
  domlint check --extend-exclude "old/,*-template.xml" guests/
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
                       description="Check libvirt domain XML files. A directory yields every *.xml below it whose "
                                   "root is <domain>, less what .gitignore and the exclude globs leave out; a "
                                   "file named here is checked whatever it holds.",
                       epilog=CAPS_HELP_MARK + "\n" + EPILOG, formatter_class=FORMATTER)
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="domain XML files or directories; - reads one domain from standard input")
    p.add_argument("--stdin-filename", metavar="PATH",
                   help="the name standard input (-) has in the report; its configuration is the one that "
                        "file would have")
    find = p.add_argument_group("discovery")
    find.add_argument("--exclude", type=globs, metavar="GLOBS",
                      help="comma-separated globs a directory search skips, replacing the default list "
                           f"({', '.join(discover.DEFAULT_EXCLUDE[:6])}, ...) and configuration key `exclude`")
    find.add_argument("--extend-exclude", type=globs, default=[], metavar="GLOBS",
                      help="globs skipped in addition (configuration key `extend-exclude` adds too)")
    find.add_argument("--force-exclude", action="store_true",
                      help="apply the excludes to files named on the command line too (for pre-commit)")
    find.add_argument("--skip-non-domain", action="store_true",
                      help="skip named files whose root is not <domain>, as a directory search does (for pre-commit)")
    find.add_argument("--no-respect-gitignore", action="store_true",
                      help="search the files .gitignore names too")
    find.add_argument("-v", "--verbose", action="store_true",
                      help="list on standard error each XML file skipped because it is not a domain")
    p.add_argument("-j", "--jobs", type=jobs_value, default=1, metavar="N",
                   help="check files in N processes (0 or auto: one per CPU); the report is the same as "
                        "with -j 1 (default: 1)")
    add_check_options(p)
    add_incoming_options(p)
    add_mend_options(p)
    p.set_defaults(func=run)


def jobs_value(text: str) -> int:
    """The value of -j (domlint.jobs.parse_jobs; the module of worker processes is imported only when -j is given)."""
    from .. import jobs

    return jobs.parse_jobs(text)


def globs(text: str) -> list[str]:
    """A comma-separated list of globs (argparse type)."""
    return [g.strip() for g in text.split(",") if g.strip()]


# --fix, --diff and --unsafe-fixes (domlint.commands.mend runs them; imported only when asked).
MEND_HELP = {
    "fix": "apply the safe fixes of rules that have one, in place, then report what remains "
           "(only the edited lines change; a file with nothing to fix is not written)",
    "diff": "print the fixes as a unified diff on standard output and change nothing; "
            "the report of what would remain goes to standard error",
    "unsafe": "with --fix or --diff, also apply fixes that change what the guest sees or assume a host fact",
}


def add_mend_options(p: argparse.ArgumentParser) -> None:
    """--fix, --diff and --unsafe-fixes."""
    g = p.add_mutually_exclusive_group()
    g.add_argument("--fix", action="store_true", help=MEND_HELP["fix"])
    g.add_argument("--diff", action="store_true", help=MEND_HELP["diff"])
    p.add_argument("--unsafe-fixes", action="store_true", help=MEND_HELP["unsafe"])


STDIN = "-"
# How standard input is named in the report without --stdin-filename (as ruff and Semgrep name it).
STDIN_NAME = "<stdin>"


@record(frozen=True)
class Stdin:
    """Standard input among the inputs, with the name the report gives it."""

    name: str


def check_stdin(checker: Checker, name: str) -> jobs.Outcome:
    """The findings of the domain on standard input, reported as name, or why it cannot be used."""
    from ..parse import MAX_BYTES

    try:
        data = sys.stdin.buffer.read(MAX_BYTES + 1)
    except OSError as exc:
        return InputError(name, None, f"cannot read standard input: {exc.strerror or exc}")
    try:
        return checker.check_file(name, data)
    except DomlintError as exc:
        return exc


def run(args: argparse.Namespace) -> int:
    """Check every file; every file is reported even when another one is broken."""
    checker = checker_from_args(args)
    finder = discover.Discovery(
        exclude=args.exclude, extend_exclude=args.extend_exclude, respect_gitignore=not args.no_respect_gitignore,
        force_exclude=args.force_exclude, skip_non_domain=args.skip_non_domain, config_for=checker.config_for,
    )
    selection = finder.select([p for p in args.paths if p != STDIN])
    targets: list[str | DomlintError | Stdin] = list(selection.inputs)
    if STDIN in args.paths:
        name = args.stdin_filename or STDIN_NAME
        if not (args.stdin_filename and args.force_exclude and finder.excluded(os.path.abspath(name), os.getcwd())):
            targets.insert(0, Stdin(name))
    elif args.stdin_filename:
        raise UsageError("--stdin-filename names standard input: give - among the paths")
    if args.fix or args.diff:
        if STDIN in args.paths:
            raise UsageError("--fix and --diff mend files in place: give file names, not - (standard input)")
        from . import mend

        return mend.run(args, checker, [t for t in targets if not isinstance(t, Stdin)])
    files = [t for t in targets if isinstance(t, str)]
    # One process unless there is something to share: starting workers costs more than a file.
    if args.jobs > 1 and len(files) > 1:
        from .. import jobs

        outcomes = iter(jobs.check_parallel(checker, files, args.jobs))
    else:
        outcomes = (checker.outcome(f) for f in files)
    findings: list[Finding] = []
    errors: list[DomlintError] = []
    for target in targets:
        if isinstance(target, Stdin):
            outcome = check_stdin(checker, target.name)
        else:
            outcome = target if isinstance(target, DomlintError) else next(outcomes)
        if isinstance(outcome, DomlintError):
            errors.append(outcome)
        else:
            findings.extend(outcome)
    if args.verbose:
        for path, root in selection.others:
            sys.stderr.write(f"{path}: skipped: its root is <{root}>, not <domain>\n")
    fixes = None
    if args.format == "sarif":
        from . import mend

        fixes = mend.sarif_fixes(args, checker, findings)
    return finish(args, checker, findings, errors, others=len(selection.others), fixes=fixes)
