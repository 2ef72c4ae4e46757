"""The `domlint` command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__, attach
from . import caps as capsmod
from .domain import normalise
from .engine import Engine, load_engine, matches_id
from .errors import DomlintError, UsageError
from .findings import Finding
from .host import Host, default_host
from .host import load as load_host
from .parse import parse_file
from .report import write_json, write_text
from .rulepack import RuleErrors

EXIT_OK, EXIT_FINDINGS, EXIT_UNUSABLE = 0, 1, 2

CHECK_EPILOG = """\
capabilities:
  With no --caps, --caps-profile or --qemu-caps, every QEMU capability is
  taken as present, so only checks that hold for any QEMU fire.

exit status:
  0 no errors, 1 errors found (warnings too with --fail-on warning),
  2 an input, rule file or option could not be used.

examples:
  domlint check guest.xml
  domlint check --caps-profile qemu-1.6.0 /etc/libvirt/qemu/
  domlint check --qemu-caps /var/cache/libvirt/qemu/capabilities/X.xml guest.xml
  domlint check --format json --ignore disk-io-native-cache guest.xml
"""


def _ids(text: str) -> set[str]:
    return {t.strip() for t in text.split(",") if t.strip()}


def _add_caps_options(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--caps", metavar="A,B,C", help="capability flag names present (libvirt spelling)")
    g.add_argument("--caps-profile", metavar="NAME",
                   help=f"built-in QEMU profile: {', '.join(capsmod.profiles())}")
    g.add_argument("--qemu-caps", metavar="FILE",
                   help="XML with <flag name=.../> elements, such as libvirt's capabilities cache")
    p.add_argument("--host", metavar="HOST.yaml", help="host profile (default: a plain local host)")


ATTACH_EPILOG = """\
what it does:
  Adds DEVICE.xml to a copy of the domain the way libvirt 1.2.8's
  attach-device --config adds it, reports what libvirt would refuse (a disk
  target, controller index or address already taken, the same host device
  twice, ...), then runs every rule over the result. Findings about the
  device name DEVICE.xml and its lines. No file is ever written.
  DEVICE.xml holds one <disk>, <interface>, <hostdev>, <controller>,
  <filesystem>, <lease>, <serial>, <parallel>, <console> or <channel>.

capabilities and exit status: as for `domlint check`.

examples:
  domlint attach-check guest.xml disk.xml
  domlint attach-check --domain-name web1 --caps-profile 1.6.0 disk.xml
  domlint attach-check --connect test:///default --domain-name test disk.xml
