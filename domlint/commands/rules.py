"""`domlint rules`: list the rules, show one, and run the examples of built-in or user rules."""

from __future__ import annotations

import argparse
import difflib
import json
import sys
import textwrap
from pathlib import Path

from ..engine import Engine, Rule, load_engine
from ..errors import UsageError
from .options import EXIT_FINDINGS, EXIT_OK, FORMATTER, add_output_options, add_target_option

LIST_EPILOG = """\
examples:
  domlint rules list
  domlint rules list --rules my-rules/ --format json
"""
SHOW_EPILOG = """\
examples:
  domlint rules show disk-ide-readonly
  domlint rules show --rules my-rules/ disk-my-check
"""
TEST_EPILOG = """\
Each invalid example must make its rule fire, each valid one must not; a rule
with a fix must mend each invalid example (the rule falls silent, nothing new fires).
Exit status: 0 all passed, 1 an example failed, 2 a rule file cannot be loaded.

examples:
  domlint rules test                 # the built-in rule pack
  domlint rules test my-rules/       # only the rules in my-rules/
  domlint rules test -v my-rules/a.yaml
"""


NAME = "rules"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the rules subcommand and its own subcommands."""
    p = sub.add_parser(NAME, help="list, show and test rules",
                       description="Inspect the rule pack and run the examples embedded in rules.",
                       epilog="examples:\n  domlint rules list\n  domlint rules show disk-ide-readonly\n"
                              "  domlint rules test my-rules/\n", formatter_class=FORMATTER)
    rsub = p.add_subparsers(dest="rules_command", metavar="ACTION", required=True)
    ls = rsub.add_parser("list", help="id, severity, summary and capabilities of every rule",
                         description="List every rule: id, severity, summary and the capabilities it depends on.",
                         epilog=LIST_EPILOG, formatter_class=FORMATTER)
    ls.add_argument("--rules", action="append", default=[], metavar="DIR", help="also load the rules in DIR")
    ls.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    add_target_option(ls)
    add_output_options(ls)
    ls.set_defaults(func=run_list)
    show = rsub.add_parser("show", help="a whole rule, with its examples",
                           description="Print one rule as written in its file, examples included.",
                           epilog=SHOW_EPILOG, formatter_class=FORMATTER)
    show.add_argument("rule_id", metavar="ID", help="the rule id")
    show.add_argument("--rules", action="append", default=[], metavar="DIR", help="also load the rules in DIR")
    add_target_option(show)
    add_output_options(show)
    show.set_defaults(func=run_show)
    test = rsub.add_parser("test", help="run the examples of built-in or user rules",
                           description="Run the examples of the rules in DIR (default: the built-in pack).",
                           epilog=TEST_EPILOG, formatter_class=FORMATTER)
    test.add_argument("dirs", nargs="*", metavar="DIR", help="rule directories or files")
    test.add_argument("-v", "--verbose", action="store_true", help="list passing examples too")
    add_target_option(test)
    add_output_options(test)
    test.set_defaults(func=run_test)
    prof = rsub.add_parser("profiles", help="the built-in QEMU capability profiles of a target",
                           description="List the target's built-in QEMU profiles (for --caps-profile): name, "
                                       "QEMU version, architecture, number of capability flags; `*` marks the "
                                       "default of each architecture, the newest.",
                           epilog="examples:\n  domlint rules profiles\n  domlint rules profiles --libvirt 1.2.8\n",
                           formatter_class=FORMATTER)
    add_target_option(prof)
    add_output_options(prof)
    prof.set_defaults(func=run_profiles)


def caps_text(rule: Rule) -> str:
    """The capability condition of a rule in a few words ('' when it holds for any QEMU)."""
    parts = []
    for key, names in rule.body.get("caps", {}).items():
        parts.append(f"{key.replace('_', ' ')}: {', '.join(names)}")
    if rule.body.get("needs"):
        parts.append(f"needs: {', '.join(rule.body['needs'])}")
    return "; ".join(parts)


def run_list(args: argparse.Namespace) -> int:
    """Print one line (or JSON object) per rule."""
    engine = load_engine(args.rules, target=args.libvirt)
    if args.format == "json":
        rows = [{"id": r.id, "severity": r.severity, "stage": r.stage, "summary": r.summary,
                 "caps": r.body.get("caps", {}), "needs": r.body.get("needs", []),
                 "fix": fix_kind(r),
                 "source": f"{r.path}:{r.line}"} for r in engine.rules]
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    wid = max([len(r.id) for r in engine.rules] + [2])
    sys.stdout.write(f"{'ID':<{wid}}  SEVERITY  SUMMARY  [CAPABILITIES]\n")
    for r in engine.rules:
        caps = caps_text(r)
        sys.stdout.write(f"{r.id:<{wid}}  {r.severity:<8}  {r.summary}{f'  [{caps}]' if caps else ''}\n")
    if not args.quiet:
        sys.stderr.write(f"{len(engine.rules)} rules for {engine.target.label}\n")
    return EXIT_OK


def fix_kind(rule: Rule) -> str | None:
    """safe when check --fix mends the rule's findings, unsafe when only --unsafe-fixes does, else None."""
    remedies = rule.body.get("fix")
    if not remedies:
        return None
    return "safe" if any(r["safe"] for r in (remedies if isinstance(remedies, list) else [remedies])) else "unsafe"


