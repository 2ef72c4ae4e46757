"""QEMU capability sets: built-in profiles, name lists and libvirt cache files."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from . import cache as diskcache
from .data import caps_names, data_file
from .errors import InputError, UsageError


class Caps(frozenset[str]):
    """A set of libvirt capability flag names, with where it came from."""

    source: str

    def __new__(cls, flags: frozenset[str] | set[str] | list[str] | tuple[str, ...],
                source: str = "") -> Caps:
        obj = super().__new__(cls, flags)
        obj.source = source
        return obj

    def with_flags(self, *extra: str) -> Caps:
        """A copy with extra flags added."""
        return Caps(self | set(extra), self.source)


def all_caps() -> Caps:
    """Every capability present: only checks that hold for any QEMU fire."""
    return Caps(caps_names(), "all capabilities (no source given)")


@cache
def profiles() -> dict[str, tuple[str, ...]]:
    """Built-in profiles: name to capability flags."""
    path = data_file("qemu-profiles.yaml")

    def build() -> dict[str, list[str]]:
        import yaml  # imported only on a cache miss

        return {name: list(body["flags"]) for name, body in yaml.safe_load(path.read_text()).items()}
    return {name: tuple(flags) for name, flags in diskcache.load("profiles", [path], build).items()}


def _checked(names: list[str], where: str) -> list[str]:
    known = set(caps_names())
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(f"{where}: unknown capability name(s): {', '.join(unknown)}")
    return names


def from_list(text: str) -> Caps:
    """Capabilities from a comma-separated list of flag names."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    return Caps(_checked(names, "--caps"), "--caps")


def from_profile(name: str) -> Caps:
    """Capabilities of a built-in profile (`qemu-1.6.0` or `1.6.0`)."""
    table = profiles()
    key = name if name in table else f"qemu-{name}"
    if key not in table:
        raise UsageError(f"unknown capability profile {name!r}; known: {', '.join(table)}")
    return Caps(table[key], f"profile {key}")


def from_file(path: str | Path) -> Caps:
    """Capabilities from any XML holding <flag name='...'/> elements (libvirt's cache)."""
    from .parse import parse_file

    doc = parse_file(path, roots=None)
    names = [str(el.get("name", "")) for el in doc.root.iter("flag")]
    if not names:
        raise InputError(str(path), None, "no <flag name=.../> elements found")
    known = set(caps_names())
    unknown = sorted({n for n in names if n not in known})
    if unknown:
        first = next(el for el in doc.root.iter("flag") if el.get("name") in unknown)
        raise InputError(str(path), first.sourceline,
                         f"unknown capability name(s): {', '.join(unknown)}")
    return Caps(names, str(path))
