"""Loading rule files: YAML, validated against the JSON Schema, cached by content."""

from __future__ import annotations

import os
import re
import stat
from typing import TYPE_CHECKING, Any

from . import cache
from .data import data_file, load_schema, rules_dir, schema_file
from .errors import RuleError
from .pathname import StrPath, clean, mode, read_bytes, suffix
from .record import record

if TYPE_CHECKING:
    import yaml

# Bump when the cached form of a rule changes meaning.
_CACHE_FORMAT = "1"


class RuleErrors(Exception):
    """One or more rule files that cannot be loaded."""

    def __init__(self, errors: list[RuleError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


@record(frozen=True)
class RawRule:
    """A schema-valid rule as read from its file, not yet compiled."""

    body: dict[str, Any]
    path: str
    line: int

    @property
    def id(self) -> str:
        """The rule id."""
        return str(self.body["id"])


def _stamp() -> bytes:
    # A cached file is valid only for the schema it was checked against
    # (capability names are checked when a target's pack is compiled).
    import hashlib
    h = hashlib.sha256(_CACHE_FORMAT.encode())
    h.update(read_bytes(schema_file("rule.schema.json")))
    return h.digest()


# Bounds on what a YAML file may build: deeper nesting would exhaust Python's
# stack, and aliases can make a few lines expand to billions of nodes.
MAX_YAML_DEPTH = 64
MAX_YAML_NODES = 200_000


def _bounded_loader(text: str) -> Any:
    """A SafeLoader that refuses nesting deeper than MAX_YAML_DEPTH while composing."""
    import yaml

    global _LOADER
    if _LOADER is None:
        class BoundedLoader(yaml.SafeLoader):
            """SafeLoader counting how deep each node sits while composing."""

            depth = 0

            def compose_node(self, parent: Any, index: Any) -> Any:
                """Compose one node, refusing it past MAX_YAML_DEPTH."""
                self.depth += 1
                try:
                    if self.depth > MAX_YAML_DEPTH:
                        raise yaml.MarkedYAMLError(None, None, f"nested more than {MAX_YAML_DEPTH} levels deep",
                                                   self.peek_event().start_mark)
                    return super().compose_node(parent, index)
                finally:
                    self.depth -= 1
        # Defined on first use: yaml is imported only when a YAML file is really read.
        _LOADER = BoundedLoader
    return _LOADER(text)


_LOADER: Any = None


def _check_nodes(root: yaml.Node) -> None:
    """Refuse duplicate mapping keys, aliases to their own anchor, and trees that aliases blow up."""
    import yaml

    sizes: dict[int, int] = {}
    open_: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_:
            raise yaml.MarkedYAMLError(None, None, "an alias refers to the node that contains it", node.start_mark)
        open_.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, yaml.Node] = {}
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.tag != "tag:yaml.org,2002:merge":
                    if k.value in seen:
                        first = seen[k.value].start_mark.line + 1
                        raise yaml.MarkedYAMLError(None, None, f"duplicate key '{k.value}' (first on line {first})",
                                                   k.start_mark)
                    seen[k.value] = k
                total += size(k) + size(v)
        elif isinstance(node, yaml.SequenceNode):
            total += sum(size(v) for v in node.value)
        if total > MAX_YAML_NODES:
            raise yaml.MarkedYAMLError(None, None, f"expands to more than {MAX_YAML_NODES} values "
                                       "(aliases repeat what they name)", node.start_mark)
        open_.discard(key)
        sizes[key] = total
        return total

    size(root)


def compose_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """The YAML node tree (for line numbers) and the data built from it, from one parse (YAMLError if invalid)."""
    loader = _bounded_loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _check_nodes(node)
        return node, loader.construct_document(node)
    finally:
        loader.dispose()


def yaml_error_where(exc: yaml.YAMLError, text: str) -> tuple[int | None, str]:
    """The line a YAML error points at and its problem in one short line."""
    import yaml
    if isinstance(exc, yaml.reader.ReaderError):
        # Raised for characters YAML forbids (NUL, most controls); it gives an offset, not a mark.
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        return text.count("\n", 0, exc.position) + 1, f"character U+{code:04X} is not allowed"
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return line, _short(str(problem))


def rule_files(dirs: list[StrPath]) -> list[str]:
    """The rule files of the given directories (or files), in a stable order."""
    files: list[str] = []
    for given in dirs:
        d = clean(given)
        try:
            kind = mode(d)
        except OSError as exc:
            raise RuleErrors([RuleError(d, None, f"cannot read: {exc.strerror or exc}")]) from None
        if kind is not None and stat.S_ISREG(kind):
            files.append(d)
            continue
        if kind is None or not stat.S_ISDIR(kind):
            raise RuleErrors([RuleError(d, None, "rule directory does not exist")])
        files.extend(clean(os.path.join(d, *parts)) for parts in sorted(_yaml_below(d, ())))
    return files


def _yaml_below(top: str, parts: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The relative parts of every entry below top whose suffix is .yaml or .yml, as Path.rglob('*') finds
    them (symlinked directories are not entered); sorted by parts, they are in Path order. (rglob builds a
    Path for every entry: several times slower on the start-up of each run.)"""
    out = []
    with os.scandir(os.path.join(top, *parts)) as it:
        for entry in it:
            name = entry.name
            if suffix(name) in (".yaml", ".yml"):
                out.append((*parts, name))
            if entry.is_dir() and not entry.is_symlink():
                out.extend(_yaml_below(top, (*parts, name)))
    return out


def load_raw(dirs: list[StrPath] | None = None, use_cache: bool = True) -> list[RawRule]:
    """Read and schema-validate every rule file; raise RuleErrors listing every problem."""
    paths = rule_files(dirs if dirs is not None else [rules_dir()])
    stamp = _stamp()
    rules: list[RawRule] = []
    errors: list[RuleError] = []
    for path in paths:
        try:
            rules.extend(_load_file(path, stamp, use_cache))
        except RuleErrors as exc:
            errors.extend(exc.errors)
    if errors:
        raise RuleErrors(errors)
    return rules


def _load_file(name: str, stamp: bytes, use_cache: bool) -> list[RawRule]:
    import hashlib
    try:
        data = read_bytes(name)
    except OSError as exc:
        raise RuleErrors([RuleError(name, None, f"cannot read: {exc.strerror or exc}")]) from None
    # Keyed on content: a rule file validated once is not validated again,
    # wherever it lives, until it changes.
    key = hashlib.sha256(stamp + data).hexdigest()
    entries = _cached_entries(key) if use_cache else None
    if entries is None:
        entries = _validate(name, data)
        if use_cache:
            cache.write("rules", key, entries)
    return [RawRule(body, name, line) for body, line in entries]


def _cached_entries(key: str) -> list[tuple[dict[str, Any], int]] | None:
    """A validated file's rules from the cache; None for a miss or a damaged or foreign entry."""
    entries = cache.read("rules", key)
    # Never compiled as it is: anything but the shape written is validated again.
    if (not isinstance(entries, (list, tuple)) or not entries
            or not all(isinstance(e, (list, tuple)) and len(e) == 2 and isinstance(e[0], dict)
                       and isinstance(e[0].get("id"), str) and isinstance(e[1], int) for e in entries)):
        return None
    return [(body, line) for body, line in entries]


def _validate(name: str, data: bytes) -> list[tuple[dict[str, Any], int]]:
    """Parse and schema-check one rule file (the slow path; jsonschema loads here)."""
    import yaml
    try:
        text = data.decode("utf-8")
        node, doc = compose_yaml(text)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise RuleErrors([RuleError(name, line, f"not UTF-8: {exc.reason}")]) from None
    except yaml.YAMLError as exc:
        line, problem = yaml_error_where(exc, text)
        raise RuleErrors([RuleError(name, line, f"not valid YAML: {problem}")]) from None
    if doc is None:
        raise RuleErrors([RuleError(name, 1, "rule file is empty")])

    import jsonschema

    schema = load_schema("rule.schema.json")
    validator = jsonschema.Draft202012Validator(schema)
    errors = []
    for err in sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path]):
        errors.append(_schema_error(name, doc, node, list(err.absolute_path), _describe(err)))
    if errors:
        raise RuleErrors(_dedupe(errors))
    rule_nodes = _child(node, "rules")
    out = []
    # A file's `libvirt` range is the default of each of its rules.
    file_range = doc.get("libvirt")
    for i, body in enumerate(doc["rules"]):
        if file_range and "libvirt" not in body:
            body = {**body, "libvirt": file_range}
        item = rule_nodes.value[i] if rule_nodes is not None else None
        out.append((body, item.start_mark.line + 1 if item is not None else 1))
    return out


