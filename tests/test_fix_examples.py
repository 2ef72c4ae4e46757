"""Every fix is tested by its rule's examples: each invalid example, mended, passes the rule and nothing new fires.

For every rule of every target that carries a `fix`, each invalid example is
mended with that rule's remedies alone (unsafe ones too) and checked again
with every rule: the rule is silent, and no rule fires more often than it did
before, so a fix can neither leave its finding nor trade it for another one.
"""

from __future__ import annotations

from collections import Counter

import pytest

from domlint import fix
from domlint import target as targetmod
from domlint.engine import load_engine
from domlint.examples import example_document
from domlint.selftest import example_caps, example_xml

ENGINES = {t.name: load_engine(use_cache=False, target=t) for t in targetmod.targets()}
CASES = [(t, r.id, i) for t, engine in ENGINES.items() for r in engine.rules if r.body.get("fix")
         for i in range(len(r.body["examples"]["invalid"]))]
# The floor: rules carrying a fix, counted once per id across targets.
MIN_RULES_WITH_FIX = 30


@pytest.mark.parametrize(("target", "rule_id", "index"), CASES, ids=[f"{t}/{r}/invalid[{i}]" for t, r, i in CASES])
def test_fix_mends_its_invalid_example(target: str, rule_id: str, index: int) -> None:
    engine = ENGINES[target]
    rule = engine.by_id[rule_id]
    example = rule.body["examples"]["invalid"][index]
    name = f"{rule_id}/invalid[{index}]"
    data = example_document(example_xml(example), name).data
    check_all = fix.example_check(engine, example, name)
    before = Counter(f.rule_id for f in check_all(data)[1])
    assert before[rule_id], f"{name} does not fire its rule"
    outcome = fix.mend(fix.example_check(engine, example, name, select={rule_id}), {rule_id: rule}, name, data,
                       unsafe=True)
    if not outcome.applied:
        # Only a remedy's own capability condition may keep it from an invalid example.
        caps = example_caps(example, engine.target)
        assert all(not _caps_hold(r, caps) for r in fix.alternatives(rule.body["fix"])), (
            f"{name}: the fix did not apply ({outcome.problem or 'no edit'})")
        return
    assert outcome.changed
    assert not outcome.problem, outcome.problem
    after = Counter(f.rule_id for f in check_all(outcome.fixed)[1])
    assert not after[rule_id], f"{name}: still fires after the fix:\n{outcome.fixed.decode()}"
    new = {r: n for r, n in after.items() if n > before[r]}
    assert not new, f"{name}: the fix made new findings {new}:\n{outcome.fixed.decode()}"


def test_enough_rules_carry_a_fix() -> None:
    ids = {r.id for engine in ENGINES.values() for r in engine.rules if r.body.get("fix")}
    assert len(ids) >= MIN_RULES_WITH_FIX, sorted(ids)


def _caps_hold(remedy: dict, caps: frozenset[str]) -> bool:
    need = remedy.get("caps", {})
    return set(need.get("present", ())) <= caps and not set(need.get("absent", ())) & caps


@pytest.mark.parametrize(("target", "rule_id"), sorted({(t, r) for t, r, _ in CASES}))
def test_every_fix_mends_some_invalid_example(target: str, rule_id: str) -> None:
    engine = ENGINES[target]
    rule = engine.by_id[rule_id]
    mended = 0
    for i, example in enumerate(rule.body["examples"]["invalid"]):
        name = f"{rule_id}/invalid[{i}]"
        data = example_document(example_xml(example), name).data
        outcome = fix.mend(fix.example_check(engine, example, name, select={rule_id}), {rule_id: rule}, name, data,
                           unsafe=True)
        mended += bool(outcome.applied)
    assert mended, f"{rule_id}: no invalid example shows its fix at work"
