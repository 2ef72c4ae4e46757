"""Targets: the libvirt release a verdict is for, and where its data lives.

Each target is a folder under data/targets/ holding what differs between
libvirt releases: its capability names (and those it retired), its built-in
QEMU profiles, limits that changed, the normalisation steps it runs, and
its table of error sites left to no rule. Code asks the target for these
facts; no module tests a version number itself. A rule says which releases
it holds for (`libvirt: {since, before}`), and the engine built for a target
keeps only the rules whose range holds it.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from .errors import UsageError
from .pathname import read_bytes
from .record import field, record

_ROOT = os.path.join(os.path.dirname(os.path.realpath(__file__)), "data", "targets")


def version_key(text: str) -> tuple[int, ...]:
    """'9.0' and '9.0.0' as comparable tuples (trailing zeros dropped)."""
    parts = [int(p) for p in str(text).strip().split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


@record(frozen=True)
class Target:
    """One libvirt release: its data folder, read once."""

    name: str
    release: str
    folder: str
    caps_names: tuple[str, ...]
    retired: frozenset[str]
    limits: dict[str, int] = field(default_factory=dict, compare=False)
    normalise: tuple[str, ...] = ()
    hypervisors: tuple[str, ...] = ("qemu", "kvm")
    default_caps: str = "profile"
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def key(self) -> tuple[int, ...]:
        """The release as a comparable tuple."""
        return version_key(self.release)

    @property
    def label(self) -> str:
        """How reports name the target: 'libvirt 9.0.0'."""
        return f"libvirt {self.release}"

    def file(self, name: str) -> str:
        """A data file of this target."""
        return os.path.join(self.folder, name)

    def in_range(self, spec: dict[str, str] | None) -> bool:
        """Whether a rule's `libvirt: {since, before}` range holds this release."""
        if not spec:
            return True
        since, before = spec.get("since"), spec.get("before")
        return ((since is None or self.key >= version_key(since))
                and (before is None or self.key < version_key(before)))


def _read_names(path: str) -> tuple[tuple[str, ...], frozenset[str]]:
    names, retired = [], set()
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    for line in text.splitlines():
        cols = line.split("\t")
        name = cols[0].strip()
        if not name:
            continue
        names.append(name)
        if len(cols) > 1 and cols[1].strip() == "retired":
            retired.add(name)
    return tuple(names), frozenset(retired)


@cache
def load(name: str) -> Target:
    """The target named name ('9.0', '9.0.0', '1.2.8'); UsageError for one domlint does not know."""
    # A target named by its folder reads only its own data (a check names one target: the others' is not needed).
    if name and "/" not in name and name not in (".", "..") and os.path.isfile(os.path.join(_ROOT, name, "target.json")):
        return _read_target(os.path.join(_ROOT, name))
    wanted = version_key(name) if name and name[0].isdigit() else None
    for t in targets():
        if t.name == name or (wanted is not None and t.key == wanted):
            return t
    raise UsageError(f"unknown libvirt target {name!r}; known: {', '.join(t.name for t in targets())}")


@cache
def targets() -> tuple[Target, ...]:
    """Every target domlint ships, oldest first."""
    folders = sorted(os.path.join(_ROOT, n) for n in os.listdir(_ROOT) if os.path.isfile(os.path.join(_ROOT, n, "target.json")))
    return tuple(sorted((_read_target(folder) for folder in folders), key=lambda t: t.key))


@cache
def _read_target(folder: str) -> Target:
    from . import cache

    spec = os.path.join(folder, "target.json")

    def read() -> Any:
        import json

        return json.loads(read_bytes(spec))

    # Kept as marshal data: a run then needs no JSON parser.
    raw = cache.load("target", [spec], read)
    names, retired = _read_names(os.path.join(folder, "caps-names.txt"))
    return Target(name=os.path.basename(folder), release=str(raw["release"]), folder=folder, caps_names=names,
                  retired=retired, limits={k: int(v) for k, v in raw.get("limits", {}).items()},
                  normalise=tuple(raw.get("normalise", ())), hypervisors=tuple(raw["hypervisors"]),
                  default_caps=str(raw.get("default_caps", "profile")), raw=raw)


def newest() -> Target:
    """The default target: the newest libvirt domlint knows."""
    return targets()[-1]


def default() -> Target:
    """The target when none is named: DOMLINT_LIBVIRT from the environment, else the newest."""
    named = os.environ.get("DOMLINT_LIBVIRT")
    return load(named) if named else newest()


def resolve(target: Target | str | None) -> Target:
    """A Target from a Target, a name, or None (the default)."""
    if isinstance(target, Target):
        return target
    return load(target) if target else default()


def names() -> list[str]:
    """The target names, oldest first, for --help and errors."""
    return [t.name for t in targets()]
