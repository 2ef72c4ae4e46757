"""Options shared by every command that checks domains, and the end of such a run.

`add_check_options` gives a subcommand the capability sources, rule selection,
configuration, suppressions, baseline and report format; `checker_from_args` turns
them into a Checker; `finish` writes the report and returns the exit status.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, TextIO

from .. import formats
from ..checker import Checker, Options
from ..errors import EXIT_FINDINGS, EXIT_OK, EXIT_UNUSABLE, DomlintError, UsageError
from ..findings import Finding
from ..terminal import use_color

if TYPE_CHECKING:
    import argparse

    from ..start import Start


# Stands in --help texts for what only the target data says; the formatter fills them in when help is shown,
# so that building a parser reads no target (a check names its own).
CAPS_HELP_MARK = "{caps help}"
TARGET_NAMES_MARK, NEWEST_MARK = "{target names}", "{newest target}"
_FORMATTER: Any = None


def FORMATTER(prog: str, **kwargs: Any) -> argparse.HelpFormatter:
    """argparse's raw-description help formatter (as formatter_class), with the target facts filled in."""
    global _FORMATTER
    if _FORMATTER is None:
        import argparse

        class Formatter(argparse.RawDescriptionHelpFormatter):
            """Fills in the marks of the target paragraphs and of --libvirt's help."""

            def _format_text(self, text: str) -> str:
                if CAPS_HELP_MARK in text:
                    text = text.replace(CAPS_HELP_MARK, caps_help())
                return super()._format_text(text)

            def _get_help_string(self, action: argparse.Action) -> str:
                text = super()._get_help_string(action) or ""
                if TARGET_NAMES_MARK in text or NEWEST_MARK in text:
                    from .. import target

                    text = text.replace(TARGET_NAMES_MARK, ", ".join(target.names())).replace(
                        NEWEST_MARK, target.newest().name)
                return text

        _FORMATTER = Formatter
    return _FORMATTER(prog, **kwargs)

# The target and capability paragraphs of check, argv and attach-check --help; caps_help() fills them in.
CAPS_HELP = (
    "A verdict is for one libvirt release, the target: --libvirt, else the configuration key `libvirt`, "
    "else the DOMLINT_LIBVIRT environment variable, else the newest target domlint knows, {newest} "
    "(known: {names}). A domain whose type is none of the target's QEMU driver types ({hypervisors} for "
    "{newest}) is not judged: it gets a note and leaves the exit status 0.",
    "The verdict is also for one QEMU capability source. With no --caps, --caps-profile or --qemu-caps "
    "(on the command line or in the configuration), each domain is judged under the host profile's "
    "capability file for its architecture (qemu_caps, as `domlint host snapshot` writes it), else the "
    "target's newest built-in QEMU profile for the domain's architecture (`domlint rules profiles "
    "--libvirt X` lists them): the same default for check, argv and attach-check. The summary line of check and "
    "attach-check names the target and the capability source.",
)


def caps_help() -> str:
    """The `target and capabilities:` section of --help, with the targets domlint knows."""
    import textwrap

    from .. import target

    newest = target.newest()
    facts = {"newest": newest.label, "names": ", ".join(target.names()),
             "hypervisors": ", ".join(newest.hypervisors)}
    paragraphs = [textwrap.fill(p.format(**facts), 76, initial_indent="  ", subsequent_indent="  ",
                                break_on_hyphens=False)
                  for p in CAPS_HELP]
    return "target and capabilities:\n" + "\n".join(paragraphs) + "\n"


CONFIG_HELP = """\
configuration:
  [tool.domlint] in pyproject.toml or .domlint.yaml, looked for from each
  checked file's directory upwards; options given here replace its settings.

suppressions:
  <!-- domlint: ignore RULE[,RULE] - reason --> just before an element
  silences those rules for it and everything inside it; ignore-next silences
  them on the next element's line only; ignore-file [RULE,...] - reason,
  anywhere, silences them (or every rule) in the whole file.
"""


