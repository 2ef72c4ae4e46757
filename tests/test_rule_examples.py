"""Every example embedded in the built-in rules behaves as it says."""

from __future__ import annotations

import pytest

from domlint.engine import load_engine
from domlint.selftest import run_example

ENGINE = load_engine(use_cache=False)
CASES = [(r.id, kind, i) for r in ENGINE.rules for kind in ("invalid", "valid")
         for i in range(len(r.body["examples"][kind]))]


@pytest.mark.parametrize(("rule_id", "kind", "index"), CASES,
                         ids=[f"{r}/{k}[{i}]" for r, k, i in CASES])
def test_example(rule_id: str, kind: str, index: int) -> None:
    result = run_example(ENGINE, ENGINE.by_id[rule_id], kind, index)
    assert result.ok, result.detail


def test_every_rule_has_both_kinds_of_example() -> None:
    for rule in ENGINE.rules:
        assert rule.body["examples"]["invalid"], rule.id
        assert rule.body["examples"]["valid"], rule.id


def test_caps_rules_have_an_example_that_flips_on_caps() -> None:
    # A rule that depends on capabilities shows the verdict changing with them.
    for rule in ENGINE.rules:
        if not rule.body.get("caps"):
            continue
        valid = rule.body["examples"]["valid"]
        assert any(isinstance(v, dict) and "caps" in v for v in valid) or any(
            isinstance(v, dict) and "caps" in v for v in rule.body["examples"]["invalid"]), rule.id


def test_upstream_ids_exist(conformance_checks: set[str]) -> None:
    for rule in ENGINE.rules:
        for qid in rule.upstream:
            assert qid in conformance_checks, f"{rule.id} names unknown check {qid}"


@pytest.fixture
def conformance_checks() -> set[str]:
    from conftest import CONFORMANCE

    rows = (CONFORMANCE / "checks.tsv").read_text().splitlines()[1:]
    return {row.split("\t")[0] for row in rows if row}