"""


def _add_report_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=("text", "json"), default="text", help="report format")
    p.add_argument("--fail-on", choices=("error", "warning"), default="error",
                   help="lowest severity that makes the exit status 1 (default: error)")
    p.add_argument("--rules", action="append", default=[], metavar="DIR",
                   help="also load the rule files in DIR (repeatable)")
    p.add_argument("--select", type=_ids, default=set(), metavar="IDS",
                   help="only these rule ids or id prefixes (comma-separated)")
    p.add_argument("--ignore", type=_ids, default=set(), metavar="IDS",
                   help="skip these rule ids or id prefixes (comma-separated)")
    p.add_argument("--no-hints", action="store_true", help="leave out the fix hints")
    p.add_argument("--no-cache", action="store_true", help="validate rule files again, ignoring the cache")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(
        prog="domlint",
        description="Validate libvirt domain XML against what QEMU will accept.",
        epilog="examples:\n  domlint check guest.xml\n  domlint check --caps-profile 1.6.0 guests/\n"
               "  domlint attach-check guest.xml disk.xml\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"domlint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("check", help="check domain XML files",
                       description="Check libvirt domain XML files (directories: every *.xml below).",
                       epilog=CHECK_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="+", metavar="PATH", help="domain XML files or directories")
    _add_caps_options(p)
    _add_report_options(p)
    a = sub.add_parser("attach-check", help="check a device before virsh attach-device --config",
                       usage="domlint attach-check [options] (DOMAIN.xml | --domain-name NAME) DEVICE.xml",
                       description="Check what `virsh attach-device DOMAIN DEVICE.xml --config` would store.",
                       epilog=ATTACH_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument("files", nargs="+", metavar="FILE", help="DOMAIN.xml (unless --domain-name) and DEVICE.xml")
    a.add_argument("--domain-name", metavar="NAME",
                   help="read the domain with `virsh dumpxml --inactive NAME` instead of a file")
    a.add_argument("--connect", "-c", metavar="URI", help="libvirt URI for virsh (with --domain-name)")
    _add_caps_options(a)
    _add_report_options(a)
    return parser


def resolve_caps_options(args: argparse.Namespace) -> capsmod.Caps:
    """The capability set the options name (all present when none)."""
    if args.caps is not None:
        return capsmod.from_list(args.caps)
    if args.caps_profile:
        return capsmod.from_profile(args.caps_profile)
    if args.qemu_caps:
        return capsmod.from_file(args.qemu_caps)
    return capsmod.all_caps()


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


def run_check(args: argparse.Namespace) -> int:
    """`domlint check`: report every file, return the exit status."""
    caps = resolve_caps_options(args)
    host: Host = load_host(args.host) if args.host else default_host()
    engine: Engine = load_engine(args.rules, use_cache=not args.no_cache)
    _known_ids(args, [r.id for r in engine.rules])
    findings: list[Finding] = []
    errors: list[DomlintError] = []
    targets = expand_paths(args.paths)
    for target in targets:
        if isinstance(target, DomlintError):
            errors.append(target)
            continue
        try:
            doc = parse_file(target)
            normalise(doc, host)
            findings.extend(engine.evaluate(doc, caps, args.select or None, args.ignore or None, host))
        except DomlintError as exc:
            errors.append(exc)
    if args.format == "json":
        write_json(sys.stdout, findings, errors, len(targets))
    else:
        write_text(sys.stdout, findings, not args.no_hints)
        for e in errors:
            sys.stderr.write(f"{e}\n")
        _summary(findings, errors, len(targets))
    return _exit_status(args, findings, errors)


def _known_ids(args: argparse.Namespace, ids: list[str]) -> None:
    unknown = [i for i in args.select | args.ignore if not any(matches_id(r, {i}) for r in ids)]
    if unknown:
        raise UsageError(f"no rule matches {', '.join(sorted(unknown))}")


def _exit_status(args: argparse.Namespace, findings: list[Finding], errors: list[DomlintError]) -> int:
    if errors:
        return EXIT_UNUSABLE
    levels = ("error",) if args.fail_on == "error" else ("error", "warning")
    return EXIT_FINDINGS if any(f.severity in levels for f in findings) else EXIT_OK


def run_attach_check(args: argparse.Namespace) -> int:
    """`domlint attach-check`: merge the device into a copy of the domain, report, return the exit status."""
    want = 1 if args.domain_name else 2
    if len(args.files) != want:
        raise UsageError("give DOMAIN.xml and DEVICE.xml" if want == 2
                         else "with --domain-name, give only DEVICE.xml")
    if args.connect and not args.domain_name:
        raise UsageError("--connect goes with --domain-name")
    caps = resolve_caps_options(args)
    host: Host = load_host(args.host) if args.host else default_host()
    engine: Engine = load_engine(args.rules, use_cache=not args.no_cache)
    _known_ids(args, [r.id for r in engine.rules] + list(attach.REFUSAL_IDS))
    findings: list[Finding] = []
    errors: list[DomlintError] = []
    domain = device = None
    try:
        domain = attach.dumpxml(args.domain_name, args.connect) if args.domain_name else parse_file(args.files[0])
    except DomlintError as exc:
        errors.append(exc)
    try:
        device = attach.device_document(parse_file(args.files[-1], roots=None))
    except DomlintError as exc:
        errors.append(exc)
    if domain is not None and device is not None:
        merged = attach.merge(domain, device, host)
        findings = attach.check_merge(merged, engine, caps, host, args.select or None, args.ignore or None)
    if args.format == "json":
        write_json(sys.stdout, findings, errors, 2)
    else:
        write_text(sys.stdout, findings, not args.no_hints)
        for e in errors:
            sys.stderr.write(f"{e}\n")
        _summary(findings, errors, 2)
    return _exit_status(args, findings, errors)


def _summary(findings: list[Finding], errors: list[DomlintError], files: int) -> None:
    n_err = sum(f.severity == "error" for f in findings)
    n_warn = sum(f.severity == "warning" for f in findings)
    parts = [f"{files} file{'s' if files != 1 else ''} checked", f"{n_err} error(s)", f"{n_warn} warning(s)"]
    if errors:
        parts.append(f"{len(errors)} unusable")
    sys.stderr.write(", ".join(parts) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_UNUSABLE
    try:
        if args.command == "check":
            return run_check(args)
        if args.command == "attach-check":
            return run_attach_check(args)
    except RuleErrors as exc:
        for e in exc.errors:
            sys.stderr.write(f"{e}\n")
        return EXIT_UNUSABLE
    except (UsageError, DomlintError) as exc:
        sys.stderr.write(f"domlint: {exc}\n")
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        return 130
    return EXIT_UNUSABLE


__all__ = ["main"]