def ids(text: str) -> set[str]:
    """A comma-separated list of rule ids or prefixes."""
    return {t.strip() for t in text.split(",") if t.strip()}


def add_output_options(p: argparse.ArgumentParser) -> None:
    """--quiet and --color, for every command."""
    p.add_argument("-q", "--quiet", action="store_true", help="no summary on standard error")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help="colour the text report (auto: only on a terminal, and never with NO_COLOR set)")


TARGET_HELP = ("the libvirt release the verdict is for: {names} (default: the newest, {newest}; "
               "configuration key `libvirt`)")


def add_target_option(p: argparse.ArgumentParser) -> None:
    """--libvirt: which target release judges the domain."""
    p.add_argument("--libvirt", metavar="VERSION", default=None,
                   help=TARGET_HELP.format(names=TARGET_NAMES_MARK, newest=NEWEST_MARK))


def add_caps_options(p: argparse.ArgumentParser) -> None:
    """The target, the capability sources and the host profile."""
    add_target_option(p)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--caps", metavar="A,B,C", help="capability flag names present (libvirt spelling)")
    g.add_argument("--caps-profile", metavar="NAME",
                   help="built-in QEMU profile of the target (`domlint rules profiles` lists them; "
                        "default: the target's newest for the domain's arch)")
    g.add_argument("--qemu-caps", metavar="FILE",
                   help="libvirt's capability cache file of the QEMU binary "
                        "(/var/cache/libvirt/qemu/capabilities/*.xml)")
    p.add_argument("--host", metavar="HOST.yaml", help="host profile (default: a plain local host)")


def add_check_options(p: argparse.ArgumentParser, virsh_config: bool = False) -> None:
    """Every option of a command that checks domains and reports findings (virsh_config: --config is
    virsh's flag, as in attach-check, and the configuration file is named with --config-file only)."""
    add_caps_options(p)
    p.add_argument("--format", choices=formats.names(), default="text",
                   help="report format: " + "; ".join(f"{name}: {text}" for name, text in formats.HELP.items()))
    p.add_argument("--fail-on", choices=("error", "warning"), default="error",
                   help="lowest severity that makes the exit status 1 (default: error)")
    p.add_argument("--exit-zero", action="store_true",
                   help="exit 0 even when findings fail the check (an unusable input still exits 2)")
    p.add_argument("--statistics", action="store_true",
                   help="print how many findings each rule has instead of the findings (text or json)")
    p.add_argument("-o", "--output-file", metavar="FILE",
                   help="write the report to FILE instead of standard output")
    p.add_argument("--rules", action="append", default=None, metavar="DIR",
                   help="also load the rule files in DIR (repeatable)")
    p.add_argument("--select", type=ids, default=None, metavar="IDS",
                   help="only these rule ids or id prefixes (comma-separated)")
    p.add_argument("--ignore", type=ids, default=None, metavar="IDS",
                   help="skip these rule ids or id prefixes (comma-separated)")
    cfg = p.add_mutually_exclusive_group()
    names = ("--config-file",) if virsh_config else ("--config", "--config-file")
    cfg.add_argument(*names, dest="config", metavar="FILE", help="use this configuration file for every file")
    cfg.add_argument("--no-config", action="store_true", help="read no configuration file")
    p.add_argument("--no-inline-suppressions", action="store_true",
                   help="ignore <!-- domlint: ignore ... --> comments")
    p.add_argument("--report-unused-suppressions", action="store_true",
                   help="report suppressions that silenced nothing")
    base = p.add_mutually_exclusive_group()
    base.add_argument("--baseline", metavar="FILE", help="report only findings that FILE does not record")
    base.add_argument("--write-baseline", metavar="FILE", help="record every finding in FILE and exit 0")
    p.add_argument("--no-hints", action="store_true", help="leave out the fix hints")
    p.add_argument("--no-cache", action="store_true", help="validate rule files again, ignoring the cache")
    add_output_options(p)


