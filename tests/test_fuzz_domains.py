"""Mutated corpus domains never crash check, argv or attach-check: findings, a command line or a refusal."""

from __future__ import annotations

import io
import random
import sys
from functools import lru_cache

import mutate
import pytest
from conftest import CONFORMANCE, REPO, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

import domlint

sys.path.insert(0, str(REPO / "benchmarks"))
import fuzz

# Every test mutates the 1.2.8 corpus's domains.
pytestmark = pytest.mark.corpus


@lru_cache(maxsize=1)
def harness() -> mutate.Harness:
    """The corpus, pool, host and engine, built once for the module."""
    return mutate.Harness(CONFORMANCE)


def test_mutations_change_the_domain_and_mostly_stay_well_formed() -> None:
    h = harness()
    changed = well_formed = 0
    for i in range(200):
        rng = random.Random(i)
        case = rng.choice(h.cases)
        data = mutate.mutate(case.data, rng, h.pool)
        changed += data != case.data
        try:
            etree.fromstring(data)
            well_formed += 1
        except etree.XMLSyntaxError:
            pass
    assert changed >= 190  # a mutation may, rarely, write back the value it found
    # About one in twenty is deliberately broken (plus the corpus's own parse-error cases).
    assert 150 <= well_formed < 200


def test_each_tree_mutation_does_what_it_says() -> None:
    h = harness()
    root = etree.fromstring(b"<domain><devices><disk type='file' device='disk'><target dev='vda' removable='yes'/></disk>"
                            b"<disk type='file' device='cdrom'/></devices></domain>")
    before = etree.tostring(root)
    rng = random.Random(1)
    for mutation in mutate.TREE_MUTATIONS:
        applied = 0
        for _ in range(20):
            tree = etree.fromstring(before)
            if mutation(tree, rng, h.pool):
                applied += 1
                assert etree.tostring(tree) != before, mutation.__name__
            else:
                assert etree.tostring(tree) == before, mutation.__name__
        assert applied, f"{mutation.__name__} never applied"


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(min_value=0, max_value=10_000), rng=st.randoms(use_true_random=False))
def test_mutated_domains_never_crash_the_api(index: int, rng: random.Random) -> None:
    h = harness()
    case = h.cases[index % len(h.cases)]
    data = mutate.mutate(case.data, rng, h.pool)
    # Anything but InputError or Refused propagates and fails the test; so does argv refusing what check
    # passed (argv-input-error): one verdict.
    assert h.exercise(case, data, rng) in {"input-error", "refused", "argv", "not-judged"}


@settings(max_examples=60, deadline=None, derandomize=True)
@given(index=st.integers(min_value=0, max_value=10_000), rng=st.randoms(use_true_random=False))
def test_mutated_devices_never_crash_attach_check(index: int, rng: random.Random) -> None:
    h = harness()
    case = h.cases[index % len(h.cases)]
    device = mutate.device_of(mutate.mutate(case.data, rng, h.pool, broken_rate=0.0), rng)
    if device is None:
        return
    device = mutate.mutate(device, rng, h.pool)
    try:
        findings = domlint.attach_check(rng.choice(h.cases).data, device, host=h.host, engine=h.engine)
    except domlint.InputError as exc:
        assert exc.path and exc.message
    else:
        assert all(f.rule_id and f.message for f in findings)


def test_cli_reports_a_batch_of_mutants_without_a_traceback(tmp_path) -> None:  # type: ignore[no-untyped-def]
    h = harness()
    for i in range(40):
        rng = random.Random(f"cli:{i}")
        case = rng.choice(h.cases)
        (tmp_path / f"m{i:02}.xml").write_bytes(mutate.mutate(case.data, rng, h.pool, broken_rate=0.25))
    res = run_cli("check", "--no-config", "--quiet", "--format", "json", str(tmp_path))
    assert res.returncode in (0, 1, 2), res.stderr
    assert "Traceback" not in res.stderr
    # Every file is either reported on or named as unusable.
    unusable = [line for line in res.stderr.splitlines() if line.strip()]
    assert all(line.startswith(str(tmp_path)) for line in unusable), unusable


def test_fuzz_script_short_run_has_no_crash_and_adds_up() -> None:
    tally, seconds = fuzz.fuzz(CONFORMANCE, 300, seed=7, jobs=1, timeout=10.0)
    out = io.StringIO()
    fuzz.report(out, tally, seconds, None)
    lines = dict(line.split(": ", 1) for line in out.getvalue().splitlines() if ": " in line)
    assert lines["inputs"] == "300"
    assert lines["crashes"] == "0 (hangs: 0)", out.getvalue()
    counts = {part.rsplit(" ", 1)[0]: int(part.rsplit(" ", 1)[1]) for part in lines["outcomes"].split(", ")}
    assert sum(counts.values()) == 300
    assert "argv-input-error" not in counts, out.getvalue()
    assert float(lines["inputs/s"]) > 0
