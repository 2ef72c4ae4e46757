"""Compiling rules once and evaluating them over a normalised domain."""

from __future__ import annotations

import marshal
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, cast

from lxml import etree

from . import cache as diskcache
from . import regex_programs
from .errors import RuleError
from .findings import Finding
from .parse import Document
from .predicates import Context, Predicate, build, compile_xpath
from .predicates import forget as forget_document
from .record import field, record
from .rulepack import RawRule, RuleErrors
from .selectors import Fact, Needs, document_facts, needs_of
from .target import Target, resolve
from .values import LazyPattern

_PLACEHOLDER = LazyPattern(r"\{([^{}]+)\}")  # read when a finding's message is first made
# Values a rule's message may name with {$...}, and what provides them.
_VARIABLES = {"$value": "test", "$name": "test", "$caps": "caps"}
# Only the derived texts of `needs` rules use these.
_INTERNAL = {"$caps_noun": "caps", "$caps_and": "caps", "$feature_what": "feature"}

# The texts a `needs` rule gets when it gives no message or hint of its own.
DERIVED_MESSAGE = "{feature} needs the QEMU {$caps_noun} {$caps}, which this QEMU lacks"
DERIVED_HINT = "use a QEMU binary that has {$caps_and}, or do without {$feature_what}"

Template = list[tuple[str, etree.XPath | str | None]]


@record
class CapsCondition:
    """The capability sets under which a rule fires."""

    present: frozenset[str] = frozenset()
    absent: frozenset[str] = frozenset()
    lacking_any: frozenset[str] = frozenset()
    # A rule's `needs`: like lacking_any, but kept apart so that a rule may
    # have both conditions, and so messages can name what is missing.
    needs: frozenset[str] = frozenset()

    def holds(self, caps: frozenset[str]) -> bool:
        """True when a domain checked under caps can hit this rule."""
        return _holds((self.present, self.absent, self.lacking_any, self.needs), caps)

    def names(self) -> list[str]:
        """Every capability the condition names."""
        return sorted(self.present | self.absent | self.lacking_any | self.needs)

    def missing(self, caps: frozenset[str]) -> list[str]:
        """The capabilities whose absence the rule is about, among those caps lacks."""
        wanted = self.needs or (self.lacking_any | self.absent)
        return sorted(wanted - caps)


# A rule's capability condition as the engine keeps it: (present, absent, lacking_any, needs); None when the
# rule names no capability (most rules).
_Condition = tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]


def _condition(c: CapsCondition) -> _Condition | None:
    if not (c.present or c.absent or c.lacking_any or c.needs):
        return None
    return c.present, c.absent, c.lacking_any, c.needs


def _holds(c: _Condition, caps: frozenset[str]) -> bool:
    """Whether a domain checked under caps can hit a rule with condition c (the engine keeps conditions so)."""
    present, absent, lacking_any, needs = c
    return (present <= caps and not (absent & caps) and (not lacking_any or not lacking_any <= caps)
            and (not needs or not needs <= caps))


@record
class Compiled:
    """The XPath-bearing parts of a rule, compiled when the rule first has an element to judge."""

    when_xp: etree.XPath | None = None
    tests: list[Predicate] = field(default_factory=list)
    # The message templates: None until the rule first fires (most rules a document wakes never do).
    parts: Template | None = field(default_factory=list)
    hint_parts: Template | None = field(default_factory=list)
    feature_what: Template | None = field(default_factory=list)


