#!/usr/bin/env python3
"""Throughput of `check` over the public conformance domains, in one process."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from domlint import caps as capsmod  # noqa: E402
from domlint.domain import normalise  # noqa: E402
from domlint.engine import load_engine  # noqa: E402
from domlint.host import load as load_host  # noqa: E402
from domlint.parse import parse_file  # noqa: E402


def main() -> int:
    """Print load time, domains per second and the slowest five domains."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "conformance" / "libvirt-1.2.8")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    cases = json.loads((args.corpus / "manifest.json").read_text())["cases"]
    files = sorted({args.corpus / c["xml"] for c in cases})
    t0 = time.perf_counter()
    engine = load_engine()
    t_load = time.perf_counter() - t0
    host = load_host(REPO / "tests" / "hosts" / "conformance.yaml")
    caps = capsmod.all_caps()
    per_file: dict[Path, float] = {}
    t0 = time.perf_counter()
    for _ in range(args.rounds):
        for f in files:
            s = time.perf_counter()
            doc = parse_file(f)
            normalise(doc, host)
            engine.evaluate(doc, caps, host=host)
            per_file[f] = per_file.get(f, 0.0) + time.perf_counter() - s
    elapsed = time.perf_counter() - t0
    n = len(files) * args.rounds
    print(f"rules: {len(engine.rules)}, loaded and compiled in {t_load * 1000:.1f} ms")
    print(f"check: {n} domains in {elapsed:.2f} s = {n / elapsed:.0f} domains/s")
    for f, t in sorted(per_file.items(), key=lambda kv: -kv[1])[:5]:
        print(f"  slowest: {f.name} {t / args.rounds * 1000:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
