#!/usr/bin/env python3
"""domlint's speed under both targets, next to xmllint's RelaxNG validation with libvirt's own schema, from one run.

Prints, for each libvirt target (both rule books loaded and measured in one run):
whole-process `domlint check` throughput over the public conformance domains
copied ten times over, next to one `xmllint --relaxng` process over the same
files; the time of one `domlint check FILE` process next to the floor of the
stack, a bare `python -c "import lxml.etree"` (timed in rounds that run each
one-file command in turn, and, where valgrind is installed, counted in
instructions, which load does not move); and check time per disk for one
domain of 10, 100 and 1,000 disks. Then argv throughput (1.2.8), the bound
that lxml's XPath evaluation alone puts on the throughput ratio
(xpath_floor.py), and the targets. Wall times are the best of repeated runs (the least disturbed by other
load on the machine); CPU times (user + system of the process) are printed
beside them, since they hardly move with the load.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "conformance"))

from run import ALWAYS_CAPS, anchor_host, case_host, case_options  # noqa: E402

import domlint  # noqa: E402
from domlint import host as hostmod  # noqa: E402
from domlint.checker import Checker, Options  # noqa: E402
from domlint.domain import normalise  # noqa: E402
from domlint.parse import parse_bytes  # noqa: E402
from domlint.selectors import document_facts  # noqa: E402

TARGETS = ("1.2.8", "9.0")
DOMAIN_RNG = Path("/usr/share/libvirt/schemas/domain.rng")
# The one small file both tools get, for the start-up comparison.
SMALL = "cases/minimal.xml"


def _best(fn: Callable[[], object], rounds: int) -> float:
    """The fastest of rounds timings of fn, in seconds (the least disturbed by the machine)."""
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _process(cmd: list[str], runs: int, env: dict[str, str] | None = None) -> tuple[float, float]:
    """The best wall time and the best CPU time (user + system) of runs whole runs of a command, in seconds."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return min(walls), min(cpus)


def _interleaved(cmds: dict[str, tuple[list[str], dict[str, str] | None]], runs: int) -> dict[str, tuple[float, float]]:
    """The best wall and CPU time of each command over runs rounds that run every command once, in turn: a
    machine whose speed drifts during the measurement then moves each command's best alike."""
    best = {name: (float("inf"), float("inf")) for name in cmds}
    for _ in range(runs):
        for name, (cmd, env) in cmds.items():
            wall, cpu = _process(cmd, 1, env)
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    return best