@record
class Rule:
    """A rule ready to evaluate: cheap fields at once, XPath compiled on first use."""

    id: str
    summary: str
    severity: str
    stage: str
    select: str
    message: str
    hint: str
    path: str
    line: int
    body: dict[str, Any]
    when: str | None = None
    caps: CapsCondition = field(default_factory=CapsCondition)
    upstream: list[str] = field(default_factory=list)
    raw: RawRule | None = field(default=None, repr=False)
    _compiled: Compiled | None = field(default=None, repr=False)

    @property
    def compiled(self) -> Compiled:
        """The compiled XPath of when and tests (a rule pack that was validated when cached compiles them here)."""
        if self._compiled is None:
            assert self.raw is not None
            self._compiled = _compile_parts(self.raw, [], probe=False, templates=False)
        return self._compiled

    def _templates(self) -> Compiled:
        compiled = self.compiled
        if compiled.parts is None:
            assert self.raw is not None
            compiled.parts, compiled.hint_parts, compiled.feature_what = _compile_templates(self.raw, [], probe=False)
        return compiled

    def render(self, el: etree._Element, hit: Any, caps: frozenset[str] = frozenset()) -> str:
        """The message for el, placeholders filled in."""
        return self._fill(self._templates().parts or [], el, hit, caps)

    def render_hint(self, el: etree._Element, hit: Any, caps: frozenset[str] = frozenset()) -> str:
        """The hint for el, placeholders filled in."""
        return self._fill(self._templates().hint_parts or [], el, hit, caps)

    def _fill(self, parts: Template, el: etree._Element, hit: Any, caps: frozenset[str]) -> str:
        out = []
        for literal, ph in parts:
            out.append(literal)
            if ph is None:
                continue
            if isinstance(ph, str):
                out.append(self._variable(ph, el, hit, caps))
            else:
                out.append(str(ph(el)))
        return "".join(out)

    def _variable(self, name: str, el: etree._Element, hit: Any, caps: frozenset[str]) -> str:
        if name == "$value":
            return hit.value if hit else ""
        if name == "$name":
            return hit.name if hit else ""
        missing = self.caps.missing(caps)
        if name == "$caps":
            return ", ".join(missing)
        if name == "$caps_and":
            return " and ".join(missing) if len(missing) < 3 else ", ".join(missing[:-1]) + " and " + missing[-1]
        if name == "$caps_noun":
            return "capability" if len(missing) == 1 else "capabilities"
        if name == "$feature_what":
            return self._fill(self._templates().feature_what or [], el, hit, caps)
        return ""


def _err(raw: RawRule, field_name: str, message: str) -> RuleError:
    return RuleError(raw.path, raw.line, message, rule_id=raw.id, field=field_name)


_PROBE = etree.fromstring(b"<domain><devices><disk/></devices></domain>")


def _probe(xp: etree.XPath) -> None:
    """Evaluate once on a tiny domain: unknown functions and variables only show at run time."""
    xp(_PROBE)
    for el in _PROBE.iter():
        xp(el)


def _xpath(raw: RawRule, field_name: str, expr: str, errors: list[RuleError], probe: bool = True) -> etree.XPath | None:
    try:
        xp = compile_xpath(expr)
        if probe:
            _probe(xp)
        return xp
    except etree.XPathSyntaxError as exc:
        errors.append(_err(raw, field_name, f"XPath does not compile: {expr!r} ({exc})"))
    except etree.XPathError as exc:
        errors.append(_err(raw, field_name, f"XPath cannot be evaluated: {expr!r} ({exc})"))
    return None


def _template(raw: RawRule, field_name: str, text: str, has_test: bool, has_caps: bool,
              errors: list[RuleError], internal: bool = False, probe: bool = True) -> Template:
    parts: Template = []
    pos = 0
    for m in _PLACEHOLDER.finditer(text):
        literal = text[pos:m.start()]
        pos = m.end()
        expr = m.group(1).strip()
        if expr.startswith("$"):
            provider = _VARIABLES.get(expr) or (_INTERNAL.get(expr) if internal else None)
            if provider is None:
                errors.append(_err(raw, field_name, f"unknown placeholder {{{expr}}}"))
            elif provider == "test" and not has_test:
                errors.append(_err(raw, field_name, f"placeholder {{{expr}}} needs a test to supply it"))
            elif provider == "caps" and not has_caps:
                errors.append(_err(raw, field_name, f"placeholder {{{expr}}} needs `needs`, or caps "
                                                    "with absent or lacking_any, to name what is missing"))
            parts.append((literal, expr))
            continue
        try:
            xp = compile_xpath(f"string({expr})")
            if probe:
                _probe(xp)
            parts.append((literal, xp))
        except etree.XPathError:
            errors.append(_err(raw, field_name, f"placeholder {{{expr}}} is not an XPath expression"))
    parts.append((text[pos:], None))
    # A stray brace may sit before a placeholder as well as after the last one.
    if any("{" in literal or "}" in literal for literal, _ in parts):
        errors.append(_err(raw, field_name, f"unbalanced brace in {field_name}"))
    return parts


