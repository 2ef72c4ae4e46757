#!/usr/bin/env python3
"""The XPath floor of `check`: what lxml alone spends evaluating the rule pack's XPath on each domain.

Checks every public conformance domain once under each target while recording
every XPath evaluation the rules make (selects, whens, test values), then
replays exactly those evaluations, and nothing else, in a tight loop. That time
is a floor for any `check` that keeps rules as XPath evaluated by lxml: parsing,
normalisation, the typed tests, 1.2.8's address assignment and reporting all
come on top. Against xmllint's time per file (bench.py) it bounds the
throughput ratio the current design can reach.

    python benchmarks/xpath_floor.py [--corpus DIR] [--rounds N] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from domlint import engine, predicates  # noqa: E402
from domlint.checker import Checker, Options  # noqa: E402

TARGETS = ("1.2.8", "9.0")
Call = tuple[Any, Any, dict[str, Any]]
# Whether each recorded expression (by id of its compiled XPath) was compiled for smart strings.
SMART_STRINGS: dict[int, bool] = {}


class _Recorded:
    """An XPath that logs each evaluation (compiled expression, node, variables) before making it."""

    __slots__ = ("log", "path", "xp")

    def __init__(self, xp: Any, log: list[Call]) -> None:
        self.xp = xp
        self.path = xp.path
        self.log = log

    def __call__(self, node: Any, **variables: Any) -> Any:
        self.log.append((self.xp, node, variables))
        return self.xp(node, **variables)


def record(files: list[Path], target: str) -> list[Call]:
    """Every XPath evaluation (compiled expression, node, variables) a check of files makes under target,
    with rules met for the first time already compiled."""
    log: list[Call] = []
    compile_xpath = predicates.compile_xpath

    def recording(expr: str, smart_strings: bool = False) -> _Recorded:
        xp = compile_xpath(expr, smart_strings=smart_strings)
        SMART_STRINGS[id(xp)] = smart_strings
        return _Recorded(xp, log)

    # This process's own Checker: every expression it compiles goes through the recorder.
    predicates.compile_xpath = engine.compile_xpath = recording  # type: ignore[assignment]
    try:
        checker = Checker(Options(libvirt=target))
        for path in files:
            checker.outcome(path)
        log.clear()
        for path in files:
            checker.outcome(path)
    finally:
        predicates.compile_xpath = engine.compile_xpath = compile_xpath  # type: ignore[assignment]
    return log


def replay(calls: list[Call], rounds: int) -> float:
    """The best time of rounds replays of calls, in seconds."""
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for xp, node, variables in calls:
            xp(node, **variables)
        best = min(best, time.perf_counter() - t0)
    return best


def floor(files: list[Path], target: str, rounds: int) -> tuple[float, float]:
    """(XPath evaluations per domain, best replay time per domain in seconds) under one target."""
    calls = record(files, target)
    return len(calls) / len(files), replay(calls, rounds) / len(files)


def main() -> int:
    """Print the XPath floor per domain under each target."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "conformance" / "libvirt-1.2.8")
    ap.add_argument("--rounds", type=int, default=5, help="replays timed (best one kept)")
    ap.add_argument("--json", action="store_true", help="print {target: seconds per domain} only")
    args = ap.parse_args()
    cases = json.loads((args.corpus / "manifest.json").read_text())["cases"]
    files = sorted({args.corpus / c["xml"] for c in cases})
    found = {target: floor(files, target, args.rounds) for target in TARGETS}
    if args.json:
        print(json.dumps({target: per_domain for target, (_, per_domain) in found.items()}))
        return 0
    for target, (evaluations, per_domain) in found.items():
        print(f"xpath:    {target}: {evaluations:.0f} XPath evaluations per domain; lxml alone spends "
              f"{per_domain * 1e6:.0f} us per domain on them ({len(files)} domains, best of {args.rounds} replays)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
