#!/usr/bin/env python3
"""What compiling domlint's hot modules with mypyc buys: pure Python against compiled, both targets, from one run.

Copies this checkout's domlint (with its rules and schemas) twice into a
temporary directory, compiles the hot modules of one copy in place with mypyc,
and prints, for each libvirt target: in-process check throughput over the
public conformance domains (best of --rounds processes, each timing one pass
after a warm-up pass), and the wall and CPU time of a whole `domlint check -j 1`
process over those domains copied --times over (best of --runs); pure and
compiled runs are taken in turn, so both see the same load. Both copies must print the same JSON report for every
run, else it stops: a figure never stands for different output.

The default modules are those a check spends its Python time in (engine,
predicates, selectors, walk, normalisation, number reading, and 1.2.8's
address/alias assignment replay); --wide adds the rest of the check path that
mypyc compiles. Needs mypy (`pip install mypy`, which brings mypyc), a C
compiler and setuptools; the build takes a minute or two. Nothing here is
shipped: it records why domlint is not compiled (benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Where a check spends its Python time (cProfile of the public domains under both targets).
HOT = ("domlint/engine.py", "domlint/predicates.py", "domlint/selectors.py", "domlint/walk.py",
       "domlint/domain.py", "domlint/numbers.py", "domlint/values.py",
       "domlint/cmdline/devices.py", "domlint/cmdline/pci_slots.py", "domlint/cmdline/alias.py",
       "domlint/cmdline/address.py", "domlint/cmdline/context.py")
# The rest of the check path mypyc compiles (cmdline/controller.py trips an internal mypyc error).
WIDE = ("domlint/checker.py", "domlint/parse.py", "domlint/cmdline/__init__.py", "domlint/cmdline/assign.py",
        "domlint/cmdline/vio_ccw.py", "domlint/cmdline/hostdev.py", "domlint/identity.py", "domlint/suppress.py")

# mypyc compiles only code mypy accepts. lxml has no types here (every etree name is Any), and the
# errors left are what mypy cannot prove of working code: they are silenced, not fixed, for the build.
MYPY_INI = """[mypy]
ignore_missing_imports = True
disable_error_code = union-attr, operator, call-arg, misc
"""

# Edits of the compiled copy only, none changing what the code does: (file or "*", old, new, why).
EDITS = (
    ("*", "\nElement = etree._Element\n", "\nfrom typing import TypeAlias\n\nElement: TypeAlias = etree._Element\n",
     "an alias of an untyped name is a variable to mypy, not a type, unless it says it is an alias"),
    ("domlint/engine.py", "        for fact in (None, *facts):\n", "        for fact in cast(tuple[Any, ...], (None, *facts)):\n",
     "a comment's tag (lxml's Comment function) is among the facts, and compiled code checks each Fact's type"),
    ("domlint/domain.py", "for c in reversed(ctrls[:pos])", "for c in list(reversed(ctrls[:pos]))",
     "mypyc's for-loop over reversed() of an untyped list fails an internal assertion"),
    ("domlint/values.py", "\nclass LazyPattern:\n",
     "\nfrom mypy_extensions import mypyc_attr\n\n\n@mypyc_attr(native_class=False)\nclass LazyPattern:\n",
     "a LazyPattern keeps the methods it hands out on the instance, which a native class cannot take"),
    *(("*", f"from {dots}record import {names}\n", f"from dataclasses import dataclass as record{rest}\n",
       "mypyc compiles dataclasses as native classes, not domlint's @record (the same class behaviour, lighter to "
       "import); a native class cannot inherit a non-native one")
      for dots in (".", "..")
      for names, rest in (("record", ""), ("field, record", ", field"), ("record, replace", ", replace"),
                          ("field, record, replace", ", field, replace"))),
)

# The in-process figure, run inside each copy (its directory first on the path): one warm-up pass, one timed pass.
INPROCESS = """
import json, sys, time
from pathlib import Path
from domlint.checker import Checker, Options
files = [Path(p) for p in json.loads(sys.stdin.read())]
out = {}
for target in sys.argv[1:]:
    checker = Checker(Options(libvirt=target))
    for f in files:
        checker.check_file(f)
    t0, c0 = time.perf_counter(), time.process_time()
    for f in files:
        checker.check_file(f)
    out[target] = [time.perf_counter() - t0, time.process_time() - c0]
import domlint.engine
out["engine"] = domlint.engine.__file__
print(json.dumps(out))
"""

TARGETS = ("1.2.8", "9.0")


def copy_tree(into: Path) -> Path:
    """This checkout's domlint package, rules and schemas under into, without bytecode or built modules."""
    into.mkdir()
    skip = shutil.ignore_patterns("__pycache__", "*.so", "*.pyc")
    for name in ("domlint", "rules", "schema"):
        shutil.copytree(REPO / name, into / name, ignore=skip)
    return into


def compile_copy(tree: Path, modules: list[str]) -> None:
    """Compile modules of the copy at tree in place with mypyc (exits with mypyc's output if it fails)."""
    # An edit whose text the code no longer holds is skipped: mypyc then says what it refuses.
    for pattern, old, new, _why in EDITS:
        for rel in modules if pattern == "*" else [pattern]:
            path = tree / rel
            if rel in modules and old in path.read_text():
                path.write_text(path.read_text().replace(old, new))
    (tree / "mypy.ini").write_text(MYPY_INI)
    env = {**os.environ, "PYTHONPATH": str(tree)}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "mypyc", "--config-file", "mypy.ini", *modules],
                          cwd=tree, env=env, capture_output=True, text=True, check=False)
    built = [m for m in modules if list((tree / m).parent.glob(Path(m).stem + ".*.so"))]
    if proc.returncode != 0 or len(built) != len(modules):
        sys.exit(f"mypyc failed (exit {proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    print(f"compiled: {len(built)} modules with mypyc in {time.perf_counter() - t0:.0f} s: "
          + " ".join(m.removeprefix("domlint/") for m in modules))


