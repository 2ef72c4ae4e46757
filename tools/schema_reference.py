#!/usr/bin/env python3
"""Write the README's rule, configuration and host profile references from the JSON Schemas.

    python tools/schema_reference.py          # rewrite the README sections in place
    python tools/schema_reference.py --check  # exit 1 when they are out of date

The README holds each reference between BEGIN/END marker comments; the test
suite fails when they differ from what this script generates, so the
documentation cannot drift from the schemas that rule and config files are
validated against.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
RULE_SCHEMA = REPO / "schema" / "rule.schema.json"
CONFIG_SCHEMA = REPO / "schema" / "config.schema.json"
HOST_SCHEMA = REPO / "schema" / "host.schema.json"

Node = dict[str, Any]


def _cell(text: str, prose: bool = False) -> str:
    # Angle brackets would be read as HTML tags by Markdown renderers, and
    # asterisks in prose as emphasis (value texts use them for emphasis).
    text = " ".join(text.split()).replace("|", "\\|")
    text = text.replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("*", "\\*") if prose else text


def _ref_name(node: Node) -> str:
    return node["$ref"].rsplit("/", 1)[-1]


def value_text(node: Node, defs: dict[str, Node]) -> str:
    """What a field holds, in a few words."""
    if "$ref" in node:
        name = _ref_name(node)
        extra = f" matching `{node['pattern']}`" if "pattern" in node else ""
        return f"*{name}*{extra}"
    if "enum" in node:
        return "one of " + ", ".join(f"`{json.dumps(v) if v is None else v}`" for v in node["enum"])
    if "oneOf" in node:
        return " or ".join(value_text(alt, defs) for alt in node["oneOf"])
    kind = node.get("type")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind == "array":
        least = f" (at least {node['minItems']})" if node.get("minItems") else ""
        unique = ", no repeats" if node.get("uniqueItems") else ""
        return f"list of {value_text(node.get('items', {}), defs)}{least}{unique}"
    if kind == "object" and isinstance(node.get("additionalProperties"), dict):
        keys = node.get("propertyNames", {})
        key = value_text(keys, defs) if "$ref" in keys else "name"
        return f"mapping of {key} to {value_text(node['additionalProperties'], defs)}"
    if kind == "object":
        return "mapping"
    if kind == "string" and "pattern" in node:
        return f"string matching `{node['pattern']}`"
    if kind == "boolean":
        return "`true` or `false`"
    return kind or "any"


def _description(node: Node, defs: dict[str, Node]) -> str:
    if "description" in node:
        return str(node["description"])
    if "$ref" in node:
        return str(defs.get(_ref_name(node), {}).get("description", ""))
    return ""


def field_rows(node: Node, defs: dict[str, Node], prefix: str = "") -> list[str]:
    """Table rows for the properties of an object schema, nested objects flattened with dots."""
    rows = []
    required = set(node.get("required", []))
    for name, sub in node.get("properties", {}).items():
        full = f"{prefix}{name}"
        rows.append(f"| `{full}` | {'yes' if name in required else ''} | {_cell(value_text(sub, defs))} "
                    f"| {_cell(_description(sub, defs), True)} |")
        if sub.get("type") == "object" and "properties" in sub:
            rows.extend(field_rows(sub, defs, full + "."))
    return rows


def _table(rows: list[str]) -> str:
    return "\n".join(["| field | required | value | meaning |", "| --- | --- | --- | --- |", *rows])


def rule_reference(schema: Node) -> str:
    """The Markdown reference of a rule file."""
    defs = schema["$defs"]
    out = [_cell(schema.get("description", ""), True), "",
           _table(field_rows(schema, defs)), "", "Each entry of `rules`:", "", _table(field_rows(defs["rule"], defs)),
           "", "Typed tests (`test:` entries; " + _cell(defs["predicate"]["description"], True) + "):", "",
           "| test | fields (* required) | holds when |", "| --- | --- | --- |"]
    for name, pred in defs["predicate"]["properties"].items():
        need = set(pred.get("required", []))
        fields = "<br>".join(
            f"`{f}`{'*' if f in need else ''}: {_cell(value_text(sub, defs))}"
            + (f" ({_cell(sub['description'], True)})" if "description" in sub else "")
            for f, sub in pred.get("properties", {}).items())
        out.append(f"| `{name}` | {fields} | {_cell(pred.get('description', ''), True)} |")
    out += ["", "Value types:", "", "| type | value | meaning |", "| --- | --- | --- |"]
    for name, node in defs.items():
        if name in ("rule", "predicate"):
            continue
        shown = value_text(node, defs)
        if "oneOf" in node:
            forms = []
            for alt in node["oneOf"]:
                if alt.get("type") == "object":
                    forms.append("mapping of " + ", ".join(
                        f"`{k}`{'*' if k in alt.get('required', []) else ''}" for k in alt.get("properties", {})))
                else:
                    forms.append(value_text(alt, defs))
            shown = " or ".join(forms)
        out.append(f"| *{name}* | {_cell(shown)} | {_cell(node.get('description', ''), True)} |")
    return "\n".join(out)


def config_reference(schema: Node) -> str:
    """The Markdown reference of the configuration keys."""
    defs = schema.get("$defs", {})
    out = [_cell(schema.get("description", ""), True), "", _table(field_rows(schema, defs))]
    types = [f"| *{n}* | {_cell(value_text(d, defs))} | {_cell(d.get('description', ''), True)} |"
             for n, d in defs.items()]
    if types:
        out += ["", "| type | value | meaning |", "| --- | --- | --- |", *types]
    return "\n".join(out)


SECTIONS = {
    "rule-reference": (RULE_SCHEMA, rule_reference),
    "config-reference": (CONFIG_SCHEMA, config_reference),
    "host-reference": (HOST_SCHEMA, config_reference),
}


def update(readme: str) -> str:
    """readme with every generated section replaced by what the schemas say now."""
    for name, (schema_path, render) in SECTIONS.items():
        begin = f"<!-- BEGIN {name}: generated by tools/schema_reference.py from {schema_path.relative_to(REPO)} -->"
        end = f"<!-- END {name} -->"
        if begin not in readme or end not in readme:
            raise SystemExit(f"README.md lacks the markers {begin} ... {end}")
        head, rest = readme.split(begin, 1)
        _, tail = rest.split(end, 1)
        body = render(json.loads(schema_path.read_text()))
        readme = f"{head}{begin}\n{body}\n{end}{tail}"
    return readme


def main() -> int:
    """Rewrite the README, or with --check report whether it is up to date."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="exit 1 if README.md is out of date")
    args = ap.parse_args()
    old = README.read_text()
    new = update(old)
    if args.check:
        if new != old:
            sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                                       "README.md", "README.md (generated)"))
            return 1
        return 0
    if new != old:
        README.write_text(new)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
