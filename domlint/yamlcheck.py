"""Loading a YAML file that a JSON Schema describes, with errors that name the file, line and field."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import cache
from .data import load_schema
from .errors import InputError, read_text
from .rulepack import _child, _describe, compose_yaml, yaml_error_where

if TYPE_CHECKING:
    from .pathname import StrPath


def load_checked(path: StrPath, schema_name: str, what: str) -> dict[str, Any]:
    """Read a YAML mapping and validate it against schema/<schema_name>; InputError on any problem."""
    # Kept once valid: later runs need neither the YAML parser nor jsonschema.
    data = cache.load(f"yaml-{schema_name.split('.')[0]}", [path], lambda: _load_checked(path, schema_name, what))
    assert isinstance(data, dict)
    return data


def _load_checked(path: StrPath, schema_name: str, what: str) -> dict[str, Any]:
    import yaml  # imported only when YAML is really read
    name = str(path)
    text = read_text(path, what)
    try:
        node, doc = compose_yaml(text)
    except yaml.YAMLError as exc:
        raise InputError(name, yaml_error_where(exc, text)[0], f"{what} is not valid YAML") from None
    if not isinstance(doc, dict):
        raise InputError(name, 1, f"{what} must be a mapping")

    import jsonschema  # only when a file is actually loaded

    schema = load_schema(schema_name)
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(doc),
                    key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        err = errors[0]
        cur, line = node, node.start_mark.line + 1
        for step in err.absolute_path:
            cur = _child(cur, step) if cur is not None else None
            if cur is not None:
                line = cur.start_mark.line + 1
        field = ".".join(str(p) for p in err.absolute_path)
        where = f"field {field}: " if field else ""
        raise InputError(name, line, f"{what}: {where}{_describe(err)}")
    return doc