def env_for(tree: Path, cache: Path) -> dict[str, str]:
    """The environment of a domlint process run from the copy at tree, with its own rule cache."""
    env = {**os.environ, "PYTHONPATH": str(tree), "NO_COLOR": "1", "DOMLINT_CACHE_DIR": str(cache)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_process(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, bytes]:
    """Wall time, CPU time (user + system) and standard output of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    # In the copy: `python -m` puts the working directory first on the path.
    proc = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, proc.stdout


def main() -> int:
    """Print pure against compiled, per target, and whether compiling pays."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "conformance" / "libvirt-1.2.8")
    ap.add_argument("--wide", action="store_true", help="also compile the rest of the check path")
    ap.add_argument("--times", type=int, default=10, help="copies of the corpus the whole-process runs read (default 10)")
    ap.add_argument("--rounds", type=int, default=5, help="in-process rounds of each copy (best kept; default 5)")
    ap.add_argument("--runs", type=int, default=3, help="whole-process runs of each copy (best kept; default 3)")
    ap.add_argument("--keep", type=Path, help="build the copies here (a new directory) and leave them")
    args = ap.parse_args()
    manifest = args.corpus / "manifest.json"
    if not manifest.is_file():
        print(f"no conformance corpus at {args.corpus} (--corpus DIR: a directory with manifest.json)", file=sys.stderr)
        return 2
    try:
        import mypyc  # noqa: F401
    except ImportError:
        print("mypyc is not installed: pip install mypy (it brings mypyc)", file=sys.stderr)
        return 2
    files = sorted({str(args.corpus / c["xml"]) for c in json.loads(manifest.read_text())["cases"]})
    modules = list(HOT) + (list(WIDE) if args.wide else [])

    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        trees = {"pure": copy_tree(base / "pure"), "compiled": copy_tree(base / "compiled")}
        compile_copy(trees["compiled"], modules)
        for tree in trees.values():
            subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "domlint")], check=True)
        envs = {name: env_for(tree, base / f"cache-{name}") for name, tree in trees.items()}

        # One timed round per process, the copies in turn, so both see the same load; best kept.
        inproc = {name: {t: [float("inf"), float("inf")] for t in TARGETS} for name in trees}
        for _ in range(args.rounds):
            for name, tree in trees.items():
                proc = subprocess.run([sys.executable, "-c", INPROCESS, *TARGETS], input=json.dumps(files),
                                      env=envs[name], cwd=tree, capture_output=True, text=True, check=False)
                if proc.returncode != 0:
                    sys.exit(f"the {name} copy failed in process:\n{proc.stderr[-4000:]}")
                got = json.loads(proc.stdout)
                # The whole-process runs below start the same way (this environment, the copy as working directory).
                if got["engine"].endswith(".so") != (name == "compiled"):
                    sys.exit(f"the {name} copy ran {got['engine']}")
                for t in TARGETS:
                    inproc[name][t] = [min(a, b) for a, b in zip(inproc[name][t], got[t], strict=True)]

        many = []
        for i in range(args.times):
            folder = base / "files" / f"copy{i}"
            folder.mkdir(parents=True)
            for n, f in enumerate(files):
                dest = folder / f"{n:04d}-{Path(f).name}"
                shutil.copyfile(f, dest)
                many.append(str(dest))
        whole: dict[tuple[str, str], tuple[float, float]] = {}
        for target in TARGETS:
            cmd = [sys.executable, "-m", "domlint", "check", "--libvirt", target, "-j", "1", "--format", "json", *many]
            reports = {}
            for name in trees:
                reports[name] = run_process(cmd[:-len(many)] + many[:1], envs[name], trees[name])[2]  # warm the rule cache
            best = {name: (float("inf"), float("inf")) for name in trees}
            for _ in range(args.runs):
                for name in trees:  # in turn, so both copies see the same load
                    wall, cpu, out = run_process(cmd, envs[name], trees[name])
                    reports[name] = out
                    best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
                if reports["pure"] != reports["compiled"]:
                    sys.exit(f"the compiled copy's report under {target} differs from the pure one's")
            for name in trees:
                whole[target, name] = best[name]

    print(f"in-process: {len(files)} domains, best of {args.rounds} rounds (wall; CPU)")
    for target in TARGETS:
        (pw, pc), (cw, cc) = inproc["pure"][target], inproc["compiled"][target]
        print(f"  {target}: pure {pw * 1000:.0f} ms = {len(files) / pw:,.0f} domains/s; compiled {cw * 1000:.0f} ms"
              f" = {len(files) / cw:,.0f} domains/s; x{pw / cw:.2f} wall, x{pc / cc:.2f} CPU")
    print(f"whole process: domlint check -j 1 over {len(many)} files, best of {args.runs} runs (wall; CPU), same reports")
    pays = True
    for target in TARGETS:
        (pw, pc), (cw, cc) = whole[target, "pure"], whole[target, "compiled"]
        print(f"  {target}: pure {pw * 1000:.0f} ms = {len(many) / pw:,.0f} domains/s ({pc * 1000:.0f} ms CPU); "
              f"compiled {cw * 1000:.0f} ms = {len(many) / cw:,.0f} domains/s ({cc * 1000:.0f} ms CPU); "
              f"x{pw / cw:.2f} wall, x{pc / cc:.2f} CPU")
        pays = pays and min(pw / cw, pc / cc) >= 1.3
    print(f"worth shipping (x1.3 or more whole-process under both targets, wall and CPU): {'yes' if pays else 'no'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
