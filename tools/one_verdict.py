#!/usr/bin/env python3
"""Measure that check and argv agree: whatever `check` passes, `argv` builds.

Every distinct domain of a conformance manifest (default: the public libvirt
1.2.8 cases) is checked with the target of the manifest, the default host
(or --host), and each built-in QEMU profile of the target plus no profile
(the target's default); the case's incoming migration, if any, is given to
both. Each domain `check` passes is handed to `argv`, and counted as

  built       argv printed a command line
  host fact   argv needs a host fact no default can know, and said which
              profile key to add (one line)
  refused     argv refused what check passed: the disagreement to fix

Usage:
    python tools/one_verdict.py [MANIFEST] [--host HOST.yaml] [--show N]

Prints one line per refused domain (up to --show), a line per host-fact
profile key, and the summary
    passed N; built N; host fact N; refused N
Exit status 1 when any domain is refused.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from domlint import api  # noqa: E402
from domlint import caps as capsmod  # noqa: E402
from domlint import host as hostmod  # noqa: E402
from domlint import target as targetmod  # noqa: E402
from domlint.cmdline import RunOptions  # noqa: E402
from domlint.engine import load_engine  # noqa: E402
from domlint.errors import HostFactMissing, InputError, Refused  # noqa: E402

DEFAULT_MANIFEST = REPO.parent / "shared" / "conformance" / "libvirt-1.2.8" / "manifest.json"


@dataclass
class Tally:
    """What argv made of the domains check passed."""

    passed: int = 0
    built: int = 0
    host_fact: Counter[str] = field(default_factory=Counter)
    refused: list[str] = field(default_factory=list)


def measure(manifest_path: Path, host: hostmod.Host) -> Tally:
    """Check and, where check passes, build every distinct domain of a manifest under every profile and none."""
    manifest = json.loads(manifest_path.read_text())
    target = targetmod.load(str(manifest.get("libvirt_version") or "1.2.8"))
    engine = load_engine(target=target)
    modes: list[str | None] = [None, *capsmod.profiles(target)]
    tally = Tally()
    seen: set[str] = set()
    for case in manifest["cases"]:
        if case["xml"] in seen:
            continue
        seen.add(case["xml"])
        path = manifest_path.parent / case["xml"]
        data = path.read_bytes()
        incoming = case.get("migrate_from")
        fd = case.get("migrate_fd", -1)
        options = RunOptions(migrate_from=incoming, migrate_fd=fd)
        for mode in modes:
            caps = None if mode is None else capsmod.from_profile(mode, target)
            try:
                findings = api.check(data, caps=caps, host=host, path=str(path), engine=engine,
                                     incoming=incoming, incoming_fd=fd if fd >= 0 else None)
            except InputError:
                continue
            if any(f.severity == "error" for f in findings):
                continue
            tally.passed += 1
            try:
                api.emit(data, caps=caps, host=host, path=str(path), engine=engine, options=options)
                tally.built += 1
            except HostFactMissing as exc:
                tally.host_fact[exc.key] += 1
            except (InputError, Refused) as exc:
                tally.refused.append(f"{case['xml']} under {mode or 'no profile'}: {exc}")
    return tally


def main(argv: list[str] | None = None) -> int:
    """Measure, print, exit 1 on any refusal."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("manifest", nargs="?", type=Path, default=DEFAULT_MANIFEST)
    ap.add_argument("--host", type=Path, help="host profile (default: domlint's default host)")
    ap.add_argument("--show", type=int, default=20, help="refused domains to list (default 20)")
    args = ap.parse_args(argv)
    host = hostmod.load(args.host) if args.host else hostmod.default_host()
    tally = measure(args.manifest, host)
    for line in tally.refused[:args.show]:
        sys.stdout.write(f"refused: {line}\n")
    for key, n in sorted(tally.host_fact.items()):
        sys.stdout.write(f"host fact `{key}`: {n}\n")
    sys.stdout.write(f"passed {tally.passed}; built {tally.built}; host fact {sum(tally.host_fact.values())}; "
                     f"refused {len(tally.refused)}\n")
    return 1 if tally.refused else 0


if __name__ == "__main__":
    raise SystemExit(main())
