"""The `domlint` command line: wiring only; each subcommand lives in domlint.commands."""

from __future__ import annotations

import gc
import os
import sys
from importlib import import_module
from typing import TYPE_CHECKING, Any

from . import __version__

if TYPE_CHECKING:
    import argparse

# The commands' modules are imported by main(), while the cyclic collector is paused (see main).

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
    from .errors import UsageError

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


def _version_action() -> type[argparse.Action]:
    """--version, whose text reads the targets only when asked for."""
    import argparse

    class Version(argparse.Action):
        """Prints version_text() and exits."""

        def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                     option_string: str | None = None) -> None:
            sys.stdout.write(version_text())
            parser.exit()

    return Version


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser for every subcommand, or for the one named only."""
    import argparse

    from .commands.options import FORMATTER

    parser = argparse.ArgumentParser(
        prog="domlint",
        description="Validate libvirt domain XML against what QEMU will accept.",
        epilog=EPILOG,
        formatter_class=FORMATTER,
    )
    parser.add_argument("--version", action=_version_action(), nargs=0,
                        help="show the version, the libvirt targets domlint knows and the default one, and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS.items():
        if only is None or only == name:
            import_module(f".commands.{module}", __package__).register(sub)
    return parser


class _Recorder:
    """Stands in for argparse while a command registers its options: records what quick_parse needs.

    Registration runs the command's own register(), so the options parsed
    without argparse are always exactly those argparse would build.
    """

    ACTIONS = ("store", "store_true", "append")

    def __init__(self) -> None:
        self.options: dict[str, dict[str, Any]] = {}
        self.positionals: list[dict[str, Any]] = []
        self.defaults: dict[str, Any] = {}
        self.order: list[dict[str, Any]] = []
        self.plain = True  # False: an option quick_parse does not follow, so argparse parses
        self._groups = 0

    def add_parser(self, name: str, **kwargs: Any) -> _Recorder:
        """The command's own parser: this recorder."""
        return self

    def add_argument_group(self, *args: Any, **kwargs: Any) -> _Recorder:
        """A group of options (only --help shows groups)."""
        return self

    def add_mutually_exclusive_group(self, **kwargs: Any) -> _Group:
        """A group whose options exclude each other."""
        self._groups += 1
        return _Group(self, self._groups)

    def set_defaults(self, **kwargs: Any) -> None:
        """Values the namespace gets whatever the options say (func)."""
        self.defaults.update(kwargs)

    def add_argument(self, *names: str, group: int = 0, **kwargs: Any) -> None:
        """Record one option or positional."""
        action = kwargs.get("action", "store")
        known = {"action", "dest", "default", "type", "choices", "help", "metavar", "nargs"}
        if (action not in self.ACTIONS or set(kwargs) - known or kwargs.get("nargs") not in (None, "+")
                or (kwargs.get("nargs") == "+") != (not names[0].startswith("-"))
                or (isinstance(kwargs.get("default"), str) and kwargs.get("type") is not None)):
            self.plain = False
            return
        if not names[0].startswith("-"):
            spec = {"dest": names[0], "action": "store", "type": kwargs.get("type"), "default": None}
            self.positionals.append(spec)
            self.order.append(spec)
            return
        long = next((n for n in names if n.startswith("--")), names[0])
        spec = {"dest": kwargs.get("dest") or long.lstrip("-").replace("-", "_"), "action": action,
                "type": kwargs.get("type"), "choices": kwargs.get("choices"), "group": group,
                "default": kwargs.get("default", False if action == "store_true" else None)}
        self.order.append(spec)
        for n in names:
            self.options[n] = spec


class _Group:
    """A mutually exclusive group of a _Recorder."""

    def __init__(self, recorder: _Recorder, number: int) -> None:
        self.recorder, self.number = recorder, number

    def add_argument(self, *names: str, **kwargs: Any) -> None:
        """Record one option of the group."""
        self.recorder.add_argument(*names, group=self.number, **kwargs)


def quick_parse(words: list[str]) -> Any:
    """The namespace argparse would give for a plain `check` command line, without argparse; None for any
    other (help, an abbreviation, an error, ...), which argparse then parses and reports.

    A hook runs `domlint check FILE...` for every commit: importing argparse and
    building its parser costs more than checking a small file.
    """
    if not words or words[0] != "check":
        return None
    from types import SimpleNamespace

    rec = _Recorder()
    import_module(".commands.check", __package__).register(rec)
    if not rec.plain or len(rec.positionals) != 1:
        return None
    values: dict[str, Any] = {"version": None, "command": "check"}
    values.update((spec["dest"], spec["default"]) for spec in rec.order)
    paths: list[str] = []
    closed = False  # a run of positionals ended: argparse takes only one
    groups: dict[int, str] = {}
    i = 1
    while i < len(words):
        word = words[i]
        i += 1
        if not word.startswith("-") or word == "-":
            if closed:
                return None
            paths.append(word)
            continue
        if paths:
            closed = True
        name, eq, given = word.partition("=") if word.startswith("--") else (word, "", "")
        spec = rec.options.get(name)
        if spec is None:
            return None
        if spec["group"] and groups.setdefault(spec["group"], spec["dest"]) != spec["dest"]:
            return None  # options that exclude each other: argparse says which
        if spec["action"] == "store_true":
            if eq:
                return None
            values[spec["dest"]] = True
            continue
        if not eq:
            if i >= len(words) or (words[i].startswith("-") and words[i] != "-"):
                return None
            given = words[i]
            i += 1
        try:
            value = spec["type"](given) if spec["type"] is not None else given
        except Exception:
            return None
        if spec["choices"] is not None and value not in spec["choices"]:
            return None
        values[spec["dest"]] = [*(values[spec["dest"]] or []), value] if spec["action"] == "append" else value
    if not paths:
        return None
    values[rec.positionals[0]["dest"]] = paths
    values.update(rec.defaults)
    return SimpleNamespace(**values)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    # Start-up makes tens of thousands of objects that live until exit (modules, the rule pack, a profile):
    # the cyclic collector would walk them again and again and free nothing. It is paused while the command
    # starts, and for the whole run of a check of one file; any other run collects as usual.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _main(sys.argv[1:] if argv is None else argv, collecting)
    finally:
        if argv is None:
            # Run as the program, which now exits: the collections of interpreter shutdown need not walk
            # what the run made (frozen objects are still freed as their modules are torn down).
            gc.freeze()
        if collecting:
            gc.enable()


def _main(words: list[str], collecting: bool) -> int:
    from .errors import EXIT_UNUSABLE, DomlintError, UsageError
    from .rulepack import RuleErrors

    args = quick_parse(words)
    if args is None:
        # A run names its command first: build only that command's options, since
        # building every subcommand's parser costs more than checking a small file.
        named = words[0] if words and words[0] in COMMANDS else None
        parser = build_parser(named)
        args = parser.parse_args(words)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_UNUSABLE
    one_file = args.command == "check" and len(args.paths) == 1 and os.path.isfile(args.paths[0])
    if collecting and not one_file:
        gc.enable()
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


__all__ = ["build_parser", "main", "quick_parse"]
