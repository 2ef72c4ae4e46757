"""`domlint check` parsed without argparse: the same namespace argparse gives, or argparse itself."""

from __future__ import annotations

import pytest

from domlint.cli import build_parser, quick_parse

PLAIN = [
    ["check", "a.xml"],
    ["check", "--libvirt", "9.0", "a.xml"],
    ["check", "a.xml", "b.xml", "--libvirt", "1.2.8"],
    ["check", "-q", "--libvirt=9.0", "a.xml", "b.xml"],
    ["check", "--rules", "x", "--rules", "y", "--select", "disk,net", "--ignore", "a", "-j", "auto", "a.xml"],
    ["check", "-j", "3", "-o", "-", "a.xml"],
    ["check", "--libvirt=", "a.xml"],
    ["check", "--format", "json", "--fail-on", "warning", "--exclude", "a, b", "--extend-exclude", "c", "--fix",
     "--unsafe-fixes", "--statistics", "--exit-zero", "a.xml"],
    ["check", "--caps", "a,b", "--host", "h.yaml", "--config", "c.toml", "--baseline", "b.json", "--incoming", "tcp:x",
     "--incoming-fd", "3", "--color", "never", "--no-hints", "--no-cache", "a.xml"],
    ["check", "--caps-profile", "p", "--write-baseline", "b.json", "--diff", "--no-config", "-v", "--force-exclude",
     "--skip-non-domain", "--no-respect-gitignore", "--no-inline-suppressions", "--report-unused-suppressions", "d/"],
    ["check", "-", "--stdin-filename", "x.xml"],
    ["check", "--qemu-caps", "q.xml", "--config-file", "c", "--output-file", "out", ""],
]

# What argparse alone decides: help, abbreviations, clusters, errors of every kind.
OTHERS = [
    ["check"], ["check", "--help"], ["check", "-h"], ["check", "--lib", "9.0", "a.xml"], ["check", "-qv", "a.xml"],
    ["check", "-j4", "a.xml"], ["check", "--", "a.xml"], ["check", "a.xml", "-q", "b.xml"],
    ["check", "--format", "bogus", "a.xml"], ["check", "--fix", "--diff", "a.xml"], ["check", "-j", "x", "a.xml"],
    ["check", "--caps", "a", "--caps-profile", "b", "a.xml"], ["check", "--libvirt"], ["check", "--quiet=1", "a.xml"],
    ["check", "--select", "-x", "a.xml"], ["check", "--no-config", "--config", "c", "a.xml"], ["check", "-1.xml"],
    ["--version"], ["rules", "list"], [],
]


@pytest.mark.parametrize("words", PLAIN, ids=" ".join)
def test_a_plain_check_line_parses_as_argparse_parses_it(words: list[str]) -> None:
    quick = quick_parse(words)
    assert quick is not None
    assert vars(quick) == vars(build_parser("check").parse_args(words))


@pytest.mark.parametrize("words", OTHERS, ids=" ".join)
def test_anything_else_is_left_to_argparse(words: list[str]) -> None:
    assert quick_parse(words) is None


def test_random_lines_parse_as_argparse_parses_them_or_go_to_argparse(capsys: pytest.CaptureFixture[str]) -> None:
    # Lines drawn from check's own option words, values that are good, bad or look like options,
    # and paths anywhere: whatever quick_parse answers must be argparse's answer.
    import random

    words = ["--libvirt", "--libvirt=9.0", "--format", "-j", "-q", "-v", "--fix", "--diff", "--select", "--caps",
             "--caps-profile", "--no-config", "--config", "--exclude", "--incoming-fd", "--color", "--", "-",
             "--lib", "-qv", "--fail-on", "--stdin-filename"]
    values = ["9.0", "1.2.8", "json", "text", "bogus", "2", "auto", "x", "-x", "-1", "", "a,b", "never", "warning"]
    paths = ["a.xml", "b.xml", "dir/"]
    rng = random.Random(17)
    decided = 0
    for _ in range(3000):
        line = ["check"] + [rng.choice(rng.choice((words, words, values, paths))) for _ in range(rng.randrange(7))]
        quick = quick_parse(line)
        try:
            full = vars(build_parser("check").parse_args(line))
        except SystemExit:
            full = None
        capsys.readouterr()
        if quick is not None:
            decided += 1
            assert vars(quick) == full, line
    assert decided > 100  # the property is about lines quick_parse takes: enough of them were drawn
