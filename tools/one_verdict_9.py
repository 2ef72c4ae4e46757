#!/usr/bin/env python3
"""Measure that check and argv agree under libvirt 9.0: whatever `check` passes, `argv` builds.

Every distinct domain of the 9.0 conformance corpus, of tests/realworld/ and of
examples/ is checked with `--libvirt 9.0`, the default host (or --host), and
each built-in 9.0 QEMU profile plus none (the newest profile for the domain's
architecture, as `domlint argv` picks with no option). Each domain `check`
passes is handed to `argv` with the same options, and counted as

  built       argv printed a command line
  host fact   argv needs a fact of the host no default can know (a secret, a
              storage pool, a USB device on the host...) and said in one line
              which host profile key to add
  refused     argv refused what check passed: the disagreement to fix

With --mutants N, N mutated corpus domains (tests/mutate.py, seed --seed) are
measured instead, under no profile: a search for the disagreements the corpus
does not show (a mutant the emitter crashes on counts as refused too).

Usage:
    python tools/one_verdict_9.py [--host HOST.yaml] [--only corpus|realworld|examples] [--show N]
    python tools/one_verdict_9.py --mutants 3000 --seed 1

Prints the refusals grouped by message (the domain's own names and numbers
replaced by `…`, with up to --show examples each), a line per host-fact
profile key, and the summary
    passed N; built N; host fact N; refused N
Exit status 1 when any domain is refused.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from domlint import api  # noqa: E402
from domlint import caps as capsmod  # noqa: E402
from domlint import host as hostmod  # noqa: E402
from domlint import target as targetmod  # noqa: E402
from domlint.engine import load_engine  # noqa: E402
from domlint.errors import InputError, Refused  # noqa: E402

MANIFEST = REPO.parent / "shared" / "conformance" / "libvirt-9.0" / "manifest.json"
SOURCES = ("corpus", "realworld", "examples")


@dataclass
class Tally:
    """What argv made of the domains check passed."""

    passed: int = 0
    built: int = 0
    host_fact: Counter[str] = field(default_factory=Counter)
    # message pattern -> the domains (and profile) argv refused with it
    refused: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    @property
    def refused_count(self) -> int:
        """How many (domain, profile) pairs argv refused."""
        return sum(len(v) for v in self.refused.values())


def domains(only: str | None = None, manifest: Path = MANIFEST) -> list[Path]:
    """The XML files measured: the corpus's distinct domains, tests/realworld/, examples/."""
    out: list[Path] = []
    if only in (None, "corpus") and manifest.is_file():
        cases = json.loads(manifest.read_text())["cases"]
        out += sorted({manifest.parent / c["xml"] for c in cases})
    if only in (None, "realworld"):
        out += sorted((REPO / "tests" / "realworld").glob("*.xml"))
    if only in (None, "examples"):
        out += sorted((REPO / "examples").glob("*.xml"))
    return out


_QUOTED = re.compile(r"'[^'\s]+'|\"[^\"]*\"|\b0x[0-9a-fA-F]+\b|\b\d+\b")


def pattern(message: str) -> str:
    """A refusal's message with what names one domain's parts (quoted values, numbers) left out, to group by."""
    return _QUOTED.sub("…", message)


def mutants(count: int, seed: int, manifest: Path = MANIFEST) -> list[tuple[str, bytes]]:
    """count mutated corpus domains, each (name, bytes); mutant i of a seed is always the same."""
    import random

    from tests import mutate

    cases, pool = mutate.load_corpus(manifest.parent)
    out = []
    for i in range(count):
        rng = random.Random(seed * 1000003 + i)
        case = rng.choice(cases)
        out.append((f"mutant {i} of {case.id}", mutate.mutate(case.data, rng, pool, max_mutations=2, broken_rate=0)))
    return out


def measure(files: list[Path] | list[tuple[str, bytes]], host: hostmod.Host,
            profiles: list[str | None] | None = None) -> Tally:
    """Check each file under each profile (and none); where check passes, build it and count the outcome."""
    target = targetmod.load("9.0")
    engine = load_engine(target=target)
    modes: list[str | None] = profiles if profiles is not None else [None, *capsmod.profiles(target)]
    tally = Tally()
    for item in files:
        path, data = (item, item.read_bytes()) if isinstance(item, Path) else (Path(item[0]), item[1])
        for mode in modes:
            caps = None if mode is None else capsmod.from_profile(mode, target)
            try:
                findings = api.check(data, caps=caps, host=host, path=str(path), engine=engine)
            except InputError:
                continue
            if any(f.severity == "error" for f in findings):
                continue
            tally.passed += 1
            try:
                api.emit(data, caps=caps, host=host, path=str(path), engine=engine)
                tally.built += 1
            except InputError as exc:
                key = getattr(exc, "key", None)
                if exc.message.startswith("no command line: "):
                    # Another hypervisor's domain: check notes it, argv says so and exits 0. Not judged.
                    tally.passed -= 1
                elif key:
                    tally.host_fact[key] += 1
                else:
                    tally.refused[pattern(exc.message)].append(f"{_short(path)} under {mode or 'no profile'}")
            except Refused as exc:  # check passed, so the emitter's own rules cannot find errors
                tally.refused[f"Refused: {exc}"].append(f"{_short(path)} under {mode or 'no profile'}")
            except Exception as exc:  # a crash of the emitter is the worst disagreement
                tally.refused[f"crash: {type(exc).__name__}"].append(f"{_short(path)} under {mode or 'no profile'}: "
                                                                     f"{exc}")
    return tally


def _short(path: Path) -> str:
    if not path.is_absolute():
        return str(path)
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path.relative_to(MANIFEST.parent)) if path.is_relative_to(MANIFEST.parent) else str(path)


def main(argv: list[str] | None = None) -> int:
    """Measure, print, exit 1 on any refusal."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--host", type=Path, help="host profile (default: domlint's default host)")
    ap.add_argument("--only", choices=SOURCES, help="measure one source of domains")
    ap.add_argument("--profile", action="append", help="a built-in profile to use (repeatable; 'none' for none); "
                                                       "default: every built-in 9.0 profile and none")
    ap.add_argument("--manifest", type=Path, default=MANIFEST, help="the 9.0 conformance manifest")
    ap.add_argument("--show", type=int, default=3, help="example domains per refusal message (default 3)")
    ap.add_argument("--mutants", type=int, help="measure this many mutated corpus domains instead (under no profile)")
    ap.add_argument("--seed", type=int, default=1, help="the mutants' seed (default 1)")
    args = ap.parse_args(argv)
    host = hostmod.load(args.host) if args.host else hostmod.default_host()
    profiles = None if not args.profile else [None if p == "none" else p for p in args.profile]
    if args.mutants:
        tally = measure(mutants(args.mutants, args.seed, args.manifest), host, profiles or [None])
    else:
        tally = measure(domains(args.only, args.manifest), host, profiles)
    for message, where in sorted(tally.refused.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        sys.stdout.write(f"refused {len(where)}: {message}\n")
        for line in where[:args.show]:
            sys.stdout.write(f"    {line}\n")
    for key, n in sorted(tally.host_fact.items()):
        sys.stdout.write(f"host fact `{key}`: {n}\n")
    sys.stdout.write(f"passed {tally.passed}; built {tally.built}; host fact {sum(tally.host_fact.values())}; "
                     f"refused {tally.refused_count}\n")
    return 1 if tally.refused_count else 0


if __name__ == "__main__":
    raise SystemExit(main())
