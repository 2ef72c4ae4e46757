#!/usr/bin/env python3
"""Where the selects of a check spend their time, and two ways of asking fewer that do not pay.

For each target, over the public conformance domains (normalised as check does), prints:
the selects the engine's fact index wakes per domain and how many find nothing; their
lxml time per domain, the empty ones' share, and the costliest; then the same woken
selects asked as one XPath expression per domain (each select's existence as a digit of
one concat(), compiled outside the timing), each `when` folded into its select as a
predicate against asked apart, and one plain select walked by hand in Python against
lxml. None pays: the cost is libxml2's own work on each select, not Python's per-call
overhead, and Python walks a tree more slowly than libxml2 (benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from lxml import etree  # noqa: E402

from domlint.checker import Checker, Options  # noqa: E402
from domlint.domain import normalise  # noqa: E402
from domlint.errors import DomlintError  # noqa: E402
from domlint.parse import Document, parse_bytes  # noqa: E402
from domlint.predicates import compile_xpath  # noqa: E402


def _best(fn: Callable[[], object], rounds: int) -> float:
    """The least CPU time of rounds runs of fn, in seconds."""
    best = float("inf")
    for _ in range(rounds):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def measure(target: str, files: list[Path], rounds: int, top: int) -> None:
    """Print the select figures of one target."""
    checker = Checker(Options(libvirt=target))
    settings = checker.settings_for(files[0])
    engine = settings.engine
    plan = engine._plan(settings.caps, None, None)
    docs: list[Document] = []
    for f in files:
        try:
            docs.append(normalise(parse_bytes(f.read_bytes(), str(f)), settings.host, settings.target, settings.caps))
        except DomlintError:
            continue  # refused at reading: check never evaluates its selects
    n = len(docs)
    woken = [[plan.group(g) for g in plan.candidates(d.walk.facts if d.walk is not None else set())] for d in docs]
    empty = [[e for e, _ in groups if not engine._select(e)(d.tree)] for d, groups in zip(docs, woken, strict=True)]
    print(f"libvirt {target}: {n} domains, {len(plan.live_groups())} live selects; woken per domain "
          f"{sum(map(len, woken)) / n:.1f}, of which {sum(map(len, empty)) / n:.1f} find nothing")

    def ask_all() -> None:
        for d, groups in zip(docs, woken, strict=True):
            for e, _ in groups:
                engine._select(e)(d.tree)

    def ask_empty() -> None:
        for d, exprs in zip(docs, empty, strict=True):
            for e in exprs:
                engine._select(e)(d.tree)
    combined = [compile_xpath("concat(" + ",".join(f"number(boolean({e}))" for e, _ in groups) + ",'')")
                for groups in woken]

    def ask_combined() -> None:
        for d, xp in zip(docs, combined, strict=True):
            xp(d.tree)
    every = _best(ask_all, rounds)
    print(f"  woken selects, one lxml call each:          {every / n * 1e6:6.0f} us a domain")
    print(f"  of which the ones that find nothing:        {_best(ask_empty, rounds) / n * 1e6:6.0f} us a domain")
    print(f"  all woken selects as one expression:        {_best(ask_combined, rounds) / n * 1e6:6.0f} us a domain")

    # A when asked per selected element, against the when folded into its select.
    folded = {(e, r.id): compile_xpath(f"({e})[boolean({r.when})]")
              for e, live in plan.live_groups() for r in live if r.when}

    def whens_apart() -> None:
        for d, groups in zip(docs, woken, strict=True):
            for e, live in groups:
                found = [x for x in engine._select(e)(d.tree) if isinstance(x, etree._Element)]
                for r in live:
                    when = r.compiled.when_xp
                    if when is not None and found:
                        for el in found:
                            when(el)

    def whens_folded() -> None:
        for d, groups in zip(docs, woken, strict=True):
            for e, live in groups:
                if any(not r.when for r in live):
                    engine._select(e)(d.tree)
                for r in live:
                    if r.when:
                        folded[(e, r.id)](d.tree)
    print(f"  selects, then each when per element:        {_best(whens_apart, rounds) / n * 1e6:6.0f} us a domain")
    print(f"  each when folded into its select:           {_best(whens_folded, rounds) / n * 1e6:6.0f} us a domain")

    # The best case for answering a select in Python instead: a plain path with one attribute test,
    # walked by hand (a general evaluator of such paths measured slower still).
    expr = "/domain/devices/disk[@device='disk']"
    xp = compile_xpath(expr)

    def by_hand(tree: etree._ElementTree) -> list[etree._Element]:
        root = tree.getroot()
        if root.tag != "domain":
            return []
        return [disk for devices in root.iterchildren("devices") for disk in devices.iterchildren("disk")
                if disk.get("device") == "disk"]
    assert all(by_hand(d.tree) == xp(d.tree) for d in docs)
    lx = _best(lambda: [xp(d.tree) for d in docs], rounds)
    py = _best(lambda: [by_hand(d.tree) for d in docs], rounds)
    print(f"  {expr}: lxml {lx / n * 1e6:.2f} us, by hand in Python {py / n * 1e6:.2f} us a domain")

    cost: Counter[str] = Counter()
    for d, groups in zip(docs, woken, strict=True):
        for e, _ in groups:
            xp = engine._select(e)
            t0 = time.perf_counter()
            xp(d.tree)
            cost[e] += time.perf_counter() - t0
    total = sum(cost.values())
    print(f"  costliest selects (share of {total / n * 1e6:.0f} us a domain, one timed pass):")
    for e, spent in cost.most_common(top):
        print(f"    {spent / total:5.1%}  {' '.join(e.split())[:110]}")


def main() -> int:
    """Print the figures for both targets."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "conformance" / "libvirt-1.2.8")
    ap.add_argument("--rounds", type=int, default=5, help="timed rounds of each figure (least CPU time kept)")
    ap.add_argument("--top", type=int, default=8, help="costliest selects to list")
    args = ap.parse_args()
    manifest = args.corpus / "manifest.json"
    if not manifest.is_file():
        print(f"select_costs.py: {manifest}: no conformance corpus there (--corpus DIR)", file=sys.stderr)
        return 2
    files = sorted({args.corpus / c["xml"] for c in json.loads(manifest.read_text())["cases"]})
    for target in ("1.2.8", "9.0"):
        measure(target, files, args.rounds, args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
