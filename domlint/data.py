"""Where the rule pack, the schemas and the built-in data live (as path strings: a check of one file never
imports pathlib, whose import costs as much as a fifth of the whole run's start-up)."""

from __future__ import annotations

import os
from typing import Any

_PKG = os.path.dirname(os.path.realpath(__file__))


def _shipped(name: str) -> str:
    # In a wheel the rule pack and schemas sit inside the package; in a source
    # checkout (or an editable install) they sit beside it.
    inside = os.path.join(_PKG, name)
    return inside if os.path.isdir(inside) else os.path.join(os.path.dirname(_PKG), name)


def rules_dir() -> str:
    """The built-in rule pack."""
    return _shipped("rules")


def data_file(name: str) -> str:
    """A data file shipped with the engine."""
    return os.path.join(_PKG, "data", name)


def schema_file(name: str) -> str:
    """One of the JSON Schemas, by file name."""
    return os.path.join(_shipped("schema"), name)


def load_schema(name: str) -> Any:
    """One of the JSON Schemas, parsed."""
    import json

    from .pathname import read_bytes

    return json.loads(read_bytes(schema_file(name)))
