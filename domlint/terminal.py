"""Terminal manners: colour only for a terminal that wants it."""

from __future__ import annotations

import os
from typing import TextIO


def use_color(stream: TextIO, mode: str = "auto") -> bool:
    """Whether to colour output to stream: `always`, `never`, or `auto` (a terminal, no NO_COLOR)."""
    if mode == "always":
        return True
    if mode == "never":
        return False
    # https://no-color.org: any non-empty NO_COLOR turns colour off.
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
