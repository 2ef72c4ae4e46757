"""Machine types: which chipset a machine type name stands for."""

from __future__ import annotations

from .values import LazyPattern

# Lazy, as each of domlint's patterns: compiled after the rule pack has put its stored program in re's cache.
_I440FX = LazyPattern(r"^(pc|pc-0\..*|pc-1\..*|pc-i440.*|rhel.*)$")


def is_i440fx(machine: str) -> bool:
    """True for machine types built on the i440FX chipset."""
    return bool(_I440FX.match(machine))


def is_q35(machine: str) -> bool:
    """True for q35 machine types."""
    return machine == "q35" or machine.startswith("pc-q35")