def what_of_feature(feature: str) -> str:
    """The 'what' of a feature written 'subject: what' (outside placeholders), else all of it."""
    depth = 0
    for i, ch in enumerate(feature):
        depth += (ch == "{") - (ch == "}")
        if depth == 0 and feature.startswith(": ", i):
            return feature[i + 2:].strip() or feature
    return feature


def _check_caps(raw: RawRule, field_name: str, names: Iterable[str], known: set[str],
                errors: list[RuleError], target: Target) -> None:
    for name in names:
        if name not in known:
            errors.append(_err(raw, field_name, f"{name!r} is not a capability of {target.label}"))


def _with_limits(body: dict[str, Any], target: Target) -> dict[str, Any]:
    """A rule body with `limit:NAME` bounds of its tests replaced by the target's value."""
    tests = body.get("test")
    if not tests or "limit:" not in repr(tests):
        return body

    def fill(v: Any) -> Any:
        if isinstance(v, str) and v.startswith("limit:"):
            return target.limits.get(v[6:], v)
        if isinstance(v, dict):
            return {k: fill(x) for k, x in v.items()}
        if isinstance(v, list):
            return [fill(x) for x in v]
        return v
    return {**body, "test": fill(tests)}


def _texts(b: dict[str, Any]) -> tuple[str, str]:
    """A rule's message and hint, derived from its feature when it gives none."""
    message = b.get("message") or DERIVED_MESSAGE.replace("{feature}", b.get("feature") or "")
    return message, b.get("hint") or DERIVED_HINT


def _compile_parts(raw: RawRule, errors: list[RuleError], probe: bool = True, templates: bool = True) -> Compiled:
    """Compile a rule's when, tests and (templates) message templates; problems go to errors."""
    b = raw.body
    when_xp = _xpath(raw, "when", f"boolean({b['when']})", errors, probe) if "when" in b else None
    tests: list[Predicate] = []
    for i, spec in enumerate(b.get("test", [])):
        try:
            test = build(spec)
            if probe:
                for xp in test.xpaths():
                    _probe(xp)
            tests.append(test)
        except etree.XPathSyntaxError as exc:
            errors.append(_err(raw, f"test[{i}]", f"XPath does not compile ({exc})"))
        except etree.XPathError as exc:
            errors.append(_err(raw, f"test[{i}]", f"XPath cannot be evaluated ({exc})"))
        except (ValueError, TypeError) as exc:
            errors.append(_err(raw, f"test[{i}]", str(exc)))
    if not templates:
        return Compiled(when_xp, tests, None, None, None)
    return Compiled(when_xp, tests, *_compile_templates(raw, errors, probe))


def _compile_templates(raw: RawRule, errors: list[RuleError], probe: bool = True) -> tuple[Template, Template, Template]:
    """Compile a rule's message, hint and feature 'what' templates; problems go to errors."""
    b = raw.body
    has_test = bool(b.get("test"))
    names_missing = bool(b.get("needs") or b.get("caps", {}).get("absent") or b.get("caps", {}).get("lacking_any"))
    feature = b.get("feature")
    feature_what: Template = []
    if feature is not None:
        # Compiled on its own first so that its errors name the feature field.
        _template(raw, "feature", feature, has_test, names_missing, errors, probe=probe)
        feature_what = _template(raw, "feature", what_of_feature(feature), has_test, names_missing, [], probe=probe)
    message, hint = _texts(b)
    derived_msg, derived_hint = "message" not in b, "hint" not in b
    parts = _template(raw, "feature" if derived_msg else "message", message, has_test, names_missing,
                      [] if derived_msg else errors, internal=derived_msg, probe=probe)
    hint_parts = _template(raw, "hint", hint, has_test, names_missing, [] if derived_hint else errors,
                           internal=derived_hint, probe=probe)
    return parts, hint_parts, feature_what


