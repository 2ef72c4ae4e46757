"""Every fix is tested by its rule's examples: each invalid example, mended, passes the rule and nothing new fires.

For every rule of every target that carries a `fix`, each invalid example is
mended with that rule's remedies alone (unsafe ones too) and checked again
with every rule: the rule is silent, and no rule fires more often than it did
before, so a fix can neither leave its finding nor trade it for another one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from domlint import fix
from domlint import target as targetmod
from domlint.cli import main
from domlint.engine import load_engine

ENGINES = {t.name: load_engine(use_cache=False, target=t) for t in targetmod.targets()}
CASES = [(t, r.id, i) for t, engine in ENGINES.items() for r in engine.rules if r.body.get("fix")
         for i in range(len(r.body["examples"]["invalid"]))]
# The floor: rules carrying a fix, counted once per id across targets.
MIN_RULES_WITH_FIX = 30


@pytest.mark.parametrize(("target", "rule_id", "index"), CASES, ids=[f"{t}/{r}/invalid[{i}]" for t, r, i in CASES])
def test_fix_mends_its_invalid_example(target: str, rule_id: str, index: int) -> None:
    engine = ENGINES[target]
    ok, detail = fix.example_result(engine, engine.by_id[rule_id], index)
    assert ok, detail


@pytest.mark.parametrize(("target", "rule_id"), sorted({(t, r) for t, r, _ in CASES}))
def test_every_fix_mends_some_invalid_example(target: str, rule_id: str) -> None:
    # A remedy's when or caps may keep it from an example, but not from every one.
    engine = ENGINES[target]
    rule = engine.by_id[rule_id]
    mended = [fix.example_result(engine, rule, i)[1] for i in range(len(rule.body["examples"]["invalid"]))]
    assert any(mended), f"{rule_id}: no invalid example shows its fix at work"


def test_enough_rules_carry_a_fix() -> None:
    ids = {r.id for engine in ENGINES.values() for r in engine.rules if r.body.get("fix")}
    assert len(ids) >= MIN_RULES_WITH_FIX, sorted(ids)


BROKEN = """\
rules:
  - id: clock-demo-rtc
    summary: demo
    severity: error
    stage: parse
    select: /domain/clock/timer[@name='rtc'][@tickpolicy='merge']
    message: m
    hint: h
    fix: {safe: true, edits: [{set: {tickpolicy: merge}}]}
    examples:
      invalid: ["<clock offset='utc'><timer name='rtc' tickpolicy='merge'/></clock>"]
      valid: ["<clock offset='utc'><timer name='rtc' tickpolicy='catchup'/></clock>"]
"""


def test_rules_test_checks_the_fixes_of_user_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A fix that changes nothing is caught by `domlint rules test`, as a rule author runs it.
    (tmp_path / "r.yaml").write_text(BROKEN)
    assert main(["rules", "test", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert "FAIL clock-demo-rtc/fix[0]: the fix changes nothing in the example as written" in out
    assert "1 fix example of 1 rule: 0 passed, 1 failed" in err
    (tmp_path / "r.yaml").write_text(BROKEN.replace("{tickpolicy: merge}", "{tickpolicy: catchup}"))
    assert main(["rules", "test", str(tmp_path)]) == 0
    assert "1 fix example of 1 rule: 1 passed, 0 failed" in capsys.readouterr().err
