#!/usr/bin/env python3
"""Run a conformance manifest (libvirt's own xml-to-argv cases) through domlint's public API.

Usage: python tests/conformance/run.py MANIFEST [--out DIR] [--ratchet FILE]

Prints one line per failing case and a last summary line:
    argv N/M exact; rejected N/M; false errors N/M
With --out DIR also writes DIR/results.json. Exit status 0 when every failing
case is on the ratchet list and no case on it passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO))

import yaml  # noqa: E402

import domlint  # noqa: E402
from domlint import host as hostmod  # noqa: E402
from domlint.cmdline import RunOptions  # noqa: E402

RATCHET = HERE / "ratchet.yaml"
HOST = REPO / "tests" / "hosts" / "conformance.yaml"
# The test host always has these, on top of each case's own capabilities.
ALWAYS_CAPS = ("vnc-colon", "no-reboot", "no-acpi")
REJECTING = ("failure", "parse-error", "error")


@dataclass
class Result:
    """What domlint made of one case."""

    id: str
    expect: str
    verdict: str
    rules: list[str] = field(default_factory=list)
    argv: str | None = None
    detail: str = ""

    @property
    def passed(self) -> bool:
        """True when the verdict (and, once built, the command line) is right."""
        if self.expect in REJECTING:
            return self.verdict == "rejected"
        if self.expect == "argv":
            return self.verdict == "valid" and self.argv == self.detail_expected
        return self.verdict == "valid"

    detail_expected: str | None = None


def load_ratchet(path: Path = RATCHET) -> dict[str, str]:
    """Case id to reason, for cases known not to pass yet."""
    if not path.exists():
        return {}
    raw = yaml.safe_load(path.read_text()) or {}
    return {str(k): str(v) for k, v in (raw.get("cases") or {}).items()}


def join_args(text: str) -> str:
    """An .args file as one line: backslash-newlines removed, then the trailing newline."""
    text = text.replace("\\\n", "")
    return text[:-1] if text.endswith("\n") else text


def case_host(base: hostmod.Host, case: dict[str, Any]) -> hostmod.Host:
    """The test host as one case sees it."""
    settings = case.get("settings") or {}
    if settings.get("skip_legacy_cpus") and base.cpu_models is not None:
        modern = tuple(base.raw.get("modern_cpu_models", base.cpu_models))
        return replace(base, cpu_models=modern)
    return base


def anchor_host(host: hostmod.Host, root: Path) -> hostmod.Host:
    """The host profile with the corpus's own CPU map and storage pools (its host/ directory) where it names none."""
    raw = dict(host.raw)
    for key, rel in (("cpu_map", "host/cpu_map.xml"), ("storage_pools", "host/storage-pools")):
        if not raw.get(key) and (root / rel).exists():
            raw[key] = str(root / rel)
    return hostmod.from_dict(host.name, raw)


def case_options(case: dict[str, Any]) -> RunOptions:
    """The per-run facts of one case: incoming migration, domain id, monitor, driver settings."""
    settings = {k: v for k, v in (case.get("settings") or {}).items() if k != "skip_legacy_cpus"}
    return RunOptions(migrate_from=case.get("migrate_from"), migrate_fd=case.get("migrate_fd", -1),
                      domain_id=6 if "domid" in (case.get("caps") or ()) else None,
                      json_monitor=bool(case.get("json_monitor")), driver=settings)


def run_case(root: Path, case: dict[str, Any], host: hostmod.Host) -> Result:
    """Check and emit one case (emission is where address assignment can still fail)."""
    caps = set(case.get("caps") or ()) | set(ALWAYS_CAPS)
    res = Result(id=case["id"], expect=case["expect"], verdict="valid")
    if case["expect"] == "argv" and case.get("args"):
        res.detail_expected = join_args((root / case["args"]).read_text())
    try:
        cmd = domlint.emit(root / case["xml"], caps=caps, host=case_host(host, case),
                           options=case_options(case))
    except domlint.InputError as exc:
        res.verdict, res.rules, res.detail = "rejected", ["input"], str(exc)
        return res
    except domlint.Refused as exc:
        res.verdict = "rejected"
        res.rules = sorted({f.rule_id for f in exc.findings})
        res.detail = "; ".join(f"[{f.rule_id}] {f.message}" for f in exc.findings[:3])
        return res
    except Exception as exc:  # an emitter bug must show as one failing case, not stop the run
        res.verdict, res.detail = "valid", f"emitter crashed: {type(exc).__name__}: {exc}"
        return res
    res.argv = cmd.line()
    if res.detail_expected is not None and res.argv != res.detail_expected:
        res.detail = short_diff(res.detail_expected, res.argv)
    return res


def short_diff(want: str, got: str) -> str:
    """Where two command lines first differ, as a few words of each."""
    a, b = want.split(" "), got.split(" ")
    i = next((k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return f"argv differs at word {i}: want {' '.join(a[i:i + 4])!r}, got {' '.join(b[i:i + 4])!r}"


def main(argv: list[str] | None = None) -> int:
    """Run the manifest and print the report."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("manifest", type=Path)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--ratchet", type=Path, default=RATCHET)
    ap.add_argument("--host", type=Path, default=HOST)
    ap.add_argument("--only", metavar="GLOB", help="run only the cases whose id matches (for debugging)")
    ap.add_argument("--show", action="store_true", help="print the expected and produced command line of failing argv cases")
    args = ap.parse_args(argv)
    manifest = json.loads(args.manifest.read_text())
    root = args.manifest.resolve().parent
    host = anchor_host(hostmod.load(args.host), root)
    ratchet = load_ratchet(args.ratchet)
    cases = [c for c in manifest["cases"] if not args.only or fnmatch.fnmatchcase(c["id"], args.only)]
    results = [run_case(root, case, host) for case in cases]

    bad = 0
    for r in results:
        listed = r.id in ratchet
        if r.passed and listed:
            print(f"UNEXPECTED PASS {r.id} ({r.expect}): remove it from the ratchet list")
            bad += 1
        elif not r.passed:
            tag = "XFAIL" if listed else "FAIL"
            why = ratchet.get(r.id) if listed else (r.detail or f"verdict {r.verdict}")
            print(f"{tag} {r.id} ({r.expect}, got {r.verdict}): {why}")
            if args.show and r.argv is not None:
                print(f"  want: {r.detail_expected}\n  got:  {r.argv}")
            bad += 0 if listed else 1

    argv_cases = [r for r in results if r.expect == "argv"]
    rejecting = [r for r in results if r.expect in REJECTING]
    valid_cases = [r for r in results if r.expect == "valid"]
    false_errors = sum(r.verdict == "rejected" for r in argv_cases + valid_cases)
    exact = sum(r.passed for r in argv_cases)
    rejected = sum(r.verdict == "rejected" for r in rejecting)
    print(f"argv {exact}/{len(argv_cases)} exact; rejected {rejected}/{len(rejecting)}; "
          f"false errors {false_errors}/{len(argv_cases) + len(valid_cases)}")

    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        payload = [{"id": r.id, "expect": r.expect, "verdict": r.verdict, "rules": r.rules,
                    **({"argv": r.argv} if r.expect == "argv" else {})} for r in results]
        (args.out / "results.json").write_text(json.dumps(payload, indent=1) + "\n")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
