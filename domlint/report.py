"""Writing findings for people (text) and programs (JSON); the formats live in domlint.formats."""

from __future__ import annotations

from .formats.json import write_json
from .formats.text import write_text

__all__ = ["write_json", "write_text"]
