#!/usr/bin/env python3
"""Bring a corpus's ratchet list up to date: drop the cases that pass, add the failing ones with a reason.

    python tools/ratchet.py ../shared/conformance/libvirt-9.0/manifest.json

A listed case keeps the reason written for it. A newly listed case gets the
reason the runner can state (the command line of the target is not built
yet; the refusal libvirt makes that no rule finds yet, in libvirt's words;
a false error, with the rules behind it), for a person to refine.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "conformance"))

import run as runner  # noqa: E402
import yaml  # noqa: E402

# How the reasons this script states begin.
AUTO = ("domlint crashes:", "refusal not found yet", "false error:", "command line of this target", "command line differs:")


def reason(res: runner.Result, case: dict) -> str:
    """Why a case fails, in a line."""
    if res.verdict == "crash":
        return f"domlint crashes: {res.detail}"
    if case["expect"] in runner.REJECTING:
        return f"refusal not found yet ({case['stage']}): {case.get('message') or ''}".strip()
    if res.verdict == "rejected":
        return f"false error: {', '.join(res.rules)}"
    return "command line of this target not built yet" if res.argv is None else f"command line differs: {res.detail}"


def main(argv: list[str]) -> int:
    """Rewrite the ratchet list of the manifest's target."""
    manifest_path = Path(argv[0])
    manifest = json.loads(manifest_path.read_text())
    root = manifest_path.resolve().parent
    target = runner.target_of(manifest)
    path = runner.ratchet_path(target)
    old = runner.load_ratchet(path)
    host = runner.anchor_host(runner.hostmod.load(runner.HOSTS[target]), root)
    cases: dict[str, str] = {}
    for case in manifest["cases"]:
        res = runner.run_case(root, case, host, target)
        if not res.passed:
            written = old.get(case["id"], "")
            # A reason a person wrote is kept; one this script stated is stated afresh.
            cases[case["id"]] = written if written and not written.startswith(AUTO) else reason(res, case)
    head = [line for line in path.read_text().splitlines() if line.startswith("#")] if path.exists() else []
    body = yaml.safe_dump({"cases": cases}, sort_keys=False, width=1000, allow_unicode=True) if cases else "cases: {}\n"
    path.write_text("\n".join(head) + "\n" + body)
    print(f"{path.name}: {len(cases)} listed ({len(set(old) - set(cases))} dropped, {len(set(cases) - set(old))} added)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
