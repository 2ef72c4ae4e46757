"""Running the examples embedded in rules: each invalid one must fire, each valid one must not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import caps as capsmod
from .domain import normalise
from .engine import Engine, Rule
from .errors import DomlintError
from .examples import example_document, with_repeat
from .findings import Finding
from .host import Host, example_host, from_dict
from .start import Start
from .target import Target, resolve


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


def example_caps(example: Any, target: Target | None = None) -> capsmod.Caps:
    """The capability set an example is checked under (all of the target's, unless it says)."""
    t = resolve(target)
    if isinstance(example, dict):
        if "caps" in example:
            return capsmod.Caps(frozenset(example["caps"]) | t.retired, "example")
        if "caps_profile" in example:
            return capsmod.from_profile(example["caps_profile"], t)
    return capsmod.all_caps(t)


def example_xml(example: Any) -> str:
    """The XML text of an example in either form."""
    if not isinstance(example, dict):
        return str(example)
    repeat = example.get("repeat")
    return with_repeat(str(example["xml"]), repeat) if repeat else str(example["xml"])


def example_host_for(example: Any, host: Host | None = None) -> Host:
    """The host an example runs on: the example host, with the example's own `host:` keys replaced."""
    base = host or example_host()
    changes = example.get("host") if isinstance(example, dict) else None
    if not changes:
        return base
    # A key set to null states that the host lacks the fact (pci_backend: null: no PCI backend).
    return from_dict(base.name, {**base.raw, **changes})


def example_start(example: Any) -> Start | None:
    """The start an example is judged for: an incoming migration when it names one (incoming, incoming_fd)."""
    if not isinstance(example, dict) or "incoming" not in example:
        return None
    return Start(str(example["incoming"]), example.get("incoming_fd"))


def has_own_caps(example: Any) -> bool:
    """True when an example names the capabilities it runs under."""
    return isinstance(example, dict) and ("caps" in example or "caps_profile" in example)


def fired(engine: Engine, rule: Rule, xml: str, caps: frozenset[str], name: str,
          host: Host | None = None, start: Start | None = None) -> list[Finding]:
    """The findings of rule alone on an example's XML under caps (InputError-like failures raise)."""
    doc = example_document(xml, name)
    host = host or example_host()
    normalise(doc, host, engine.target, caps if isinstance(caps, capsmod.Caps) else None)
    return [f for f in engine.evaluate(doc, caps, select={rule.id}, host=host, start=start) if f.rule_id == rule.id]


def run_example(engine: Engine, rule: Rule, kind: str, index: int, host: Host | None = None,
                caps: frozenset[str] | None = None) -> ExampleResult:
    """Check one example of a rule (under its own caps, or caps) and say whether it behaved."""
    example = rule.body["examples"][kind][index]
    try:
        findings = fired(engine, rule, example_xml(example),
                         example_caps(example, engine.target) if caps is None else caps, f"{rule.id}/{kind}[{index}]",
                         example_host_for(example, host), example_start(example))
    except (DomlintError, ValueError) as exc:
        return ExampleResult(rule.id, kind, index, False, f"example does not parse: {exc}")
    if kind == "invalid":
        ok = bool(findings)
        detail = findings[0].message if findings else "the rule did not fire"
    else:
        ok = not findings
        detail = "" if ok else f"the rule fired: {findings[0].message}"
    return ExampleResult(rule.id, kind, index, ok, detail)


def depends_on_caps(rule: Rule) -> bool:
    """True when a rule's verdict hangs on the capability set."""
    return bool(rule.caps.names())


def flipping_examples(engine: Engine, rule: Rule, host: Host | None = None) -> list[str]:
    """Examples with their own caps whose verdict turns over when every capability is present."""
    every = capsmod.all_caps(engine.target)
    out = []
    for kind in ("invalid", "valid"):
        for i, ex in enumerate(rule.body["examples"][kind]):
            if not has_own_caps(ex):
                continue
            own = run_example(engine, rule, kind, i, host)
            other = run_example(engine, rule, kind, i, host, caps=every)
            if own.ok and not other.ok:
                out.append(own.name)
    return out


def run_all(engine: Engine, host: Host | None = None) -> list[ExampleResult]:
    """Every example of every rule."""
    return [run_example(engine, r, kind, i, host)
            for r in engine.rules for kind in ("invalid", "valid")
            for i in range(len(r.body["examples"][kind]))]
