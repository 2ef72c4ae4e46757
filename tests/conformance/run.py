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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO))

import yaml  # noqa: E402

import domlint  # noqa: E402
import domlint.api  # noqa: E402
from domlint import host as hostmod  # noqa: E402
from domlint import target as targetmod  # noqa: E402
from domlint.cmdline import RunOptions  # noqa: E402

HOSTS = {"1.2.8": REPO / "tests" / "hosts" / "conformance.yaml",
         "9.0": REPO / "tests" / "hosts" / "conformance-9.0.yaml"}
# libvirt 1.2.8's test harness gives every case these, on top of its own capabilities.
ALWAYS_CAPS = {"1.2.8": ("vnc-colon", "no-reboot", "no-acpi")}
REJECTING = ("failure", "parse-error", "error")


def ratchet_path(target: str) -> Path:
    """The ratchet list of one corpus: the cases of that target not passing yet."""
    return HERE / f"ratchet-{target}.yaml"


def target_of(manifest: dict[str, Any]) -> str:
    """The domlint target a manifest's libvirt_version names."""
    return targetmod.load(str(manifest.get("libvirt_version") or "1.2.8")).name


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


def load_ratchet(path: Path) -> dict[str, str]:
    """Case id to reason, for cases known not to pass yet."""
    if not path.exists():
        return {}
    raw = yaml.safe_load(path.read_text()) or {}
    return {str(k): str(v) for k, v in (raw.get("cases") or {}).items()}


def join_args(text: str) -> str:
    """An .args file as one line: backslash-newlines removed, then the trailing newline."""
    text = text.replace("\\\n", "")
    return text[:-1] if text.endswith("\n") else text


# The CPUs of the hosts the 9.0 harness moves to (its README, "The fake host").
HOST_CPUS = {
    "core2duo": {"model": "core2duo", "vendor": "Intel",
                 "features": ["ds", "acpi", "ss", "ht", "tm", "pbe", "ds_cpl", "vmx", "est", "tm2", "cx16", "xtpr",
                              "lahf_lm"]},
    "Haswell": {"model": "Haswell", "vendor": "Intel",
                "features": ["vme", "ds", "acpi", "ss", "ht", "tm", "pbe", "dtes64", "monitor", "ds_cpl", "vmx", "smx",
                             "est", "tm2", "xtpr", "pdcm", "osxsave", "f16c", "rdrand", "cmt", "pdpe1gb", "abm",
                             "invtsc", "lahf_lm"]},
    "POWER8": {"model": "POWER8"}, "POWER9": {"model": "POWER9"}, "POWER10": {"model": "POWER10"},
}


def case_host(base: hostmod.Host, case: dict[str, Any]) -> hostmod.Host:
    """The test host as one case sees it: its arch, CPU and OS, and the CPU models of its QEMU."""
    settings = case.get("settings") or {}
    raw = dict(base.raw)
    changed = False
    if settings.get("skip_legacy_cpus") and raw.get("modern_cpu_models"):
        raw["cpu_models"] = raw["modern_cpu_models"]
        changed = True
    if settings.get("swtpm_tpm_versions") is not None:
        raw["swtpm"] = {"tpm_versions": list(settings["swtpm_tpm_versions"])}
        changed = True
    if "host_arch" in case:
        raw["arch"] = case["host_arch"]
        cpu = case.get("host_cpu")
        if cpu:
            raw["cpu"] = HOST_CPUS.get(cpu, {"model": cpu})
        else:
            raw.pop("cpu", None)
        if case.get("host_os") == "macos":
            raw["guests"] = [{**g, "domain_types": ["qemu", "hvf"]} for g in raw.get("guests", [])
                             if g["arch"] in ("x86_64", "aarch64")]
        changed = True
    return hostmod.from_dict(base.name, raw) if changed else base


def anchor_host(host: hostmod.Host, root: Path) -> hostmod.Host:
    """The host profile with the corpus's own CPU map and storage pools (its host/ directory) where it names none."""
    raw = dict(host.raw)
    for key, rel in (("cpu_map", "host/cpu_map.xml"), ("storage_pools", "host/storage-pools"), ("fs_root", "host/root"),
                     ("cpu_map_dir", "host/cpu_map")):
        if not raw.get(key) and (root / rel).exists():
            raw[key] = str(root / rel)
    return hostmod.from_dict(host.name, raw)


def case_options(case: dict[str, Any]) -> RunOptions:
    """The per-run facts of one case: incoming migration, domain id, monitor, driver settings."""
    settings = {k: v for k, v in (case.get("settings") or {}).items() if k != "skip_legacy_cpus"}
    return RunOptions(migrate_from=case.get("migrate_from"), migrate_fd=case.get("migrate_fd", -1),
                      domain_id=6 if "domid" in (case.get("caps") or ()) else None,
                      json_monitor=bool(case.get("json_monitor")), driver=settings)