def _instructions(cmd: list[str], env: dict[str, str] | None = None) -> int | None:
    """The instructions one run of cmd executes, counted by callgrind (None without valgrind): a figure that
    does not move with the machine's load."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    proc = subprocess.run([valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, check=False)
    found = [line.rsplit(":", 1)[1] for line in proc.stderr.splitlines() if "Collected :" in line]
    return int(found[-1]) if found else None


def domlint_command() -> list[str]:
    """How a user starts domlint from this environment: the installed script, else the module."""
    script = Path(sys.executable).parent / "domlint"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "domlint"]


def domlint_env() -> dict[str, str]:
    """The environment for domlint processes: this checkout's code first (an installed script may be another's)."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "PYTHONPATH": path, "NO_COLOR": "1"}
    # Bytecode as an installed package has it: without it every start compiles each module anew.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def disks_domain(n: int) -> bytes:
    """A domain with n disks, half virtio and half SCSI with drive addresses (7 units per controller)."""
    disks = []
    for i in range(n):
        name, k = "", i
        while True:
            name, k = chr(97 + k % 26) + name, k // 26 - 1
            if k < 0:
                break
        if i % 2:
            disks.append(f"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                         f"<source file='/var/lib/libvirt/images/d{i}.qcow2'/><target dev='vd{name}' bus='virtio'/></disk>")
        else:
            j = i // 2
            disks.append(f"<disk type='file' device='disk'><driver name='qemu' type='raw' cache='none'/>"
                         f"<source file='/var/lib/libvirt/images/s{i}.img'/><target dev='sd{name}' bus='scsi'/>"
                         f"<address type='drive' controller='{j // 7}' bus='0' target='0' unit='{j % 7}'/></disk>")
    return ("<domain type='kvm'><name>many</name><uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>"
            "<memory unit='KiB'>1048576</memory><vcpu>2</vcpu>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
            "<emulator>/usr/bin/qemu-system-x86_64</emulator>"
            f"<controller type='scsi' index='0' model='virtio-scsi'/>{''.join(disks)}"
            "</devices></domain>").encode()


def copies(files: list[Path], times: int, into: Path) -> list[Path]:
    """times copies of files under into (one folder per copy), as distinct files a run must read one by one."""
    out = []
    for i in range(times):
        folder = into / f"copy{i}"
        folder.mkdir()
        for n, f in enumerate(files):
            dest = folder / f"{n:04d}-{f.name}"
            shutil.copyfile(f, dest)
            out.append(dest)
    return out


def profile_check(checker: Checker, files: list[Path], rounds: int) -> None:
    """Per-domain time of each stage of check, over the same files."""
    settings = checker.settings_for(files[0])
    engine, host, target = settings.engine, settings.host, settings.target
    n = len(files)
    read = _best(lambda: [f.read_bytes() for f in files], rounds)
    datas = [(f.read_bytes(), str(f)) for f in files]
    parse = _best(lambda: [parse_bytes(d, name) for d, name in datas], rounds)
    normalised = _best(lambda: [normalise(parse_bytes(d, name), host, target, settings.caps)
                                for d, name in datas], rounds) - parse
    # Fresh trees for each round, made outside the timing: lxml builds the Python side
    # of a tree as it is first walked, which a second walk would not pay.
    facts = evaluate = float("inf")
    for _ in range(rounds):
        docs = [normalise(parse_bytes(d, name), host, target, settings.caps) for d, name in datas]
        facts = min(facts, _best(lambda docs=docs: [document_facts(doc.root) for doc in docs], 1))
        docs = [normalise(parse_bytes(d, name), host, target, settings.caps) for d, name in datas]
        evaluate = min(evaluate, _best(lambda docs=docs: [engine.evaluate(doc, settings.caps, settings.select,
                                                                          settings.ignore, host) for doc in docs], 1))
    total = _best(lambda: [checker.check_file(f) for f in files], rounds)
    print(f"profile of check under {target.label}, per domain:")
    for name, t in (("read the file", read), ("parse (lxml, hardened)", parse),
                    ("normalise: one walk, numbers, libvirt's defaults", normalised),
                    ("evaluate: a fresh walk's facts (not paid by check)", facts),
                    ("evaluate: selects and rules", evaluate),
                    ("the rest: opening files, configuration, suppressions", total - read - parse - normalised - evaluate),
                    ("total", total)):
        print(f"  {name:<54} {t / n * 1e6:7.1f} us")


def profile_start(small: Path, runs: int) -> None:
    """What one `domlint check` process spends before and after reaching domlint's own code."""
    py = sys.executable
    env = domlint_env()
    steps = [("python -c pass", [py, "-c", "pass"]),
             ("python -c 'import lxml.etree'", [py, "-c", "import lxml.etree"]),
             ("python -c 'import domlint.cli'", [py, "-c", "import domlint.cli"]),
             ("python -c 'import domlint.commands.check'", [py, "-c", "import domlint.commands.check"]),
             ("domlint check (whole run)", [*domlint_command(), "check", str(small)])]
    print("profile of one domlint check process (best wall, best CPU):")
    for name, cmd in steps:
        wall, cpu = _process(cmd, runs, env)
        print(f"  {name:<54} {wall * 1000:7.1f} ms {cpu * 1000:7.1f} ms CPU")


def main() -> int:
    """Print the figures and the target ratios."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "conformance" / "libvirt-1.2.8")
    ap.add_argument("--times", type=int, default=10, help="copies of the corpus the throughput runs read (default 10)")
    ap.add_argument("--rounds", type=int, default=5, help="timed rounds of each measurement (best one kept)")
    ap.add_argument("--runs", type=int, default=30, help="process starts for the one-file times (best one kept)")
    ap.add_argument("--profile", action="store_true", help="also print where the time of check and of start-up goes")
    args = ap.parse_args()
    cases = json.loads((args.corpus / "manifest.json").read_text())["cases"]
    files = sorted({args.corpus / c["xml"] for c in cases})
    host = anchor_host(hostmod.load(REPO / "tests" / "hosts" / "conformance.yaml"), args.corpus)
    env = domlint_env()
    run = domlint_command()
    small = args.corpus / SMALL
    ratios: list[tuple[str, float, float, str]] = []
    xmllint = shutil.which("xmllint") if DOMAIN_RNG.exists() else None
    jobs = os.cpu_count() or 1

    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "domlint")], env=env, check=False)
    with tempfile.TemporaryDirectory() as tmp:
        many = copies(files, args.times, Path(tmp))
        # Whole processes over the same files: xmllint compiles its schema, domlint starts Python
        # and loads its rule pack (from the cache, warmed first, as any run after the first finds it).
        x_wall = x_cpu = None
        if xmllint:
            x_wall, x_cpu = _process([xmllint, "--noout", "--relaxng", str(DOMAIN_RNG), *map(str, many)], args.rounds)
            print(f"xmllint:  {len(many)} files ({len(files)} domains x {args.times}) in {x_wall * 1000:.0f} ms "
                  f"= {len(many) / x_wall:,.0f} domains/s ({x_cpu * 1000:.0f} ms CPU; --relaxng {DOMAIN_RNG}, "
                  "one process, schema compile included)")
        else:
            print("xmllint:  not measured (install Debian's libxml2-utils and libvirt0 for xmllint and domain.rng)")
        for name in TARGETS:
            subprocess.run([*run, "check", "--libvirt", name, str(small)], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, env=env, check=False)  # warm the rule cache
            for j in (1, jobs) if jobs > 1 else (1,):
                wall, cpu = _process([*run, "check", "--libvirt", name, "-j", str(j), *map(str, many)],
                                     args.rounds, env)
                # Workers' CPU is not the parent's to count: CPU only for one process.
                spent = f"{cpu * 1000:.0f} ms CPU, whole process" if j == 1 else "whole run, workers included"
                print(f"check:    {len(many)} files under {name}, -j {j}: {wall * 1000:.0f} ms "
                      f"= {len(many) / wall:,.0f} domains/s ({spent})")
                if x_wall is not None and x_cpu is not None:
                    ratios.append((f"{name}: throughput / xmllint's, -j {j}, wall", x_wall / wall, 1.0, ">="))
                    if j == 1:
                        ratios.append((f"{name}: throughput / xmllint's, -j 1, CPU", x_cpu / cpu, 1.0, ">="))

    # One file: the floor, each target's check and xmllint, run in turn round after round.
    floor_cmd = [sys.executable, "-c", "import lxml.etree"]
    one: dict[str, tuple[list[str], dict[str, str] | None]] = {"floor": (floor_cmd, None)}
    one.update({name: ([*run, "check", "--libvirt", name, str(small)], env) for name in TARGETS})
    if xmllint:
        one["xmllint"] = ([xmllint, "--noout", "--relaxng", str(DOMAIN_RNG), str(small)], None)
    best = _interleaved(one, args.runs)
    floor_wall, floor_cpu = best["floor"]
    print(f"one file: python -c 'import lxml.etree': {floor_wall * 1000:.1f} ms wall, {floor_cpu * 1000:.1f} ms CPU "
          f"(best of {args.runs}, each round running every one-file command in turn; the floor of the stack)")
    for name in TARGETS:
        wall, cpu = best[name]
        print(f"one file: domlint check --libvirt {name} {small.name}: {wall * 1000:.1f} ms wall, "
              f"{cpu * 1000:.1f} ms CPU (best of {args.runs}, {run[0]})")
        ratios.append((f"{name}: one-file time / the python + lxml floor, wall", wall / floor_wall, 1.5, "<="))
        ratios.append((f"{name}: one-file time / the python + lxml floor, CPU", cpu / floor_cpu, 1.5, "<="))
    if xmllint:
        wall, cpu = best["xmllint"]
        print(f"one file: xmllint --relaxng {small.name}: {wall * 1000:.1f} ms wall, {cpu * 1000:.1f} ms CPU")
    floor_n = _instructions(floor_cmd)
    if floor_n is None:
        print("one file: instructions not counted (install valgrind for callgrind's count, which load does not move)")
    else:
        print(f"one file: python -c 'import lxml.etree': {floor_n / 1e6:.1f} M instructions (callgrind)")
        for name in TARGETS:
            n = _instructions(one[name][0], env)
            if n is not None:
                print(f"one file: domlint check --libvirt {name} {small.name}: {n / 1e6:.1f} M instructions")
                ratios.append((f"{name}: one-file instructions / the python + lxml floor's", n / floor_n, 1.5, "<="))

    # Both rule books loaded in this one process, each measured in turn.
    checkers = {name: Checker(Options(libvirt=name)) for name in TARGETS}
    with tempfile.TemporaryDirectory() as tmp:
        for n in (10, 100, 1000):
            (Path(tmp) / f"disks-{n}.xml").write_bytes(disks_domain(n))
        for name, checker in checkers.items():
            per_disk: dict[int, float] = {}
            for n in (10, 100, 1000):
                path = Path(tmp) / f"disks-{n}.xml"
                repeat = max(1, 2000 // n)
                found = checker.check_file(path)  # rules met for the first time compile outside the timing

                def check_many(path: Path = path, repeat: int = repeat, checker: Checker = checker) -> None:
                    for _ in range(repeat):
                        checker.check_file(path)
                per_disk[n] = _best(check_many, args.rounds) / repeat / n
                print(f"scaling:  {name}: {n:>5} disks: {per_disk[n] * 1e6:.1f} us per disk ({len(found)} findings)")
            ratios.append((f"{name}: time per disk at 1000 / at 10", per_disk[1000] / per_disk[10], 1.5, "<="))

    # In-process check throughput, per target: the figure the profile below breaks down.
    for name, checker in checkers.items():
        checker.check_file(files[0])
        t = _best(lambda checker=checker: [checker.check_file(f) for f in files], args.rounds)
        print(f"check:    {len(files)} domains under {name} in {t * 1000:.0f} ms = {len(files) / t:,.0f} domains/s "
              f"({len(checker.settings_for(files[0]).engine.rules)} rules, in process, rules already loaded)")

    argv_cases = [c for c in cases if c["expect"] == "argv"]
    domlint.check(args.corpus / argv_cases[0]["xml"], host=host, libvirt="1.2.8")  # rules loaded outside the timing

    def emit_all() -> None:
        for case in argv_cases:
            with contextlib.suppress(domlint.Refused, domlint.DomlintError):
                domlint.emit(args.corpus / case["xml"], caps=set(case["caps"]) | set(ALWAYS_CAPS),
                             host=case_host(host, case), options=case_options(case), libvirt="1.2.8")
    t = _best(emit_all, args.rounds)
    print(f"argv:     {len(argv_cases)} command lines in {t * 1000:.0f} ms = {len(argv_cases) / t:,.0f} cases/s (1.2.8)")

    if args.profile:
        for checker in checkers.values():
            profile_check(checker, files, args.rounds)
        profile_start(small, args.runs)

    # The floor under the throughput ratio: lxml's time for the rules' XPath alone (its own process, whose
    # rule packs record each evaluation), against xmllint's whole time per file.
    floors = subprocess.run([sys.executable, str(REPO / "benchmarks" / "xpath_floor.py"), "--json",
                             "--corpus", str(args.corpus)], capture_output=True, text=True, env=env, check=False)
    if floors.returncode == 0 and x_wall is not None:
        x_per_file = x_wall / (len(files) * args.times)
        print("bound:    with rules evaluated as XPath by lxml, before anything else check does:")
        for name, per_domain in json.loads(floors.stdout).items():
            print(f"  {name}: lxml's XPath alone {per_domain * 1e6:.0f} us per domain, xmllint's whole check "
                  f"{x_per_file * 1e6:.0f} us per file: throughput / xmllint's at most {x_per_file / per_domain:.2f} "
                  "at -j 1")
    elif floors.returncode != 0:
        print(f"bound:    not measured (xpath_floor.py failed: {floors.stderr.strip()[-300:]})")
    else:
        print("bound:    not measured (needs xmllint for its time per file)")

    print("targets:")
    for label, value, target, op in ratios:
        ok = value >= target if op == ">=" else value <= target
        print(f"  {label}: {value:.2f} (target {op} {target:g}) {'met' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
