#!/usr/bin/env python3
"""Wall time of `domlint check` over every conformance domain with -j 1 and -j N, as a user runs it.

Each run is a fresh `python -m domlint check` process, so interpreter start, worker start
and rule compilation are all counted. --copies K checks each domain K times (symlinks in a
temporary directory) to see how the figures scale with the size of a tree.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# These figures are for the libvirt 1.2.8 corpus and rule book (the target a run names
# no other way); the 9.0 book is measured once it is whole (issue 17).
os.environ.setdefault("DOMLINT_LIBVIRT", "1.2.8")


REPO = Path(__file__).resolve().parent.parent


def _tree(cases: Path, copies: int, into: Path) -> Path:
    """cases itself, or a directory holding copies symlinks to each of its domains."""
    if copies <= 1:
        return cases
    for i in range(copies):
        for f in sorted(cases.glob("*.xml")):
            (into / f"{i:03d}-{f.name}").symlink_to(f)
    return into


def _wall(target: Path, jobs: str, rounds: int) -> list[float]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "domlint", "check", "-q", "-j", jobs,
           "--host", str(REPO / "tests" / "hosts" / "conformance.yaml"), str(target)]
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, check=False)
        times.append(time.perf_counter() - t0)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"domlint check -j {jobs} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return times


def main() -> int:
    """Print the wall times of -j 1 and each other job count."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "conformance" / "libvirt-1.2.8")
    ap.add_argument("--jobs", default="1,2", help="comma-separated job counts (default: 1,2)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--copies", type=int, default=1, help="check each domain this many times")
    args = ap.parse_args()
    cases = args.corpus / "cases"
    with tempfile.TemporaryDirectory() as tmp:
        target = _tree(cases, args.copies, Path(tmp))
        n = len(list(target.glob("*.xml")))
        print(f"{n} domains, {args.rounds} rounds, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
        for jobs in args.jobs.split(","):
            times = _wall(target, jobs.strip(), args.rounds)
            best, median = min(times), statistics.median(times)
            print(f"check -j {jobs.strip():>4}: best {best:.3f} s, median {median:.3f} s, {n / median:.0f} domains/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
