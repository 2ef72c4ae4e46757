"""Running the examples embedded in rules: each invalid one must fire, each valid one must not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import caps as capsmod
from .domain import normalise
from .engine import Engine, Rule
from .errors import DomlintError
from .examples import example_document
from .host import Host, example_host


@dataclass(frozen=True)
class ExampleResult:
    """The outcome of one example."""

    rule_id: str
    kind: str
    index: int
    ok: bool
    detail: str

    @property
    def name(self) -> str:
        """A stable name such as disk-ide-readonly/invalid[0]."""
        return f"{self.rule_id}/{self.kind}[{self.index}]"


def example_caps(example: Any) -> capsmod.Caps:
    """The capability set an example is checked under (all, unless it says)."""
    if isinstance(example, dict):
        if "caps" in example:
            return capsmod.Caps(frozenset(example["caps"]), "example")
        if "caps_profile" in example:
            return capsmod.from_profile(example["caps_profile"])
    return capsmod.all_caps()


def run_example(engine: Engine, rule: Rule, kind: str, index: int, host: Host | None = None) -> ExampleResult:
    """Check one example of a rule and say whether it behaved."""
    example = rule.body["examples"][kind][index]
    xml = example["xml"] if isinstance(example, dict) else example
    try:
        doc = example_document(xml, f"{rule.id}/{kind}[{index}]")
    except (DomlintError, ValueError) as exc:
        return ExampleResult(rule.id, kind, index, False, f"example does not parse: {exc}")
    host = host or example_host()
    normalise(doc, host)
    findings = [f for f in engine.evaluate(doc, example_caps(example), select={rule.id}, host=host)
                if f.rule_id == rule.id]
    if kind == "invalid":
        ok = bool(findings)
        detail = findings[0].message if findings else "the rule did not fire"
    else:
        ok = not findings
        detail = "" if ok else f"the rule fired: {findings[0].message}"
    return ExampleResult(rule.id, kind, index, ok, detail)


def run_all(engine: Engine, host: Host | None = None) -> list[ExampleResult]:
    """Every example of every rule."""
    return [run_example(engine, r, kind, i, host)
            for r in engine.rules for kind in ("invalid", "valid")
            for i in range(len(r.body["examples"][kind]))]
