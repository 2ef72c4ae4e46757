"""The `domlint` command line: wiring only; each subcommand lives in domlint.commands."""

from __future__ import annotations

import argparse
import sys
from importlib import import_module

from . import __version__
from .commands.options import EXIT_UNUSABLE, FORMATTER
from .errors import DomlintError, UsageError
from .rulepack import RuleErrors

EXIT_OK, EXIT_FINDINGS = 0, 1

# Each command's name and its module in domlint.commands, which has
# register(subparsers) setting func on its parser. A run imports only its own.
COMMANDS = {"check": "check", "attach-check": "attach_check", "argv": "argv", "rules": "rules",
            "normalize": "normalize", "host": "host"}

EPILOG = """\
examples:
  domlint check guest.xml
  domlint check --libvirt 1.2.8 --caps-profile 1.6.0 guests/
  domlint check --format sarif guests/ > domlint.sarif
  domlint rules list
  domlint rules test my-rules/
  domlint normalize guest.xml
  domlint attach-check guest.xml disk.xml
  domlint argv --libvirt 1.2.8 guest.xml
  domlint host snapshot -o myhost

Run `domlint COMMAND --help` for the options of each command.
"""


def version_text() -> str:
    """What --version prints: the version, the targets and the default target."""
    import os

    from . import target

    known = ", ".join(f"{t.label} (--libvirt {t.name})" for t in target.targets())
    named = os.environ.get("DOMLINT_LIBVIRT")
    try:
        chosen = target.default()
        why = f"from DOMLINT_LIBVIRT={named}" if named else "the newest; DOMLINT_LIBVIRT or the configuration key " \
            "`libvirt` choose another"
        default = f"{chosen.label} ({why})"
    except UsageError as exc:
        default = f"none: DOMLINT_LIBVIRT={named}: {exc}"
    return (f"domlint {__version__}\n"
            f"libvirt targets: {known}\n"
            f"default target: {default}\n"
            f"default QEMU capabilities: the target's newest built-in profile for the domain's arch\n")


class _Version(argparse.Action):
    """--version, whose text reads the targets only when asked for."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        sys.stdout.write(version_text())
        parser.exit()


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser for every subcommand, or for the one named only."""
    parser = argparse.ArgumentParser(
        prog="domlint",
        description="Validate libvirt domain XML against what QEMU will accept.",
        epilog=EPILOG,
        formatter_class=FORMATTER,
    )
    parser.add_argument("--version", action=_Version, nargs=0,
                        help="show the version, the libvirt targets domlint knows and the default one, and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS.items():
        if only is None or only == name:
            import_module(f".commands.{module}", __package__).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    words = sys.argv[1:] if argv is None else argv
    # A run names its command first: build only that command's options, since
    # building every subcommand's parser costs more than checking a small file.
    named = words[0] if words and words[0] in COMMANDS else None
    parser = build_parser(named)
    args = parser.parse_args(words)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_UNUSABLE
    try:
        return int(args.func(args))
    except RuleErrors as exc:
        for e in exc.errors:
            sys.stderr.write(f"{e}\n")
        return EXIT_UNUSABLE
    except DomlintError as exc:
        sys.stderr.write(f"{exc}\n")
        return EXIT_UNUSABLE
    except UsageError as exc:
        sys.stderr.write(f"domlint: {exc}\n")
        return EXIT_UNUSABLE
    except BrokenPipeError:
        # A reader such as `head` went away: nothing left to say.
        sys.stderr.close()
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        return 130


__all__ = ["build_parser", "main"]
