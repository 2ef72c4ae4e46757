"""Where the rule pack, the schemas and the built-in data live."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    # In a wheel the rule pack and schemas sit inside the package; in a source
    # checkout (or an editable install) they sit beside it.
    inside = _PKG / name
    return inside if inside.is_dir() else _PKG.parent / name


def rules_dir() -> Path:
    """The built-in rule pack."""
    return _shipped("rules")


def schema_dir() -> Path:
    """The JSON Schemas."""
    return _shipped("schema")


def data_file(name: str) -> Path:
    """A data file shipped with the engine."""
    return _PKG / "data" / name
