"""Measure that check and argv agree: whatever `check` passes, `argv` builds (libvirt 1.2.8 or 9.0).

Every distinct domain of the target's conformance corpus (with --libvirt 9.0 also
tests/realworld/ and examples/) is checked with the target, the default host (or
--host), and each built-in QEMU profile of the target plus none (the target's
default; under 9.0 the newest profile for the domain's architecture, as `domlint
argv` picks with no option); a 1.2.8 case's incoming migration, if any, is given
to both. Each domain `check` passes is handed to `argv` with the same options,
and counted as

  built       argv printed a command line
  host fact   argv needs a fact of the host no default can know (a secret, a
              storage pool, a USB device on the host...) and said in one line
              which host profile key to add
  refused     argv refused it: a disagreement between the two

With --mutants N, N mutated corpus domains (tests/mutate.py, seed --seed) are
measured instead, under no profile: a search for the disagreements the corpus
does not show (a mutant the emitter crashes on counts as refused too).

    python tools/one_verdict.py [MANIFEST] [--host HOST.yaml] [--show N]
    python tools/one_verdict.py --libvirt 9.0 [--only corpus|realworld|examples] [--show N]
    python tools/one_verdict.py --libvirt 9.0 --mutants 3000 --seed 1

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
from domlint.cmdline import RunOptions  # noqa: E402
from domlint.engine import load_engine  # noqa: E402
from domlint.errors import HostFactMissing, InputError, Refused  # noqa: E402

CONFORMANCE = REPO.parent / "shared" / "conformance"
MANIFESTS = {"1.2.8": CONFORMANCE / "libvirt-1.2.8" / "manifest.json",
             "9.0": CONFORMANCE / "libvirt-9.0" / "manifest.json"}
SOURCES = ("corpus", "realworld", "examples")


@dataclass(frozen=True)
class Domain:
    """One domain to measure: where it is from, its bytes and the incoming migration it starts with."""

    path: Path
    data: bytes
    incoming: str | None = None
    fd: int = -1


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


def corpus(manifest: Path, incoming: bool = True) -> list[Domain]:
    """The distinct domains of a conformance manifest, each with its first case's incoming migration (if asked)."""
    seen: dict[str, Domain] = {}
    for case in json.loads(manifest.read_text())["cases"]:
        if case["xml"] not in seen:
            path = manifest.parent / case["xml"]
            seen[case["xml"]] = Domain(path, path.read_bytes(), case.get("migrate_from") if incoming else None,
                                       case.get("migrate_fd", -1) if incoming else -1)
    return [seen[name] for name in sorted(seen)]


def domains(only: str | None = None, manifest: Path = MANIFESTS["9.0"]) -> list[Path]:
    """The 9.0 XML files measured: the corpus's distinct domains, tests/realworld/, examples/."""
    out: list[Path] = []
    if only in (None, "corpus") and manifest.is_file():
        out += [d.path for d in corpus(manifest, incoming=False)]
    if only in (None, "realworld"):
        out += sorted((REPO / "tests" / "realworld").glob("*.xml"))
    if only in (None, "examples"):
        out += sorted((REPO / "examples").glob("*.xml"))
    return out


_QUOTED = re.compile(r"'[^'\s]+'|\"[^\"]*\"|\b0x[0-9a-fA-F]+\b|\b\d+\b")


def pattern(message: str) -> str:
    """A refusal's message with what names one domain's parts (quoted values, numbers) left out, to group by."""
    return _QUOTED.sub("…", message)


def mutants(count: int, seed: int, manifest: Path = MANIFESTS["9.0"]) -> list[Domain]:
    """count mutated corpus domains; mutant i of a seed is always the same."""
    import random

    from tests import mutate

    cases, pool = mutate.load_corpus(manifest.parent)
    out = []
    for i in range(count):
        rng = random.Random(seed * 1000003 + i)
        case = rng.choice(cases)
        out.append(Domain(Path(f"mutant {i} of {case.id}"),
                          mutate.mutate(case.data, rng, pool, max_mutations=2, broken_rate=0)))
    return out