def _rule(raw: RawRule) -> Rule:
    """The cheap part of a rule; its XPath waits until first use."""
    b = raw.body
    message, hint = _texts(b)
    cond = CapsCondition(needs=frozenset(b.get("needs", ())),
                         **{k: frozenset(v) for k, v in b.get("caps", {}).items()})
    return Rule(id=raw.id, summary=b["summary"], severity=b["severity"], stage=b["stage"],
                select=b["select"], message=message, hint=hint, path=raw.path, line=raw.line, body=b,
                when=b.get("when"), caps=cond, upstream=list(b.get("upstream", [])), raw=raw)


def for_target(raws: Iterable[RawRule], target: Target) -> list[RawRule]:
    """The rules whose `libvirt` range holds target, with the target's limits filled in."""
    return [RawRule(_with_limits(r.body, target), r.path, r.line) for r in raws if target.in_range(r.body.get("libvirt"))]


def vocabulary_rules(target: Target) -> list[RawRule]:
    """The rules of a target's parse vocabulary (none when its folder has no vocabulary.yaml)."""
    path = target.file("vocabulary.yaml")
    if not os.path.isfile(path):
        return []
    from . import vocabulary

    return vocabulary.load(path, target.name)


def checked_rules(raws: list[RawRule], target: Target, own: list[RawRule] | None = None) -> list[Rule]:
    """Compile target's rules, having checked every rule under each target it holds for (RuleErrors lists all problems).

    A rule file is judged whole whichever target a run names: a rule for
    another release with XPath that does not compile is an error here too.
    own: rules of this target alone (its vocabulary).
    """
    from .target import targets

    errors: list[RuleError] = []
    rules: list[Rule] = []
    for t in targets():
        try:
            compiled = compile_rules([*raws, *own] if own and t == target else raws, target=t)
        except RuleErrors as exc:
            errors.extend(e for e in exc.errors if str(e) not in {str(x) for x in errors})
            continue
        if t == target:
            rules = compiled
    if errors:
        raise RuleErrors(errors)
    return rules


def compile_rules(raws: Iterable[RawRule], validate: bool = True, target: Target | str | None = None) -> list[Rule]:
    """Rules of target from schema-valid raws; validate compiles every XPath now (RuleErrors for what the schema misses)."""
    t = resolve(target)
    raws = for_target(raws, t)
    if not validate:
        return [_rule(raw) for raw in raws]
    known_caps = set(t.caps_names)
    errors: list[RuleError] = []
    seen: dict[str, RawRule] = {}
    rules: list[Rule] = []
    for raw in raws:
        b = raw.body
        for limit in re.findall(r"'limit:([a-z_]+)'", repr(b.get("test", ""))):
            errors.append(_err(raw, "test", f"{t.label} has no limit named {limit!r}"))
        if raw.id in seen:
            first = seen[raw.id]
            errors.append(_err(raw, "id", f"duplicate id, first defined at {first.path}:{first.line}"))
            continue
        seen[raw.id] = raw
        for key, names in b.get("caps", {}).items():
            _check_caps(raw, f"caps.{key}", names, known_caps, errors, t)
        _check_caps(raw, "needs", b.get("needs", []), known_caps, errors, t)
        for ex_kind in ("invalid", "valid"):
            for i, ex in enumerate(b["examples"][ex_kind]):
                _check_caps(raw, f"examples.{ex_kind}[{i}].caps",
                            ex.get("caps", []) if isinstance(ex, dict) else [], known_caps, errors, t)
        _xpath(raw, "select", b["select"], errors)
        if "fix" in b:
            from .fix import check_remedies

            errors.extend(_err(raw, "fix", problem) for problem in check_remedies(b["fix"]))
        rule = _rule(raw)
        rule._compiled = _compile_parts(raw, errors)
        rules.append(rule)
    if errors:
        raise RuleErrors(errors)
    return rules


