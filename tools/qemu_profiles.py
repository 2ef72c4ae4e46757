#!/usr/bin/env python3
"""Write a target's built-in QEMU profiles from libvirt capability cache files.

    python tools/qemu_profiles.py ../shared/conformance/libvirt-9.0/qemu-caps domlint/data/targets/9.0/qemu-profiles.yaml

Each file (libvirt's `qemuCaps` cache format) becomes one profile named
`qemu-VERSION-ARCH`: its flags, QEMU version, architecture, machine types
(with alias, default and CPU limit) and CPU model names per accelerator.
Only facts are kept; the profiles are what `--caps-profile` names.

What libvirt reads from the file only to build the command line (QEMU's host
CPU, which a host-model CPU becomes; the CPU definitions with their blockers;
every machine attribute; GIC; SEV: `domlint.caps.read_argv_facts`) goes to
qemu-profiles-argv.json beside the YAML file, which the emitter alone loads.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import yaml  # noqa: E402

from domlint.caps import ARGV_FACTS_FILE, read_qemu_caps  # noqa: E402


def main(argv: list[str]) -> int:
    """Write the profiles of every caps_*.xml in argv[0] to argv[1]."""
    src, out = Path(argv[0]), Path(argv[1])
    profiles = {}
    argv_facts = {}
    for path in sorted(src.glob("*.xml")):
        info = read_qemu_caps(path)
        info.pop("lines")
        name = f"qemu-{info['version']}-{info['arch']}"
        argv_facts[name] = info.pop("argv_facts")
        profiles[name] = info
    header = ("# QEMU capability profiles for this target, written by tools/qemu_profiles.py from\n"
              "# libvirt's capability cache files of real QEMU builds. Do not edit by hand.\n")
    out.write_text(header + yaml.safe_dump(profiles, sort_keys=False, width=120, default_flow_style=None))
    facts = out.parent / ARGV_FACTS_FILE
    facts.write_text(json.dumps(argv_facts, separators=(",", ":"), sort_keys=True) + "\n")
    print(f"wrote {len(profiles)} profiles to {out} and their command-line facts to {facts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