def measure(items: list[Path] | list[Domain], host: hostmod.Host, profiles: list[str | None] | None = None,
            *, libvirt: str) -> Tally:
    """Check each domain under each profile (and none); where check passes, build it and count the outcome."""
    target = targetmod.load(libvirt)
    engine = load_engine(target=target)
    modes: list[str | None] = profiles if profiles is not None else [None, *capsmod.profiles(target)]
    tally = Tally()
    for item in items:
        dom = item if isinstance(item, Domain) else Domain(item, item.read_bytes())
        path, data, fd = dom.path, dom.data, dom.fd
        options = RunOptions(migrate_from=dom.incoming, migrate_fd=fd) if dom.incoming else None
        incoming = {"incoming": dom.incoming, "incoming_fd": fd if fd >= 0 else None} if dom.incoming else {}
        for mode in modes:
            caps = None if mode is None else capsmod.from_profile(mode, target)
            try:
                findings = api.check(data, caps=caps, host=host, path=str(path), engine=engine, **incoming)
            except InputError:
                continue
            if any(f.severity == "error" for f in findings):
                continue
            tally.passed += 1
            where = f"{_short(path, libvirt)} under {mode or 'no profile'}"
            try:
                api.emit(data, caps=caps, host=host, path=str(path), engine=engine, options=options)
                tally.built += 1
            except HostFactMissing as exc:
                tally.host_fact[exc.key] += 1
            except InputError as exc:
                if exc.message.startswith("no command line: "):
                    # Another hypervisor's domain: check notes it, argv says so and exits 0. Not judged.
                    tally.passed -= 1
                else:
                    tally.refused[pattern(exc.message)].append(where)
            except Refused as exc:  # check passed, so the emitter's own rules cannot find errors
                tally.refused[f"Refused: {exc}"].append(where)
            except Exception as exc:  # a crash of the emitter is the worst disagreement
                tally.refused[f"crash: {type(exc).__name__}"].append(f"{where}: {exc}")
    return tally


def _short(path: Path, libvirt: str) -> str:
    if not path.is_absolute():
        return str(path)
    for base in (REPO, MANIFESTS[libvirt].parent):
        if path.is_relative_to(base):
            return str(path.relative_to(base))
    return str(path)


def main(argv: list[str] | None = None) -> int:
    """Measure, print, exit 1 on any refusal."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("manifest", nargs="?", type=Path, help="the conformance manifest (default: the target's)")
    ap.add_argument("--libvirt", choices=sorted(MANIFESTS), default="1.2.8", help="the target (default 1.2.8)")
    ap.add_argument("--manifest", dest="manifest_opt", type=Path, help="the conformance manifest, as an option")
    ap.add_argument("--host", type=Path, help="host profile (default: domlint's default host)")
    ap.add_argument("--only", choices=SOURCES, help="9.0: measure one source of domains")
    ap.add_argument("--profile", action="append", help="a built-in profile to use (repeatable; 'none' for none); "
                                                       "default: every built-in profile of the target and none")
    ap.add_argument("--show", type=int, default=3, help="example domains per refusal message (default 3)")
    ap.add_argument("--mutants", type=int, help="measure this many mutated corpus domains instead (under no profile)")
    ap.add_argument("--seed", type=int, default=1, help="the mutants' seed (default 1)")
    args = ap.parse_args(argv)
    manifest = args.manifest_opt or args.manifest or MANIFESTS[args.libvirt]
    host = hostmod.load(args.host) if args.host else hostmod.default_host()
    profiles = None if not args.profile else [None if p == "none" else p for p in args.profile]
    items: list[Domain] | list[Path]
    if args.mutants:
        items, profiles = mutants(args.mutants, args.seed, manifest), profiles or [None]
    elif args.libvirt == "9.0":
        items = domains(args.only, manifest)
    else:
        items = corpus(manifest)
    tally = measure(items, host, profiles, libvirt=args.libvirt)
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