# The machine types a flags case's binary offers, per target and arch (the 9.0 README, "Capabilities":
# none an alias, none with a default RAM id; the 1.2.8 harness gives none).
FLAG_MACHINES = {"9.0": {"i686": "pc", "x86_64": "pc q35", "aarch64": "virt virt-2.6 versatilepb",
                         "armv7l": "vexpress-a9 virt", "ppc64": "pseries", "ppc64le": "pseries", "ppc": "ppce500",
                         "riscv32": "virt", "riscv64": "virt", "s390x": "s390-ccw-virtio", "sparc": "SS-5"}}


def case_caps(root: Path, case: dict[str, Any], target: str) -> domlint.Caps:
    """The capabilities of one case: its capability file plus `caps`, or its flags plus what the harness adds."""
    from domlint import caps as capsmod

    names = set(case.get("caps") or ()) | set(ALWAYS_CAPS.get(target, ()))
    if case.get("caps_file"):
        base = capsmod.from_file(root / case["caps_file"], target, warn=lambda m: None)
        if case.get("caps_latest"):
            # The harness turns each alias of "latest" into a machine of its own.
            machines = tuple({**m, "name": m.get("alias") or m["name"]} for m in base.machines)
            base = capsmod.Caps(base, base.source, base.version, base.arch, machines, base.cpu_models)
        return base.with_flags(*names)
    names |= set(case.get("caps_implicit") or ())
    t = targetmod.load(target)
    offered = FLAG_MACHINES.get(target, {}).get(case.get("arch") or "", "")
    # The 9.0 harness adds every machine with NUMA memory support (testutilsqemu.c, virQEMUCapsAddMachine).
    machines = tuple({"name": m, **({"numaMemSupported": "yes"} if target == "9.0" else {})} for m in offered.split())
    return capsmod.Caps(frozenset(names) | t.retired, "flags", arch=case.get("arch"), machines=machines)


def run_case(root: Path, case: dict[str, Any], host: hostmod.Host, target: str = "1.2.8") -> Result:
    """Judge one case: check it, and for a target whose command line domlint builds, emit it too."""
    res = Result(id=case["id"], expect=case["expect"], verdict="valid")
    if case["expect"] == "argv" and case.get("args"):
        res.detail_expected = join_args((root / case["args"]).read_text())
    try:
        caps = case_caps(root, case, target)
        here = case_host(host, case)
        if domlint.api.builds_argv(None, target):
            cmd = domlint.emit(root / case["xml"], caps=caps, host=here, options=case_options(case), libvirt=target)
        else:
            found = [f for f in domlint.check(root / case["xml"], caps=caps, host=here, libvirt=target)
                     if f.severity == "error"]
            if found:
                raise domlint.Refused(found)
            res.detail = "command line not built for this target yet"
            return res
    except domlint.InputError as exc:
        res.verdict, res.rules, res.detail = "rejected", ["input"], str(exc)
        return res
    except domlint.Refused as exc:
        res.verdict = "rejected"
        res.rules = sorted({f.rule_id for f in exc.findings})
        res.detail = "; ".join(f"[{f.rule_id}] {f.message}" for f in exc.findings[:3])
        return res
    except Exception as exc:  # a crash must show as one failing case, never as a verdict
        res.verdict, res.detail = "crash", f"crashed: {type(exc).__name__}: {exc}"
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
    ap.add_argument("--ratchet", type=Path, help="the ratchet list (default: the one of the manifest's target)")
    ap.add_argument("--host", type=Path, help="the test host profile (default: the one of the manifest's target)")
    ap.add_argument("--only", metavar="GLOB", help="run only the cases whose id matches (for debugging)")
    ap.add_argument("--show", action="store_true", help="print the expected and produced command line of failing argv cases")
    ap.add_argument("--rules", action="store_true", help="print the rule ids behind each failing rejection")
    args = ap.parse_args(argv)
    manifest = json.loads(args.manifest.read_text())
    root = args.manifest.resolve().parent
    target = target_of(manifest)
    host = anchor_host(hostmod.load(args.host or HOSTS[target]), root)
    ratchet = load_ratchet(args.ratchet or ratchet_path(target))
    cases = [c for c in manifest["cases"] if not args.only or fnmatch.fnmatchcase(c["id"], args.only)]
    results = [run_case(root, case, host, target) for case in cases]

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
            if args.rules and r.rules:
                print(f"  rules: {', '.join(r.rules)}")
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
