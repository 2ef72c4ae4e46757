#!/usr/bin/env python3
"""domlint's speed, next to xmllint's RelaxNG validation with libvirt's own schema, from one run.

Prints check throughput over every public conformance domain (one process),
xmllint --relaxng over the same files (one process) and their ratio, argv
throughput, the wall time of one `domlint check` on one small file next to one
xmllint run, and how check time per disk scales from 10 to 1,000 disks. The
last lines compare the three ratios with the targets.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# These figures are for the libvirt 1.2.8 corpus and rule book (the target a run names
# no other way); the 9.0 book is measured once it is whole (issue 17).
os.environ.setdefault("DOMLINT_LIBVIRT", "1.2.8")


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


def _wall(cmd: list[str], runs: int) -> float:
    """Median wall time of a command, in seconds."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def domlint_command() -> list[str]:
    """How a user starts domlint from this environment: the installed script, else the module."""
    script = Path(sys.executable).parent / "domlint"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "domlint"]


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


def profile_check(checker: Checker, files: list[Path], rounds: int) -> None:
    """Per-domain time of each stage of check, over the same files."""
    settings = checker.settings_for(files[0])
    engine, host = settings.engine, settings.host
    n = len(files)
    read = _best(lambda: [f.read_bytes() for f in files], rounds)
    datas = [(f.read_bytes(), str(f)) for f in files]
    parse = _best(lambda: [parse_bytes(d, name) for d, name in datas], rounds)
    normalised = _best(lambda: [normalise(parse_bytes(d, name), host) for d, name in datas], rounds) - parse
    # Fresh trees for each round, made outside the timing: lxml builds the Python side
    # of a tree as it is first walked, which a second walk would not pay.
    facts = evaluate = float("inf")
    for _ in range(rounds):
        docs = [normalise(parse_bytes(d, name), host) for d, name in datas]
        facts = min(facts, _best(lambda docs=docs: [document_facts(doc.root) for doc in docs], 1))
        docs = [normalise(parse_bytes(d, name), host) for d, name in datas]
        evaluate = min(evaluate, _best(lambda docs=docs: [engine.evaluate(doc, settings.caps, settings.select,
                                                                          settings.ignore, host) for doc in docs], 1))
    total = _best(lambda: [checker.check_file(f) for f in files], rounds)
    print("profile of check, per domain:")
    for name, t in (("read the file", read), ("parse (lxml, hardened)", parse), ("normalise (libvirt's defaults)", normalised),
                    ("evaluate: document facts for the select index", facts),
                    ("evaluate: selects and rules", evaluate - facts),
                    ("the rest: opening files, configuration, suppressions", total - read - parse - normalised - evaluate),
                    ("total", total)):
        print(f"  {name:<54} {t / n * 1e6:7.1f} us")


def profile_start(small: Path, runs: int) -> None:
    """What one `domlint check` process spends before and after reaching domlint's own code."""
    py = sys.executable
    steps = [("python -c pass", [py, "-c", "pass"]),
             ("python -c 'import lxml.etree'", [py, "-c", "import lxml.etree"]),
             ("python -c 'import domlint.cli'", [py, "-c", "import domlint.cli"]),
             ("domlint check (whole run)", [*domlint_command(), "check", str(small)])]
    print("profile of one domlint check process, wall (median):")
    for name, cmd in steps:
        print(f"  {name:<54} {_wall(cmd, runs) * 1000:7.1f} ms")