class Engine:
    """A rule pack, ready to check any number of domains.

    Rules are held by index. A pack read from the cache keeps each rule as
    marshal bytes until a document first wakes it (or `rules` is read), so a
    check of one small domain builds a few dozen Rule objects, not the pack.
    """

    def __init__(self, rules: list[Rule], needs: dict[str, Needs] | None = None,
                 target: Target | None = None) -> None:
        self._setup(target, [r.id for r in rules], [r.select for r in rules],
                    [_condition(r.caps) for r in rules], list(rules), None, needs)

    @classmethod
    def from_pack(cls, head: tuple[Any, ...], lists: Sequence[Sequence[bytes | None]], target: Target) -> Engine:
        """An engine over a cached pack (see pack()), making each rule when first needed."""
        ids, selects, conds, index = head
        blobs, examples, needs = lists
        engine = cls([], target=target)  # empty, then set up over the pack
        groups = list(dict.fromkeys(selects))  # the order _setup files the groups in, as pack() wrote their needs
        engine._setup(target, ids, selects, conds, [None] * len(ids), blobs,
                      diskcache.Packed(diskcache.Keyed(groups, needs)))
        engine._examples = examples
        engine._index = index
        return engine

    def pack(self) -> tuple[tuple[Any, ...], list[list[bytes | None]]]:
        """This engine as marshal data: ids, selects, capability conditions and the index of the selects by fact;
        then, kept apart (a check reads few of them), each rule's bytes, its examples (checking never reads them)
        and each select group's needs."""
        rules = self.rules
        # The examples keep their place in the body (None until read), so the body reads back in its order.
        blobs: list[bytes | None] = [
            marshal.dumps(({**r.body, "examples": None} if "examples" in r.body else r.body, r.path, r.line))
            for r in rules]
        examples = [marshal.dumps(r.body["examples"]) if "examples" in r.body else None for r in rules]
        needs: list[bytes | None] = [marshal.dumps(self._needs[expr]) for expr in self._groups]
        return (self._ids, self._select_of, self._conds, self.index()), [blobs, examples, needs]

    def _setup(self, target: Target | None, ids: list[str], selects: list[str], conds: list[_Condition | None],
               made: list[Rule | None], blobs: Sequence[bytes | None] | None, needs: Mapping[str, Needs] | None) -> None:
        self.target = target or resolve(None)
        self._ids = ids
        self._select_of = selects
        self._conds = conds
        self._made = made
        self._blobs = blobs
        self._examples: Sequence[bytes | None] | None = None
        self._all: list[Rule] | None = None
        self._by_id: dict[str, Rule] | None = None
        self._id_set: frozenset[str] | None = None
        # Rules sharing one select expression share one evaluation of it, and
        # a select is only evaluated on documents holding the elements it names.
        self._groups: dict[str, list[int]] = {}
        for i, expr in enumerate(selects):
            self._groups.setdefault(expr, []).append(i)
        if isinstance(needs, diskcache.Packed):
            self._needs: Mapping[str, Needs] = needs
        else:
            known = needs or {}
            self._needs = {expr: known[expr] if expr in known else needs_of(expr) for expr in self._groups}
        self._group_list = list(self._groups.items())
        self._index: tuple[list[int], dict[Fact, list[int]]] | None = None
        self._selects: dict[str, etree.XPath] = {}
        self._plans: dict[tuple[frozenset[str], frozenset[str], frozenset[str]], _Plan] = {}
        self._actives: dict[tuple[frozenset[str], frozenset[str], frozenset[str]], list[int]] = {}

    def rule(self, i: int) -> Rule:
        """The rule at index i, made from its cached bytes on first use."""
        made = self._core(i)
        # A rule from a cached pack holds None for its examples until they are read here.
        if self._examples is not None and "examples" in made.body and made.body["examples"] is None:
            stored = self._examples[i]
            if stored is not None:
                made.body["examples"] = marshal.loads(stored)
        return made

    def _core(self, i: int) -> Rule:
        """The rule at index i as checking needs it: from a cached pack, its body's examples may be None yet."""
        made = self._made[i]
        if made is None:
            assert self._blobs is not None
            blob = self._blobs[i]
            assert blob is not None
            body, path, line = marshal.loads(blob)
            made = self._made[i] = _rule(RawRule(body, path, line))
        return made

    @property
    def rules(self) -> list[Rule]:
        """Every rule, in pack order."""
        if self._all is None:
            self._all = [self.rule(i) for i in range(len(self._ids))]
        return self._all

    @property
    def by_id(self) -> dict[str, Rule]:
        """Every rule by id."""
        if self._by_id is None:
            self._by_id = {r.id: r for r in self.rules}
        return self._by_id

    @property
    def ids(self) -> frozenset[str]:
        """Every rule id (without making the rules)."""
        if self._id_set is None:
            self._id_set = frozenset(self._ids)
        return self._id_set

    def _active(self, caps: frozenset[str], select: set[str] | None, ignore: set[str] | None) -> list[int]:
        # Asked by the settings (ids) and by the plan (rules) for the same capability set: worked out once.
        key = (caps, frozenset(select or ()), frozenset(ignore or ()))
        found = self._actives.get(key)
        if found is None:
            ids = self._ids
            found = self._actives[key] = [
                i for i, cond in enumerate(self._conds)
                if (cond is None or _holds(cond, caps))
                and (not select or matches_id(ids[i], select))
                and not (ignore and matches_id(ids[i], ignore))]
        return found

    def active(self, caps: frozenset[str], select: set[str] | None = None,
               ignore: set[str] | None = None) -> list[Rule]:
        """The rules that can fire under caps, after select and ignore."""
        return [self.rule(i) for i in self._active(caps, select, ignore)]

    def active_ids(self, caps: frozenset[str], select: set[str] | None = None,
                   ignore: set[str] | None = None) -> list[str]:
        """The ids of active(caps, select, ignore), without making the rules."""
        ids = self._ids
        return [ids[i] for i in self._active(caps, select, ignore)]

    def index(self) -> tuple[list[int], dict[Fact, list[int]]]:
        """The select groups (by position) every document wakes, and those each fact wakes.

        Each branch of a select's needs is filed under its rarest fact, so a
        document wakes few groups it cannot match; under which needed fact a
        branch is filed changes only how many candidates may_match then drops.
        """
        if self._index is None:
            needs = [self._needs[expr] for expr, _ in self._group_list]
            counts: dict[Fact, int] = {}
            for n in needs:
                for every, _ in n or ():
                    for fact in every:
                        counts[fact] = counts.get(fact, 0) + 1
            always = [g for g, n in enumerate(needs) if n is None]
            by_fact: dict[Fact, list[int]] = {}
            for g, n in enumerate(needs):
                for every, _ in n or ():
                    key = min(every, key=lambda f: (counts[f], str(f))) if every else ""
                    by_fact.setdefault(key, []).append(g)
            self._index = always, by_fact
        return self._index

    def _plan(self, caps: frozenset[str], select: set[str] | None, ignore: set[str] | None) -> _Plan:
        # Most runs check many files under one capability set: work out once which rules are live.
        key = (caps, frozenset(select or ()), frozenset(ignore or ()))
        plan = self._plans.get(key)
        if plan is None:
            wanted = set(self._active(caps, select, ignore))
            live = [[i for i in group if i in wanted] for _, group in self._group_list]
            plan = self._plans[key] = _Plan(self, live)
        return plan

    def _select(self, expr: str) -> etree.XPath:
        xp = self._selects.get(expr)
        if xp is None:
            xp = self._selects[expr] = compile_xpath(expr)
        return xp

    def evaluate(self, doc: Document, caps: frozenset[str], select: set[str] | None = None,
                 ignore: set[str] | None = None, host: Any = None, start: Any = None) -> list[Finding]:
        """Every finding of every active rule on a normalised document (start: a domlint.start.Start, or None)."""
        plan = self._plan(caps, select, ignore)
        tree = doc.tree
        forget_document()
        findings: list[Finding] = []
        # Normalisation's walk read the facts already (and kept them whole as it changed the tree).
        facts = doc.walk.facts if doc.walk is not None else document_facts(tree.getroot())
        # One context for the document; its state spans one rule's selection, so it is emptied between rules.
        ctx = Context(host=host, caps=caps, doc=doc, start=start, target=self.target)
        selects, checks = plan.selects, plan.checks
        Element = etree._Element
        for g in plan.candidates(facts):
            xp = selects[g]
            if xp is None:
                xp = selects[g] = self._select(self._group_list[g][0])
            selected = xp(tree)
            if not selected or not isinstance(selected, list):
                continue
            elements = [el for el in selected if isinstance(el, Element)]
            checked = checks[g]
            if checked is None:
                checked = plan.make_checks(g)
            for rule, when, tests, narrow in checked:
                if ctx.state:
                    ctx.state = {}
                for el in elements if narrow is None else narrow(elements, ctx):
                    if when is not None and not when(el):
                        continue
                    hit = None
                    for test in tests:
                        hit = test.holds(el, ctx)
                        if hit is None:
                            break
                    else:
                        findings.append(Finding(
                            rule_id=rule.id, severity=rule.severity, message=rule.render(el, hit, caps),
                            hint=rule.render_hint(el, hit, caps), path=doc.path, line=el.sourceline or 1,
                            column=doc.column(el), xpath=tree.getpath(el), stage=rule.stage,
                        ))
        findings.sort(key=lambda f: (f.line, f.column, f.rule_id))
        return findings


