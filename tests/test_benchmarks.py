"""The benchmark script runs and prints every figure the issue asks for (it asserts no speed)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from conftest import CONFORMANCE, REPO


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
    assert re.search(r"^argv: +\d+ command lines in \d+ ms = [\d,]+ cases/s", out, re.M), out
    # .ci/run installs xmllint and libvirt's domain.rng, so CI compares; elsewhere the line says why not.
    assert re.search(rf"^xmllint: +({domains * 2} files|not measured)", out, re.M), out
    if "not measured" not in out:
        assert re.search(r"1.2.8: throughput / xmllint's, -j 1, wall: [\d.]+ \(target >= 1\)", out), out
    for stage in ("parse", "normalise", "evaluate: selects and rules", "total", "domlint check (whole run)"):
        assert stage in out, out