def run_profiles(args: argparse.Namespace) -> int:
    """Print one line per built-in profile of the target, the default of each arch marked."""
    from .. import caps as capsmod
    from .. import target as targetmod

    t = targetmod.resolve(args.libvirt)
    table = capsmod.profile_info(t)
    defaults = {capsmod.newest_profile(t, info.get("arch")).source.removeprefix("profile ") for info in table.values()}
    wid = max([len(n) for n in table] + [4])
    sys.stdout.write(f"  {'NAME':<{wid}}  {'QEMU':<8}  {'ARCH':<8}  FLAGS\n")
    for name, info in table.items():
        mark = "*" if name in defaults else " "
        version = info.get("version") or name.removeprefix("qemu-").split("-")[0]
        sys.stdout.write(f"{mark} {name:<{wid}}  {version!s:<8}  {info.get('arch') or 'any'!s:<8}  {len(info['flags'])}\n")
    if not args.quiet:
        sys.stderr.write(f"{len(table)} profiles for {t.label}; * the default for its arch (the newest)\n")
    return EXIT_OK


def _find(engine: Engine, rule_id: str) -> Rule:
    if rule_id in engine.by_id:
        return engine.by_id[rule_id]
    close = difflib.get_close_matches(rule_id, list(engine.by_id), 3)
    maybe = f"; did you mean {', '.join(close)}?" if close else "; see `domlint rules list`"
    raise UsageError(f"no rule {rule_id!r}{maybe}")


def rule_source(rule: Rule, engine: Engine) -> str:
    """The text of rule as its file holds it, comments and examples included."""
    try:
        lines = Path(rule.path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        # The file went away after loading (rules can come from the cache): show the parsed form.
        import yaml

        return yaml.safe_dump([rule.body], sort_keys=False, allow_unicode=True, width=110)
    later = [r.line for r in engine.rules if r.path == rule.path and r.line > rule.line]
    end = min(later) - 1 if later else len(lines)
    block = lines[rule.line - 1:end]
    # Comments and blank lines before the next rule belong to it.
    while block and (not block[-1].strip() or block[-1].lstrip().startswith("#")):
        block.pop()
    return textwrap.dedent("\n".join(block)) + "\n"


def run_show(args: argparse.Namespace) -> int:
    """Print one rule."""
    engine = load_engine(args.rules, target=args.libvirt)
    rule = _find(engine, args.rule_id)
    text = rule_source(rule, engine)
    span = rule.body.get("libvirt")
    # A range the rule inherits from its file is not in its own text: say it.
    inherited = f"# libvirt releases (the file's range): {span}\n" if span and "libvirt:" not in text else ""
    sys.stdout.write(f"# {rule.path}:{rule.line}\n{inherited}{fix_line(rule)}{text}")
    return EXIT_OK


def fix_line(rule: Rule) -> str:
    """Whether the rule can mend what it finds (`check --fix`), as a comment line of `rules show`."""
    from ..fix import alternatives, describe

    remedies = alternatives(rule.body.get("fix"))
    if not remedies:
        return "# fix: none (check --fix leaves its findings as they are)\n"
    kinds = [f"{describe(r)}{' where ' + r['when'] if 'when' in r else ''} "
             f"({'safe' if r['safe'] else 'unsafe: --unsafe-fixes'})" for r in remedies]
    return f"# fix: check --fix can mend it: {'; or '.join(kinds)}\n"


def run_test(args: argparse.Namespace) -> int:
    """Run every example; list failures on stdout, counts on stderr."""
    engine = (load_engine(args.dirs, builtin=False, target=args.libvirt) if args.dirs
              else load_engine(target=args.libvirt))
    from ..selftest import run_all

    results = run_all(engine)
    failed = 0
    for res in results:
        rule = engine.by_id[res.rule_id]
        if not res.ok:
            failed += 1
            sys.stdout.write(f"{rule.path}:{rule.line}: FAIL {res.name}: {res.detail}\n")
        elif args.verbose:
            sys.stdout.write(f"{rule.path}:{rule.line}: ok {res.name}\n")
    if not args.quiet:
        sys.stderr.write(f"{len(results)} examples of {len(engine.rules)} rules: "
                         f"{len(results) - failed} passed, {failed} failed\n")
    fix_failed = _test_fixes(engine, args)
    return EXIT_FINDINGS if failed or fix_failed else EXIT_OK


def _test_fixes(engine: Engine, args: argparse.Namespace) -> int:
    """Mend each invalid example of each rule with a fix; list failures; return how many failed."""
    from ..fix import example_result

    fixing = [r for r in engine.rules if r.body.get("fix")]
    if not fixing:
        return 0
    total = failed = 0
    for rule in fixing:
        for i in range(len(rule.body["examples"]["invalid"])):
            total += 1
            ok, detail = example_result(engine, rule, i)
            if not ok:
                failed += 1
                sys.stdout.write(f"{rule.path}:{rule.line}: FAIL {rule.id}/fix[{i}]: {detail}\n")
            elif args.verbose:
                sys.stdout.write(f"{rule.path}:{rule.line}: ok {rule.id}/fix[{i}]: {detail or 'not offered here'}\n")
    if not args.quiet:
        plural = "s" if len(fixing) != 1 else ""
        sys.stderr.write(f"{total} fix example{'s' if total != 1 else ''} of {len(fixing)} rule{plural}: "
                         f"{total - failed} passed, {failed} failed\n")
    return failed