# A select's needs not read from the pack yet (None means "may match anything").
_UNREAD: Any = object()

# One union branch of a select as the plan checks it: its group, the facts it needs besides the one it is
# filed under (None when no other), and its clauses (each needing one fact of its own).
_Entry = tuple[int, frozenset[Fact] | None, tuple[frozenset[Fact], ...]]
# What evaluate asks of one rule: the rule, its compiled when and tests, and its first test's narrow (or None).
_Checks = tuple[Rule, etree.XPath | None, list[Predicate], Callable[..., list[etree._Element]] | None]


class _Plan:
    """The live rules of each select group for one capability set, and the groups a document wakes."""

    def __init__(self, engine: Engine, live: list[list[int]]) -> None:
        self.live = live
        # Each group's rules, made when a document first wakes the group.
        self.rules: list[list[Rule] | None] = [None] * len(live)
        # Each group's needs, read when a document first wakes the group.
        self.needs: list[Needs | object] = [_UNREAD] * len(live)
        # Each group's compiled select, and (rule, when, tests) of its live rules: made when first needed.
        self.selects: list[etree.XPath | None] = [None] * len(live)
        self.checks: list[list[_Checks] | None] = [None] * len(live)
        self._engine = engine
        always, self.by_fact = engine.index()
        self.always = [g for g in always if live[g]]
        # The branches of live groups filed under each fact the index names, made when a document first holds
        # the fact (None until then); "" files the branches that need no one fact.
        self._entries: dict[Fact, tuple[_Entry, ...] | None] = dict.fromkeys(self.by_fact)
        self._anywhere = self._entries_of("")

    def group(self, g: int) -> tuple[str, list[Rule]]:
        """The select of group g and its live rules (made now if not yet; their examples are not read)."""
        live = self.rules[g]
        if live is None:
            live = self.rules[g] = [self._engine._core(i) for i in self.live[g]]
        return self._engine._group_list[g][0], live

    def make_checks(self, g: int) -> list[_Checks]:
        """(rule, compiled when, compiled tests, the first test's narrow) of each live rule of group g (compiled
        now if not yet)."""
        made = []
        for rule in self.group(g)[1]:
            compiled = rule.compiled
            tests = compiled.tests
            # Elements the first test cannot hold for need neither the when nor the other tests asked.
            made.append((rule, compiled.when_xp, tests, tests[0].narrow if tests else None))
        self.checks[g] = made
        return made

    def live_groups(self) -> list[tuple[str, list[Rule]]]:
        """Every group with live rules, as group() gives it, in pack order."""
        return [self.group(g) for g, live in enumerate(self.live) if live]

    def _needs_of(self, g: int) -> Needs:
        n = self.needs[g]
        if n is _UNREAD:
            n = self.needs[g] = self._engine._needs[self._engine._group_list[g][0]]
        return cast(Needs, n)

    def _entries_of(self, fact: Fact) -> tuple[_Entry, ...]:
        """The branches of live groups filed under fact, each with what it needs besides fact."""
        out: list[_Entry] = []
        live = self.live
        for g in dict.fromkeys(self.by_fact.get(fact, ())):
            if not live[g]:
                continue
            # Every branch needing fact is kept (not only those the index filed here): a branch filed under
            # another fact is then checked twice, and a group found twice is one candidate.
            for every, clauses in self._needs_of(g) or ():
                if fact in every or (not fact and not every):
                    rest = every - {fact}
                    out.append((g, rest or None, clauses))
        found = tuple(out)
        if fact in self._entries:
            self._entries[fact] = found
        return found

    def candidates(self, facts: set[Fact]) -> list[int]:
        """The positions of the groups with live rules whose select can match a document with these facts, in pack order."""
        found = list(self.always)
        add = found.append
        entries_of = self._entries
        for fact in (None, *facts):
            if fact is None:
                entries = self._anywhere
            else:
                # () for a fact no select names, None for one this plan has not filed yet.
                known = entries_of.get(fact, ())
                entries = self._entries_of(fact) if known is None else known
            # may_match, inlined: this runs for some 150 branches of every document.
            for g, every, clauses in entries:
                if every is not None and not every <= facts:
                    continue
                for clause in clauses:
                    if clause.isdisjoint(facts):
                        break
                else:
                    add(g)
        return sorted(set(found))