def checker_from_args(args: argparse.Namespace, extra_ids: tuple[str, ...] = ()) -> Checker:
    """A Checker for what the options say (extra_ids: finding ids the command adds beyond the rules)."""
    return Checker(Options(extra_ids=extra_ids, libvirt=args.libvirt,
        caps=args.caps, caps_profile=args.caps_profile, qemu_caps=args.qemu_caps, host=args.host,
        rules=args.rules, select=args.select, ignore=args.ignore, config=args.config,
        use_config=not args.no_config, inline_suppressions=not args.no_inline_suppressions,
        report_unused=args.report_unused_suppressions, use_cache=not args.no_cache,
        start=start_from_args(args),
    ))


def add_incoming_options(p: argparse.ArgumentParser) -> None:
    """--incoming and --incoming-fd: judge (and build) a start from an incoming migration or a saved image."""
    p.add_argument("--incoming", metavar="URI",
                   help="judge a start from an incoming migration: tcp:HOST:PORT, exec:CMD, fd:N, unix:PATH, or "
                        "stdio (a saved image, as virsh restore; needs --incoming-fd)")
    p.add_argument("--incoming-fd", type=_descriptor, metavar="N",
                   help="with --incoming stdio: the descriptor libvirt hands QEMU the saved image on")


def _descriptor(text: str) -> int:
    if not text.strip().isdigit():
        import argparse

        raise argparse.ArgumentTypeError(f"{text!r} is not a file descriptor number (0 or more)")
    return int(text)


def start_from_args(args: argparse.Namespace) -> Start | None:
    """The start the options describe (None: a plain start)."""
    uri = getattr(args, "incoming", None)
    if uri is None:
        return None
    from ..start import Start  # only a start from an incoming migration needs it

    return Start(uri, getattr(args, "incoming_fd", None))


def report_root(start: str | None = None) -> str:
    """Where report paths are taken from: the git top-level above start (the current directory), or start."""
    here = d = os.path.abspath(start or os.getcwd())
    while not os.path.exists(os.path.join(d, ".git")):
        parent = os.path.dirname(d)
        if parent == d:
            return here
        d = parent
    return d


def finish(args: argparse.Namespace, checker: Checker, findings: list[Finding],
           errors: list[DomlintError], others: int = 0, fixes: dict | None = None) -> int:
    """Apply or write the baseline, write the report, the summary, and return the exit status.

    others: how many XML files a directory search skipped as not domains;
    fixes: the SARIF fix of findings that have one, by (path, rule id, xpath).
    """
    unique: dict[str, DomlintError] = {}
    for e in errors:
        unique.setdefault(str(e), e)
    errors = list(unique.values())
    if args.write_baseline or args.baseline:
        from .. import baseline as baselinemod
    if args.write_baseline:
        n = baselinemod.write(args.write_baseline, findings)
        for e in errors:
            sys.stderr.write(f"{e}\n")
        if not args.quiet:
            sys.stderr.write(f"wrote {n} finding(s) to baseline {args.write_baseline}\n")
        return EXIT_UNUSABLE if errors else EXIT_OK
    gone = 0
    if args.baseline:
        known = baselinemod.load(args.baseline)
        findings, gone = known.filter(findings)
        if known.upgrade_note and not args.quiet:
            sys.stderr.write(f"note: {known.upgrade_note}\n")
    levels = ("error",) if args.fail_on == "error" else ("error", "warning")
    report = formats.Report(
        findings=findings, errors=errors, checked=checker.checked, rules=checker.rules, fail_on=levels,
        root=report_root(), show_hints=not args.no_hints, color=use_color(sys.stdout, args.color),
        target=verdict_target(checker), caps_source=formats.distinct([c.caps for c in checker.checked]),
        fixes=fixes or {},
    )
    write_report(args, report)
    if args.format == "text":
        for e in errors:
            sys.stderr.write(f"{e}\n")
    if not args.quiet:
        summary(report, gone if args.baseline else None, others)
    if errors:
        return EXIT_UNUSABLE
    if getattr(args, "exit_zero", False):
        return EXIT_OK
    return EXIT_FINDINGS if any(f.severity in levels for f in findings) else EXIT_OK


