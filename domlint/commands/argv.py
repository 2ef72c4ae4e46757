"""`domlint argv`: the offline counterpart of `virsh domxml-to-native qemu-argv`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..cmdline import Command

from .options import CAPS_HELP_MARK, EXIT_FINDINGS, EXIT_OK, FORMATTER, add_caps_options, add_incoming_options

EPILOG = """\
command line:
  libvirt 1.2.8's and libvirt 9.0's command lines are built (--libvirt
  1.2.8, --libvirt 9.0); for another target the domain is checked and then
  refused with exit status 2. Target, capabilities and host come from the options, else from the
  configuration `check` would read for the file, as in `check`. The domain
  is checked first, under the same capabilities; if any rule finds an error,
  the findings are printed on standard error and no command line is built.
  A domain for another hypervisor (a type the target's QEMU driver does not
  take, such as xen or lxc) has no QEMU command line: a one-line note on
  standard error, nothing on standard output, exit status 0.

incoming migration:
  --incoming URI builds -incoming for a start from a migration stream or a
  saved image (tcp:, unix:, exec:, fd:, or stdio with --incoming-fd N); the
  rules judge the same start, as `check --incoming` does.

formats:
  lines  one option per line, ready to paste into a shell (default); for
         libvirt 9.0 laid out as libvirt's own test files (.args) are
  line   one line, exactly as virsh domxml-to-native prints it (9.0:
         shell-quoted where a shell would read a word otherwise)
  json   a JSON list of strings: environment assignments, emulator, arguments

exit status:
  0 command line printed (or a note: not a QEMU domain), 1 the domain has
  errors, 2 unusable input or options.

examples:
  domlint argv --libvirt 1.2.8 guest.xml
  domlint argv --libvirt 1.2.8 --caps-profile qemu-1.6.0 --host myhost.yaml guest.xml
  domlint argv --libvirt 1.2.8 --format json guest.xml | jq -r '.[]'
  domlint argv --libvirt 9.0 --format line guest.xml
"""


NAME = "argv"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the argv subcommand."""
    p = sub.add_parser(NAME, help="print the QEMU command line libvirt would run",
                       description="Print the QEMU command line libvirt would build for a domain "
                                   "(libvirt 1.2.8's or 9.0's: --libvirt 1.2.8, --libvirt 9.0).",
                       epilog=CAPS_HELP_MARK + "\n" + EPILOG, formatter_class=FORMATTER)
    p.add_argument("path", metavar="FILE", help="domain XML file")
    add_caps_options(p)
    p.add_argument("--format", choices=("lines", "line", "json"), default="lines", help="output format")
    cfg = p.add_mutually_exclusive_group()
    cfg.add_argument("--config", "--config-file", dest="config", metavar="FILE", help="use this configuration file")
    cfg.add_argument("--no-config", action="store_true", help="read no configuration file")
    add_incoming_options(p)
    p.set_defaults(func=run)


def libvirt_lines(cmd: Command) -> str:
    """The layout of libvirt's virCommandToStringBuf with line breaks (9.0's test files), without the final newline.

    Each environment assignment ends its own line; an argument starts a new line
    unless it is an option's value: it does not start with '-', some option came
    before it, and it or a later argument is followed by an option.
    """
    out = "".join(f"{w} \\\n" for w in cmd.printable()[:len(cmd.env)])
    out += cmd.printable()[len(cmd.env)]
    raw = cmd.args
    quoted = cmd.printable()[len(cmd.env) + 1:]
    had_option = False
    for i, word in enumerate(raw):
        out += " "
        breaks = True
        if not word.startswith("-"):
            if had_option and any(w.startswith("-") for w in raw[i - 1:]):
                breaks = False
        else:
            had_option = True
        if breaks:
            out += "\\\n"
        out += quoted[i]
    return out


def format_command(cmd: Command, fmt: str, libvirt_layout: bool = False) -> str:
    """The command line in one of the output formats (`libvirt_layout`: lines as libvirt 9.0's test files)."""
    if fmt == "json":
        return json.dumps(cmd.words())
    if fmt == "line":
        return cmd.line()
    if libvirt_layout:
        return libvirt_lines(cmd)
    # One option and its value per line; environment first, then the emulator.
    words = cmd.printable()
    head = len(cmd.env) + 1
    rows = words[:head]
    raw, args = cmd.args, words[head:]
    i = 0
    while i < len(args):
        if raw[i].startswith("-") and i + 1 < len(args) and not raw[i + 1].startswith("-"):
            rows.append(f"{args[i]} {args[i + 1]}")
            i += 2
        else:
            rows.append(args[i])
            i += 1
    return " \\\n".join(rows)


def run(args: argparse.Namespace) -> int:
    """Emit one domain; 1 with the findings on stderr when it has errors."""
    # Imported here: `domlint check` never needs the emitter.
    from ..api import emit
    from ..checker import Checker, Options
    from ..cmdline import RunOptions
    from ..domain import foreign_hypervisor
    from ..errors import Refused
    from ..parse import parse_file
    from ..report import write_text

    # The same capability source, host and rules `check` would use for this file (options, then configuration).
    checker = Checker(Options(libvirt=args.libvirt, caps=args.caps, caps_profile=args.caps_profile, qemu_caps=args.qemu_caps,
                              host=args.host, config=args.config, use_config=not args.no_config))
    settings = checker.settings_for(Path(args.path).resolve())
    caps = settings.given_caps
    # libvirt speaks QMP to any QEMU that offers it.
    opts = RunOptions(migrate_from=args.incoming, migrate_fd=-1 if args.incoming_fd is None else args.incoming_fd,
                      json_monitor="monitor-json" in (caps if caps is not None else settings.caps))
    doc = parse_file(args.path)
    note = foreign_hypervisor(doc, settings.target)
    if note is not None:
        # Not a QEMU domain: there is no QEMU command line to print, and nothing is wrong.
        sys.stderr.write(f"{args.path}: note: {note}; no QEMU command line\n")
        return EXIT_OK
    try:
        cmd = emit(doc, caps=caps, host=settings.host, options=opts, engine=settings.engine)
    except Refused as exc:
        write_text(sys.stderr, exc.findings, True)
        sys.stderr.write(f"{args.path}: not emitted: {len(exc.findings)} error(s)\n")
        return EXIT_FINDINGS
    layout = settings.target is not None and settings.target.name != "1.2.8"
    sys.stdout.write(format_command(cmd, args.format, libvirt_layout=layout) + "\n")
    return EXIT_OK