def matches_id(rule_id: str, patterns: Iterable[str]) -> bool:
    """A rule id matches an id or a prefix of whole words ('disk' matches 'disk-ide-readonly')."""
    return any(rule_id == p or rule_id.startswith(p.rstrip("-") + "-") for p in patterns)


def load_engine(extra_dirs: list[Any] | None = None, use_cache: bool = True,
                builtin: bool = True, target: Target | str | None = None) -> Engine:
    """Load, validate and compile the built-in rules plus any extra directories, for one target (default: the newest)."""
    from .data import rules_dir
    from .rulepack import load_raw, rule_files

    t = resolve(target)
    dirs = ([rules_dir()] if builtin else []) + list(extra_dirs or [])
    if not use_cache:
        return Engine(checked_rules(load_raw(dirs, use_cache=False), t, vocabulary_rules(t) if builtin else []), target=t)

    built: list[Engine] = []

    def build() -> tuple[tuple[Any, ...], list[list[bytes | None]]]:
        # Checked whole here (schema, capability names, every XPath probed);
        # only a pack that passed is ever stored.
        everything = load_raw(dirs)
        own = vocabulary_rules(t) if builtin else []
        built.append(Engine(checked_rules(everything, t, own), target=t))
        # Stored already filtered for t with its limits filled in (checked_rules): not again when read.
        head, lists = built[0].pack()
        # And a fourth list: the compiled programs of the regular expressions its rules and domlint use.
        programs = regex_programs.stored([*regex_programs.rule_patterns(r.body for r in built[0].rules),
                                          *regex_programs.own_patterns()])
        return head, [*lists, [programs]]

    vocab = [t.file("vocabulary.yaml")] if builtin and os.path.isfile(t.file("vocabulary.yaml")) else []
    sources = [*rule_files(dirs), t.file("caps-names.txt"), t.file("target.json"), *vocab]
    head, lists = diskcache.load_split(f"pack-{t.name}", sources, build)
    if built:
        return built[0]  # compiled just now: no need to compile it again
    if len(lists) > 3:
        # Before any of the patterns is first compiled: re.compile then finds them made in its cache.
        regex_programs.seed(lists[3])
    # A pack read back from the cache makes each rule, and compiles its XPath, as rules first meet elements.
    return Engine.from_pack(head, lists[:3], t)


__all__ = ["Engine", "Rule", "RuleErrors", "compile_rules", "load_engine", "matches_id"]