def write_report(args: argparse.Namespace, report: formats.Report) -> None:
    """The report (or --statistics) on standard output, or in --output-file."""
    statistics = getattr(args, "statistics", False)
    if statistics and args.format not in ("text", "json"):
        raise UsageError(f"--statistics prints text or json, not {args.format}")
    name = getattr(args, "output_file", None)
    if name and name != "-":
        try:
            out = open(name, "w", encoding="utf-8")  # noqa: SIM115 - closed below, after the write
        except OSError as exc:
            raise DomlintError(name, None, f"cannot write the report: {exc.strerror or exc}") from None
        report.color = False
    else:
        out = sys.stdout
    try:
        if statistics:
            write_statistics(out, report, args.format)
        else:
            formats.get(args.format)(out, report)
        out.flush()
    finally:
        if out is not sys.stdout:
            out.close()


def statistics(report: formats.Report) -> list[dict[str, object]]:
    """Per rule with a finding: its count, severity and summary, the most frequent first."""
    counts: dict[str, int] = {}
    severity: dict[str, str] = {}
    for f in report.findings:
        counts[f.rule_id] = counts.get(f.rule_id, 0) + 1
        severity.setdefault(f.rule_id, f.severity)
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [{"rule": rid, "count": n, "severity": severity[rid],
             "summary": report.rules[rid].summary if rid in report.rules else ""} for rid, n in rows]


def write_statistics(out: TextIO, report: formats.Report, fmt: str) -> None:
    """--statistics: one line (or JSON object) per rule that has findings, as ruff --statistics prints."""
    rows = statistics(report)
    if fmt == "json":
        import json

        json.dump(rows, out, indent=2)
        out.write("\n")
        return
    wid = max([len(str(r["rule"])) for r in rows] + [4])
    num = max([len(str(r["count"])) for r in rows] + [1])
    for r in rows:
        out.write(f"{r['count']:>{num}}  {r['rule']:<{wid}}  {r['severity']:<7}  {r['summary']}\n")


def verdict_target(checker: Checker) -> str:
    """The libvirt target(s) the files were judged for; with none judged, the one the options name."""
    found = formats.distinct([c.target for c in checker.checked])
    if found:
        return found
    from .. import target

    try:
        return target.resolve(checker.options.libvirt).label
    except UsageError:
        return ""


def summary(report: formats.Report, baseline_gone: int | None, others: int = 0) -> None:
    """One line of counts on standard error, and what the verdict is for."""
    files = report.files
    n_err = sum(f.severity == "error" for f in report.findings)
    n_warn = sum(f.severity == "warning" for f in report.findings)
    parts = [f"{files} file{'s' if files != 1 else ''} checked", f"{n_err} error(s)", f"{n_warn} warning(s)"]
    if report.notes:
        parts.append(f"{len(report.notes)} skipped (not for QEMU)")
    if others:
        parts.append(f"{others} other XML file{'s' if others != 1 else ''} skipped (not <domain>; -v lists them)")
    if report.errors:
        parts.append(f"{len(report.errors)} unusable")
    if baseline_gone:
        parts.append(f"{baseline_gone} baseline entr{'ies' if baseline_gone != 1 else 'y'} no longer found")
    line = ", ".join(parts)
    if report.target:
        line += f"; target {report.target}"
    if report.caps_source:
        line += f", QEMU capabilities: {report.caps_source}"
    sys.stderr.write(line + "\n")
