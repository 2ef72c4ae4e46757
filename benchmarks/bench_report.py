#!/usr/bin/env python3
"""Cost of the run around the engine: configuration, suppressions, and each report format, in one process."""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path

# These figures are for the libvirt 1.2.8 corpus and rule book (the target a run names
# no other way); the 9.0 book is measured once it is whole (issue 17).
os.environ.setdefault("DOMLINT_LIBVIRT", "1.2.8")


REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from domlint import formats  # noqa: E402
from domlint.checker import Checker, Options  # noqa: E402


def _check(files: list[Path], options: Options) -> tuple[float, Checker, list]:
    checker = Checker(options)
    checker.settings_for(files[0])  # load the rules outside the timing
    t0 = time.perf_counter()
    found = [f for path in files for f in checker.check_file(path)]
    return time.perf_counter() - t0, checker, found


def main() -> int:
    """Print seconds per run of checking the corpus with and without the extras, and per format."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "conformance" / "libvirt-1.2.8")
    ap.add_argument("--caps-profile", default="1.2.2", help="profile to check under (more findings than all caps)")
    args = ap.parse_args()
    files = sorted((args.corpus / "cases").glob("*.xml"))
    plain, _, _ = _check(files, Options(caps_profile=args.caps_profile, use_config=False, inline_suppressions=False))
    full, checker, found = _check(files, Options(caps_profile=args.caps_profile, report_unused=True))
    print(f"{len(files)} files, {len(found)} findings under {args.caps_profile}")
    print(f"  {'check, engine only':<40} {plain * 1000:8.1f} ms")
    print(f"  {'check with configuration, suppressions':<40} {full * 1000:8.1f} ms")
    report = formats.Report(findings=found, checked=checker.checked, rules=checker.rules, root=REPO)
    for fmt in formats.FORMATS.values():
        out = io.StringIO()
        t0 = time.perf_counter()
        fmt.write(out, report)
        took = time.perf_counter() - t0
        print(f"  {'format ' + fmt.name:<40} {took * 1000:8.1f} ms {len(out.getvalue()) / 1024:8.1f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
