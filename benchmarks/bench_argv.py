#!/usr/bin/env python3
"""Throughput of `argv` (check, then emit) over every public `argv` case, in one process."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "conformance"))

from run import ALWAYS_CAPS, anchor_host, case_host, case_options  # noqa: E402

import domlint  # noqa: E402
from domlint import host as hostmod  # noqa: E402


def main() -> int:
    """Print cases per second and the slowest five cases."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "conformance" / "libvirt-1.2.8")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    cases = [c for c in json.loads((args.corpus / "manifest.json").read_text())["cases"] if c["expect"] == "argv"]
    host = anchor_host(hostmod.load(REPO / "tests" / "hosts" / "conformance.yaml"), args.corpus)
    domlint.check(args.corpus / cases[0]["xml"], host=host)  # load and compile the rules outside the timing
    per_case: dict[str, float] = {}
    failed = 0
    t0 = time.perf_counter()
    for _ in range(args.rounds):
        for case in cases:
            start = time.perf_counter()
            try:
                domlint.emit(args.corpus / case["xml"], caps=set(case["caps"]) | set(ALWAYS_CAPS),
                             host=case_host(host, case), options=case_options(case))
            except (domlint.Refused, domlint.DomlintError):
                failed += 1
            per_case[case["id"]] = per_case.get(case["id"], 0.0) + time.perf_counter() - start
    elapsed = time.perf_counter() - t0
    n = len(cases) * args.rounds
    print(f"argv: {n} command lines in {elapsed:.2f} s = {n / elapsed:.0f} cases/s"
          f" ({failed // args.rounds} of {len(cases)} cases refused)")
    for cid, t in sorted(per_case.items(), key=lambda kv: -kv[1])[:5]:
        print(f"  slowest: {cid} {t / args.rounds * 1000:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