def main() -> int:
    """Print the figures and the three target ratios."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "conformance" / "libvirt-1.2.8")
    ap.add_argument("--rounds", type=int, default=5, help="timed rounds of each measurement (best one kept)")
    ap.add_argument("--runs", type=int, default=30, help="process starts for the one-file wall times")
    ap.add_argument("--profile", action="store_true", help="also print where the time of check and of start-up goes")
    args = ap.parse_args()
    cases = json.loads((args.corpus / "manifest.json").read_text())["cases"]
    files = sorted({args.corpus / c["xml"] for c in cases})
    host = anchor_host(hostmod.load(REPO / "tests" / "hosts" / "conformance.yaml"), args.corpus)
    ratios: list[tuple[str, float, float, str]] = []

    # check: the command's own code path, defaults as on the command line.
    checker = Checker(Options())
    checker.check_file(files[0])  # rule pack loaded outside the timing, as in a long run
    t = _best(lambda: [checker.check_file(f) for f in files], args.rounds)
    check_rate = len(files) / t
    print(f"check:    {len(files)} domains in {t * 1000:.0f} ms = {check_rate:,.0f} domains/s "
          f"({checker.rules and len(checker.rules)} rules, one process)")

    xmllint = shutil.which("xmllint")
    if xmllint and DOMAIN_RNG.exists():
        cmd = [xmllint, "--noout", "--relaxng", str(DOMAIN_RNG), *map(str, files)]
        t = _best(lambda: subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False),
                  args.rounds)
        rng_rate = len(files) / t
        print(f"xmllint:  {len(files)} domains in {t * 1000:.0f} ms = {rng_rate:,.0f} domains/s "
              f"(--relaxng {DOMAIN_RNG}, one process, schema compile included)")
        ratios.append(("check throughput / xmllint throughput", check_rate / rng_rate, 1.0, ">="))
    else:
        print("xmllint:  not measured (install Debian's libxml2-utils and libvirt0 for xmllint and domain.rng)")

    argv_cases = [c for c in cases if c["expect"] == "argv"]
    domlint.check(args.corpus / argv_cases[0]["xml"], host=host)  # rules loaded outside the timing

    def emit_all() -> None:
        for case in argv_cases:
            with contextlib.suppress(domlint.Refused, domlint.DomlintError):
                domlint.emit(args.corpus / case["xml"], caps=set(case["caps"]) | set(ALWAYS_CAPS),
                             host=case_host(host, case), options=case_options(case))
    t = _best(emit_all, args.rounds)
    print(f"argv:     {len(argv_cases)} command lines in {t * 1000:.0f} ms = {len(argv_cases) / t:,.0f} cases/s")

    small = args.corpus / SMALL
    env = {**os.environ, "NO_COLOR": "1"}
    run = domlint_command()
    subprocess.run([*run, "check", str(small)], stdout=subprocess.DEVNULL, env=env, check=False)  # warm the cache
    t_dom = _wall([*run, "check", str(small)], args.runs)
    print(f"one file: domlint check {small.name}: {t_dom * 1000:.1f} ms wall (median of {args.runs}, {run[0]})")
    if xmllint and DOMAIN_RNG.exists():
        t_x = _wall([xmllint, "--noout", "--relaxng", str(DOMAIN_RNG), str(small)], args.runs)
        print(f"one file: xmllint --relaxng {small.name}: {t_x * 1000:.1f} ms wall")
        ratios.append(("one-file wall time domlint / xmllint", t_dom / t_x, 3.0, "<="))

    per_disk: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in (10, 100, 1000):
            path = Path(tmp) / f"disks-{n}.xml"
            path.write_bytes(disks_domain(n))
            repeat = max(1, 2000 // n)

            def check_many(path: Path = path, repeat: int = repeat) -> None:
                for _ in range(repeat):
                    checker.check_file(path)
            per_disk[n] = _best(check_many, args.rounds) / repeat / n
            found = checker.check_file(path)
            print(f"scaling:  {n:>5} disks: {per_disk[n] * 1e6:.1f} us per disk ({len(found)} findings)")
    ratios.append(("time per disk at 1000 / at 10", per_disk[1000] / per_disk[10], 1.5, "<="))

    if args.profile:
        profile_check(checker, files, args.rounds)
        profile_start(small, args.runs)

    print("targets:")
    for name, value, target, op in ratios:
        ok = value >= target if op == ">=" else value <= target
        print(f"  {name}: {value:.2f} (target {op} {target:g}) {'met' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
