#!/usr/bin/env python3
"""Command lines per second for each libvirt target domlint builds, over its conformance corpus's argv cases.

One process; for each target (1.2.8 and 9.0) every argv case is built as
tests/conformance/run.py builds it (the case's capabilities, test host and run
options), through the public API. Prints, per target, the time of the rules
alone (`domlint.check`), of the whole command line (`domlint.emit`: parse,
normalise, rules, emitter) and what the emitter adds, the best of --rounds
rounds; then how many of the lines built match the corpus byte for byte, so a
figure never stands for broken output. It asserts no speed.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "conformance"))

from bench import _best as best  # noqa: E402  (the timing bench.py uses: fastest of N rounds)
from run import (  # noqa: E402
    HOSTS,
    anchor_host,
    case_caps,
    case_host,
    case_options,
    join_args,
    target_of,
)

import domlint  # noqa: E402
from domlint import caps as capsmod  # noqa: E402
from domlint import host as hostmod  # noqa: E402
from domlint.cmdline import RunOptions  # noqa: E402

# The corpora, by directory name under --conformance, oldest target first.
CORPORA = ("libvirt-1.2.8", "libvirt-9.0")


@dataclass
class Job:
    """One argv case with everything it is built from, made before any timing."""

    xml: Path
    caps: capsmod.Caps
    host: hostmod.Host
    options: RunOptions
    want: str


def jobs_of(root: Path, limit: int | None) -> tuple[str, list[Job]]:
    """The target a corpus is for and its argv cases (the first limit of them), ready to build."""
    manifest: dict[str, Any] = json.loads((root / "manifest.json").read_text())
    target = target_of(manifest)
    host = anchor_host(hostmod.load(HOSTS[target]), root)
    cases = [c for c in manifest["cases"] if c["expect"] == "argv" and c.get("args")][:limit]
    return target, [Job(root / c["xml"], case_caps(root, c, target), case_host(host, c), case_options(c),
                        join_args((root / c["args"]).read_text())) for c in cases]


def measure(target: str, jobs: list[Job], rounds: int) -> None:
    """Time the rules and the whole command line over jobs, and print the figures of one target."""
    def check_all() -> None:
        for j in jobs:
            domlint.check(j.xml, caps=j.caps, host=j.host, libvirt=target)

    lines: list[str | None] = []

    def emit_all() -> None:
        lines.clear()
        for j in jobs:
            try:
                lines.append(domlint.emit(j.xml, caps=j.caps, host=j.host, options=j.options, libvirt=target).line())
            except (domlint.Refused, domlint.DomlintError):  # counted below as not exact
                lines.append(None)

    emit_all()  # rule book, capability files and emitter modules loaded outside the timing
    t_check = best(check_all, rounds)
    t_emit = best(emit_all, rounds)
    n = len(jobs)
    exact = sum(got == j.want for got, j in zip(lines, jobs, strict=True))
    print(f"libvirt {target}: {n} command lines in {t_emit * 1000:.0f} ms = {n / t_emit:,.0f} lines/s "
          f"(domlint.emit: parse, normalise, rules, emitter)")
    print(f"  rules alone: {t_check * 1000:.0f} ms = {n / t_check:,.0f} domains/s (domlint.check); "
          f"emitter adds {(t_emit - t_check) * 1000:.0f} ms = {(t_emit - t_check) / n * 1e3:.2f} ms per line")
    print(f"  {exact}/{n} byte for byte as the corpus's .args")


def main() -> int:
    """Print the figures of every target whose corpus is there."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--conformance", type=Path, default=REPO.parent / "shared" / "conformance",
                    help="the folder holding libvirt-1.2.8/ and libvirt-9.0/ (default: %(default)s)")
    ap.add_argument("--rounds", type=int, default=3, help="timed rounds per figure, best kept (default: 3)")
    ap.add_argument("--cases", type=int, default=None, metavar="N",
                    help="only the first N argv cases of each corpus (default: all)")
    args = ap.parse_args()
    missing = [name for name in CORPORA if not (args.conformance / name / "manifest.json").exists()]
    if missing:
        print(f"bench_argv: no manifest.json under {args.conformance} for {', '.join(missing)} "
              f"(pass --conformance DIR)", file=sys.stderr)
        return 2
    print(f"argv throughput, one process, best of {args.rounds} round(s)")
    for name in CORPORA:
        target, jobs = jobs_of(args.conformance / name, args.cases)
        measure(target, jobs, args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
