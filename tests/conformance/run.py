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
        if self.expect == "argv" and emit_available():
            return self.verdict == "valid" and self.argv == self.detail_expected
        return self.verdict == "valid"

    detail_expected: str | None = None


def emit_available() -> bool:
    """Whether the emitter exists yet."""
    return hasattr(domlint, "emit")


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


def case_host(base: hostmod.Host, case: dict[str, Any], root: Path | None = None) -> hostmod.Host:
    """The test host as one case sees it (with the manifest's CPU map when the profile names none)."""
    cpu_map = root / "host" / "cpu_map.xml" if root is not None else None
    if base.cpu_map is None and cpu_map is not None and cpu_map.is_file():
        base = replace(base, cpu_map=str(cpu_map))
    settings = case.get("settings") or {}
    if settings.get("skip_legacy_cpus") and base.cpu_models is not None:
        modern = tuple(base.raw.get("modern_cpu_models", base.cpu_models))
        return replace(base, cpu_models=modern)
    return base


def run_case(root: Path, case: dict[str, Any], host: hostmod.Host) -> Result:
    """Check (and, once the emitter exists, emit) one case."""
    caps = set(case.get("caps") or ()) | set(ALWAYS_CAPS)
    res = Result(id=case["id"], expect=case["expect"], verdict="valid")
    try:
        findings = domlint.check(root / case["xml"], caps=caps, host=case_host(host, case, root))
    except domlint.InputError as exc:
        res.verdict, res.rules, res.detail = "rejected", ["input"], str(exc)
        return res
    errors = [f for f in findings if f.severity == "error"]
    res.rules = sorted({f.rule_id for f in errors})
    if errors:
        res.verdict = "rejected"
        res.detail = "; ".join(f"[{f.rule_id}] {f.message}" for f in errors[:3])
    if case["expect"] == "argv" and case.get("args"):
        res.detail_expected = join_args((root / case["args"]).read_text())
    return res


def main(argv: list[str] | None = None) -> int:
    """Run the manifest and print the report."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("manifest", type=Path)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--ratchet", type=Path, default=RATCHET)
    ap.add_argument("--host", type=Path, default=HOST)
    args = ap.parse_args(argv)
    manifest = json.loads(args.manifest.read_text())
    root = args.manifest.resolve().parent
    host = hostmod.load(args.host)
    ratchet = load_ratchet(args.ratchet)
    results = [run_case(root, case, host) for case in manifest["cases"]]

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
            bad += 0 if listed else 1

    argv_cases = [r for r in results if r.expect == "argv"]
    rejecting = [r for r in results if r.expect in REJECTING]
    valid_cases = [r for r in results if r.expect == "valid"]
    false_errors = sum(r.verdict == "rejected" for r in argv_cases + valid_cases)
    exact = sum(r.passed for r in argv_cases) if emit_available() else 0
    rejected = sum(r.verdict == "rejected" for r in rejecting)
    if not emit_available():
        print(f"argv: command lines not compared for {len(argv_cases)} cases (emitter not built)")
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
