"""The benchmark script runs and prints every figure the issue asks for (it asserts no speed)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CONFORMANCE, REPO, in_ci

# The benchmark reads the 1.2.8 corpus; the comparison with xmllint needs libxml2-utils.
pytestmark = pytest.mark.corpus


def test_bench_prints_every_figure_and_the_targets() -> None:
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench.py"), "--corpus", str(CONFORMANCE),
                           "--times", "2", "--rounds", "1", "--runs", "1", "--profile"],
                          capture_output=True, text=True, cwd=REPO, timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    domains = len({c["xml"] for c in json.loads((CONFORMANCE / "manifest.json").read_text())["cases"]})
    for target in ("1.2.8", "9.0"):
        # Both rule books, each measured in the same run.
        assert re.search(rf"^check: +{domains * 2} files under {target}, -j 1: \d+ ms = [\d,]+ domains/s", out, re.M), out
        assert re.search(rf"^check: +{domains} domains under {target} in \d+ ms", out, re.M), out
        assert re.search(rf"^one file: domlint check --libvirt {target} minimal.xml: [\d.]+ ms wall", out, re.M), out
        per_disk = re.findall(rf"^scaling: +{target}: +(\d+) disks: ([\d.]+) us per disk", out, re.M)
        assert [d for d, _ in per_disk] == ["10", "100", "1000"], out
        ratio = re.search(rf"{target}: time per disk at 1000 / at 10: ([\d.]+) \(target <= 1.5\)", out)
        assert ratio and abs(float(ratio.group(1)) - float(per_disk[2][1]) / float(per_disk[0][1])) < 0.02, out
        assert re.search(rf"{target}: one-file time / the python \+ lxml floor, wall: [\d.]+ \(target <= 1.5\)", out)
    assert re.search(r"^one file: python -c 'import lxml.etree': [\d.]+ ms wall", out, re.M), out
    # Counted by callgrind where valgrind is installed (not in CI); the line says so otherwise.
    floor = re.search(r"^one file: python -c 'import lxml.etree': ([\d.]+) M instructions", out, re.M)
    if floor:
        for target in ("1.2.8", "9.0"):
            n = re.search(rf"^one file: domlint check --libvirt {target} minimal.xml: ([\d.]+) M instructions", out, re.M)
            ratio = re.search(rf"{target}: one-file instructions / the python \+ lxml floor's: ([\d.]+)", out)
            assert n and ratio and abs(float(ratio.group(1)) - float(n.group(1)) / float(floor.group(1))) < 0.01, out
    else:
        assert "one file: instructions not counted (install valgrind" in out, out
    assert re.search(r"^argv: +\d+ command lines in \d+ ms = [\d,]+ cases/s", out, re.M), out
    # .ci/run installs xmllint and libvirt's domain.rng, so CI compares; elsewhere the line says why not.
    assert re.search(rf"^xmllint: +({domains * 2} files|not measured)", out, re.M), out
    if in_ci():
        assert "xmllint: " in out and "not measured" not in out.split("xmllint: ", 1)[1].split("\n", 1)[0], \
            "CI=true: xmllint must be measured " + out
    if "not measured" not in out:
        assert re.search(r"1.2.8: throughput / xmllint's, -j 1, wall: [\d.]+ \(target >= 1\)", out), out
        # The bound lxml's XPath time puts on that ratio, from xpath_floor.py in its own process.
        for target in ("1.2.8", "9.0"):
            bound = re.search(rf"^  {target}: lxml's XPath alone (\d+) us per domain, xmllint's whole check (\d+) us "
                              r"per file: throughput / xmllint's at most ([\d.]+) at -j 1", out, re.M)
            assert bound and abs(float(bound.group(3)) - int(bound.group(2)) / int(bound.group(1))) < 0.05, out
    for stage in ("parse", "normalise", "evaluate: selects and rules", "total", "domlint check (whole run)"):
        assert stage in out, out


def test_bench_argv_prints_both_targets() -> None:
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_argv.py"),
                           "--conformance", str(CONFORMANCE.parent), "--rounds", "1", "--cases", "4"],
                          capture_output=True, text=True, cwd=REPO, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for target in ("1.2.8", "9.0"):
        assert re.search(rf"^libvirt {re.escape(target)}: 4 command lines in \d+ ms = [\d,]+ lines/s", out, re.M), out
        block = out.split(f"libvirt {target}:", 1)[1]
        assert re.search(r"rules alone: \d+ ms = [\d,]+ domains/s \(domlint.check\); emitter adds -?\d+ ms", block), out
        # The first four cases of each corpus build exactly, so a figure stands for correct output.
        assert re.search(r"^  4/4 byte for byte", block, re.M), out


def test_bench_argv_names_a_missing_corpus(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_argv.py"), "--conformance", str(tmp_path)],
                          capture_output=True, text=True, cwd=REPO, timeout=120, check=False)
    assert proc.returncode == 2
    assert "libvirt-1.2.8, libvirt-9.0" in proc.stderr and "Traceback" not in proc.stderr


def test_compiled_core_names_a_missing_corpus(tmp_path: Path) -> None:
    # The measurement itself compiles with mypyc for minutes: only its refusal is tested here.
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "compiled_core.py"), "--corpus", str(tmp_path)],
                          capture_output=True, text=True, cwd=REPO, timeout=120, check=False)
    assert proc.returncode == 2
    assert f"no conformance corpus at {tmp_path}" in proc.stderr and "Traceback" not in proc.stderr


def test_select_costs_prints_both_targets() -> None:
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "select_costs.py"), "--corpus", str(CONFORMANCE),
                           "--rounds", "1", "--top", "2"],
                          capture_output=True, text=True, cwd=REPO, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for target in ("1.2.8", "9.0"):
        block = out.split(f"libvirt {target}: ", 1)[1].split("libvirt ", 1)[0]
        woken, empty = map(float, re.search(r"woken per domain ([\d.]+), of which ([\d.]+) find nothing", block).groups())
        assert 0 < empty < woken, block
        for figure in ("one lxml call each", "find nothing", "as one expression", "each when per element",
                       "folded into its select"):
            assert re.search(rf"{figure}[: ]+\d+ us a domain", block), block
        assert re.search(r"lxml [\d.]+ us, by hand in Python [\d.]+ us a domain", block), block
        assert len(re.findall(r"^ +[\d.]+%  /", block, re.M)) == 2, block


def test_select_costs_names_a_missing_corpus(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "select_costs.py"), "--corpus", str(tmp_path)],
                          capture_output=True, text=True, cwd=REPO, timeout=120, check=False)
    assert proc.returncode == 2
    assert "no conformance corpus there" in proc.stderr and "Traceback" not in proc.stderr


def test_xpath_floor_counts_the_evaluations_of_both_targets() -> None:
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "xpath_floor.py"), "--corpus", str(CONFORMANCE),
                           "--rounds", "1"], capture_output=True, text=True, cwd=REPO, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    for target in ("1.2.8", "9.0"):
        found = re.search(rf"^xpath: +{target}: (\d+) XPath evaluations per domain; lxml alone spends (\d+) us",
                          proc.stdout, re.M)
        # Every domain has a root and devices: dozens of selects, whens and test values each.
        assert found and int(found.group(1)) >= 20 and int(found.group(2)) > 0, proc.stdout


def test_xpath_python_translations_agree_with_lxml() -> None:
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "xpath_python.py"), "--corpus", str(CONFORMANCE),
                           "--rounds", "1"], capture_output=True, text=True, cwd=REPO, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    for target in ("1.2.8", "9.0"):
        found = re.search(rf"^{target}: ([\d,]+) evaluations agree with lxml, ([\d,]+) differ", proc.stdout, re.M)
        assert found and int(found.group(1).replace(",", "")) > 1000 and found.group(2) == "0", proc.stdout
