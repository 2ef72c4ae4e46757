"""A target's parse vocabulary: what its parser accepts, as data, turned into parse-stage rules.

Most of what libvirt's parser refuses is one of three shapes: a value outside
an enumeration ("unknown disk type 'x'"), a required element or attribute
that is missing ("missing source path"), or a value in the wrong format. A
target folder lists these in `vocabulary.yaml`; each entry becomes a rule
like any other (select index, suppressions, reports), with its message, hint
and examples derived from the entry. An entry names one valid example; its
invalid example is that example with the entry's value made wrong.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import RuleError
from .rulepack import RawRule, RuleErrors

# The value an enumeration or format entry's invalid example is given.
BOGUS = "no-such-value"


def _tag(at: str) -> str:
    """The element name an absolute XPath ends in ('/domain/devices/disk[@x]' -> 'disk')."""
    last = re.sub(r"\[.*?\]", "", at).rstrip("/").split("/")[-1]
    return last.split(":")[-1]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _listing(values: list[str]) -> str:
    quoted = [f"'{v}'" for v in values]
    return ", ".join(quoted[:-1]) + f" or {quoted[-1]}" if len(quoted) > 1 else quoted[0]


def _subject(entry: dict[str, Any]) -> tuple[str, str]:
    """The XPath of the checked value, relative to the element, and how a message names it."""
    attr = entry.get("attribute")
    if attr:
        return f"@{attr}", f"{attr}"
    return "normalize-space(.)", "value"


def rule_body(entry: dict[str, Any], release: str) -> dict[str, Any]:
    """The rule an entry stands for (examples left to `with_examples`)."""
    at, tag = entry["at"], _tag(entry["at"])
    value_xp, name = _subject(entry)
    shown = f"{{{value_xp}}}"
    body: dict[str, Any] = {"severity": "error", "stage": "parse"}
    if "values" in entry:
        values = [str(v) for v in entry["values"]]
        listed = ", ".join(f"'{v}'" for v in values)
        body.update(
            id=entry.get("id") or "-".join(["vocab", _slug(tag), *[_slug(a) for a in [entry.get("attribute")] if a]]),
            summary=f"<{tag}> {name} is one libvirt {release} knows",
            select=f"{at}[{value_xp if entry.get('attribute') else 'normalize-space(.)'}]",
            test=[{"enum": {"value": value_xp, "allowed": values}}],
            message=f"<{tag}>: libvirt {release} knows no {name} '{shown}'",
            hint=entry.get("hint") or (f"use {_listing(values)}" if len(values) <= 12
                                       else f"use one of the values libvirt {release} knows: {listed}"),
        )
    elif "requires" in entry:
        need = str(entry["requires"])
        what = entry.get("what") or (f"a {need[1:]} attribute" if need.startswith("@") else f"a <{need}> element")
        body.update(
            id=entry.get("id") or f"vocab-{_slug(tag)}-{_slug(need)}-missing",
            summary=f"<{tag}> has {what}",
            select=f"{at}[not({need})]",
            message=f"<{tag}> lacks {what}",
            hint=entry.get("hint") or f"add {what}",
        )
    else:
        body.update(
            id=entry.get("id") or f"vocab-{_slug(tag)}-{_slug(name)}-format",
            summary=f"<{tag}> {name} is written as libvirt {release} reads it",
            select=f"{at}[{value_xp if entry.get('attribute') else 'normalize-space(.)'}]",
            when=f"not(re:test({value_xp}, '{entry['pattern']}'))",
            message=f"<{tag}>: '{shown}' is not a {entry.get('what') or name} libvirt {release} can read",
            hint=entry["hint"],
        )
    if entry.get("when"):
        body["when"] = f"({entry['when']}) and ({body['when']})" if "when" in body else entry["when"]
    if entry.get("upstream"):
        body["upstream"] = list(entry["upstream"])
    return body


def _break(entry: dict[str, Any], xml: str) -> str:
    """The entry's valid example made invalid: as a whole domain, its value wrong or its requirement dropped."""
    from lxml import etree

    from .examples import example_document

    doc = example_document(xml)
    found = doc.tree.xpath(entry["at"])
    if not found:
        raise ValueError(f"the example has no element at {entry['at']}")
    el = found[0]
    attr = entry.get("attribute")
    if "requires" in entry:
        need = str(entry["requires"])
        if need.startswith("@"):
            el.attrib.pop(need[1:], None)
        else:
            for child in el.findall(need):
                el.remove(child)
    elif attr:
        el.set(attr, BOGUS if "values" in entry else "!bad!")
    else:
        el.text = BOGUS if "values" in entry else "!bad!"
    return etree.tostring(doc.tree, encoding="unicode")


def load(path: str, release: str) -> list[RawRule]:
    """The rules of a vocabulary file (RuleErrors, located, for a malformed one)."""
    import jsonschema
    import yaml

    from .data import load_schema
    from .rulepack import compose_yaml, yaml_error_where

    name = str(path)
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    try:
        node, doc = compose_yaml(text)
    except yaml.YAMLError as exc:
        line, problem = yaml_error_where(exc, text)
        raise RuleErrors([RuleError(name, line, f"not valid YAML: {problem}")]) from None
    schema = load_schema("vocabulary.schema.json")
    errors = [RuleError(name, None, f"{'.'.join(str(p) for p in e.absolute_path)}: {e.message}")
              for e in jsonschema.Draft202012Validator(schema).iter_errors(doc)]
    if errors:
        raise RuleErrors(errors)
    rules_schema = load_schema("rule.schema.json")
    rule_schema = jsonschema.Draft202012Validator({**rules_schema["$defs"]["rule"], "$defs": rules_schema["$defs"]})
    out = []
    items = next((v.value for k, v in node.value if k.value == "entries"), []) if doc else []
    items = items if isinstance(items, list) else []
    for entry, item in zip((doc.get("entries") or []) if doc else [], items or [], strict=False):
        line = item.start_mark.line + 1
        body = rule_body(entry, release)
        try:
            body["examples"] = {"valid": [entry["example"]], "invalid": [_break(entry, entry["example"])]}
        except Exception as exc:  # a malformed example is the file's fault: say where
            raise RuleErrors([RuleError(name, line, f"example: {exc}", rule_id=body["id"])]) from None
        problems = [e.message for e in rule_schema.iter_errors(body)]
        if problems:
            raise RuleErrors([RuleError(name, line, f"makes no valid rule: {problems[0]}", rule_id=body["id"])])
        out.append(RawRule(body, name, line))
    return out
