"""Every example embedded in the built-in rules behaves as it says."""

from __future__ import annotations

from pathlib import Path

import pytest

from domlint import target as targetmod
from domlint.engine import load_engine
from domlint.rulepack import RuleErrors
from domlint.selftest import depends_on_caps, flipping_examples, run_example

# Every target's book: a rule holding for several targets runs its examples under each.
ENGINES = {t.name: load_engine(use_cache=False, target=t) for t in targetmod.targets()}
ENGINE = ENGINES["1.2.8"]
CASES = [(t, r.id, kind, i) for t, engine in ENGINES.items() for r in engine.rules for kind in ("invalid", "valid")
         for i in range(len(r.body["examples"][kind]))]


@pytest.mark.parametrize(("target", "rule_id", "kind", "index"), CASES,
                         ids=[f"{t}/{r}/{k}[{i}]" for t, r, k, i in CASES])
def test_example(target: str, rule_id: str, kind: str, index: int) -> None:
    engine = ENGINES[target]
    result = run_example(engine, engine.by_id[rule_id], kind, index)
    assert result.ok, result.detail


@pytest.mark.parametrize("examples", ["{invalid: [<disk/>], valid: []}", "{valid: [<disk/>]}",
                                      "{invalid: [], valid: [<disk/>]}"])
def test_a_rule_without_both_kinds_of_example_is_refused(examples: str, tmp_path: Path) -> None:
    # The schema is what guarantees every built-in rule (ENGINE loaded) has both kinds.
    (tmp_path / "r.yaml").write_text(
        "rules:\n  - id: disk-test-rule\n    summary: s\n    severity: error\n    stage: parse\n"
        f"    select: /domain/devices/disk\n    message: m\n    hint: h\n    examples: {examples}\n")
    with pytest.raises(RuleErrors) as exc:
        load_engine([tmp_path], use_cache=False, builtin=False)
    assert "rule disk-test-rule, field examples" in str(exc.value)
    assert all(r.body["examples"]["invalid"] and r.body["examples"]["valid"] for r in ENGINE.rules)


@pytest.mark.parametrize(("target", "rule_id"), [(t, r.id) for t, e in ENGINES.items() for r in e.rules
                                                  if depends_on_caps(r)])
def test_caps_rule_has_an_example_that_flips_with_caps(target: str, rule_id: str) -> None:
    # Shown, not claimed: some example with its own capability set reaches the
    # opposite verdict when every capability is present.
    rule = ENGINES[target].by_id[rule_id]
    assert flipping_examples(ENGINES[target], rule), (
        f"{rule_id}: no example with its own caps changes verdict when every capability is present")


def test_upstream_ids_exist(conformance_checks: dict[str, set[str]]) -> None:
    # Q ids are rows of 1.2.8's checks.tsv, M ids rows of 9.0's, P ids rows of 1.2.8's parse-checks.tsv.
    for engine in ENGINES.values():
        for rule in engine.rules:
            for qid in rule.upstream:
                assert qid in conformance_checks[qid[0]], f"{rule.id} names unknown check {qid}"


@pytest.fixture
def conformance_checks() -> dict[str, set[str]]:
    from conftest import CORPORA, require_corpora

    require_corpora()  # the corpora's checks.tsv tables

    out = {}
    for prefix, target in (("Q", "1.2.8"), ("M", "9.0")):
        rows = (CORPORA[target] / "checks.tsv").read_text().splitlines()[1:]
        out[prefix] = {row.split("\t")[0] for row in rows if row}
    parse = Path(__file__).resolve().parent.parent / "domlint" / "data" / "targets" / "1.2.8" / "parse-checks.tsv"
    out["P"] = {row.split("\t")[0] for row in parse.read_text().splitlines()[1:] if row}
    return out