def _short(text: str, limit: int = 200) -> str:
    """text on one line, cut to limit characters (a schema message quotes the whole offending value)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _describe(err: Any) -> str:
    """A schema error in a sentence of reasonable length."""
    return _short(_describe_full(err))


def _describe_full(err: Any) -> str:
    if err.validator == "additionalProperties":
        return str(err.message).replace(" were unexpected", " is not a known field").replace(
            " was unexpected", " is not a known field")
    if err.validator == "required":
        return str(err.message).replace(" is a required property", " is required")
    if err.validator == "dependentRequired":
        # jsonschema says "'needs' is a dependency of 'feature'"; say it the other way round.
        m = re.fullmatch(r"(.+) is a dependency of (.+)", str(err.message))
        if m:
            return f"{m.group(2)} is only allowed together with {m.group(1)}"
    if err.validator in ("oneOf", "anyOf"):
        return "does not match any of the allowed forms"
    return str(err.message)


def _dedupe(errors: list[RuleError]) -> list[RuleError]:
    seen: set[str] = set()
    out = []
    for e in errors:
        if str(e) not in seen:
            seen.add(str(e))
            out.append(e)
    return out


def _child(node: Any, key: str | int) -> Any:
    import yaml
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if k.value == key:
                return v
    elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
        return node.value[key]
    return None


def _schema_error(name: str, doc: Any, node: Any, path: list[Any], message: str) -> RuleError:
    """Turn a schema error at path into a message naming the rule id, the field and the line."""
    rule_id = None
    field_parts: list[str] = []
    cur_doc, cur_node, line = doc, node, (node.start_mark.line + 1 if node is not None else None)
    for i, step in enumerate(path):
        if i == 1 and path[0] == "rules" and isinstance(step, int):
            try:
                rid = cur_doc[step].get("id") if isinstance(cur_doc[step], dict) else None
            except (IndexError, KeyError, TypeError):
                rid = None
            rule_id = _short(str(rid), 80) if rid is not None else f"#{step + 1}"
        elif i >= 2:
            field_parts.append(f"[{step}]" if isinstance(step, int) else f".{step}")
        try:
            cur_doc = cur_doc[step]
        except (IndexError, KeyError, TypeError):
            cur_doc = None
        cur_node = _child(cur_node, step) if cur_node is not None else None
        if cur_node is not None:
            line = cur_node.start_mark.line + 1
    field = "".join(field_parts).lstrip(".") or None
    if not path:
        field = None
    elif path == ["rules"]:
        field = "rules"
    return RuleError(name, line, message, rule_id=rule_id, field=field)


def load_uncovered(path: StrPath | None = None) -> dict[str, str]:
    """A target's error sites no rule can decide (1.2.8's Q and P rows by default; 9.0's M rows): id to reason."""
    import yaml
    name = clean(path or data_file("targets/1.2.8/uncovered-checks.yaml"))
    if not os.path.exists(name):
        return {}
    try:
        with open(name, encoding="utf-8") as fh:
            text = fh.read()
        node, doc = compose_yaml(text)
    except OSError as exc:
        raise RuleErrors([RuleError(name, None, f"cannot read: {exc.strerror or exc}")]) from None
    except yaml.YAMLError as exc:
        raise RuleErrors([RuleError(name, yaml_error_where(exc, text)[0], "not valid YAML")]) from None
    if doc is None:
        return {}
    if not isinstance(doc, list):
        raise RuleErrors([RuleError(name, 1, "must be a list of {id, reason} entries")])
    out: dict[str, str] = {}
    errors: list[RuleError] = []
    for i, entry in enumerate(doc):
        line = node.value[i].start_mark.line + 1
        if (not isinstance(entry, dict) or set(entry) != {"id", "reason"}
                or not re.fullmatch(r"Q[0-9]{3}|P[0-9]{4}|M[0-9]{3,4}", str(entry["id"]))
                or not str(entry["reason"] or "").strip()):
            errors.append(RuleError(name, line,
                                    "an entry needs exactly an id (Q and 3 digits, P and 4, M and 3 or 4) and a reason"))
            continue
        qid = str(entry["id"])
        if qid in out:
            errors.append(RuleError(name, line, f"{qid} is listed twice"))
        out[qid] = str(entry["reason"]).strip()
    if errors:
        raise RuleErrors(errors)
    return out


def _example(item: Any) -> str:
    """An example's XML as the rule file writes it."""
    if isinstance(item, str):
        return item.strip()
    if isinstance(item, dict):
        text = str(item.get("xml", "")).strip()
        extra = []
        if item.get("caps") is not None:
            extra.append(f"with capabilities {', '.join(item['caps']) or 'none'}")
        if item.get("caps_profile"):
            extra.append(f"with profile {item['caps_profile']}")
        if item.get("repeat"):
            extra.append(f"and {item['repeat'].get('count')} times {str(item['repeat'].get('xml', '')).strip()}")
        return text + (f"\n<!-- {'; '.join(extra)} -->" if extra else "")
    return ""


def first_examples(body: dict[str, Any]) -> tuple[str, ...]:
    """The first invalid and the first valid example of a rule body (empty when it has none)."""
    ex = body.get("examples") or {}
    inv, val = ex.get("invalid") or [], ex.get("valid") or []
    if not inv or not val:
        return ()
    return (_example(inv[0]), _example(val[0]))
