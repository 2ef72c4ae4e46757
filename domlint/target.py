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

from functools import cache
from pathlib import Path
from typing import Any

from .errors import UsageError
from .record import field, record

_ROOT = Path(__file__).resolve().parent / "data" / "targets"


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
    folder: Path
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

    def file(self, name: str) -> Path:
        """A data file of this target."""
        return self.folder / name

    def in_range(self, spec: dict[str, str] | None) -> bool:
        """Whether a rule's `libvirt: {since, before}` range holds this release."""
        if not spec:
            return True
        since, before = spec.get("since"), spec.get("before")
        return ((since is None or self.key >= version_key(since))
                and (before is None or self.key < version_key(before)))


def _read_names(path: Path) -> tuple[tuple[str, ...], frozenset[str]]:
    names, retired = [], set()
    for line in path.read_text().splitlines():
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
    if name and "/" not in name and name not in (".", "..") and (_ROOT / name / "target.json").is_file():
        return _read_target(_ROOT / name)
    wanted = version_key(name) if name and name[0].isdigit() else None
    for t in targets():
        if t.name == name or (wanted is not None and t.key == wanted):
            return t
    raise UsageError(f"unknown libvirt target {name!r}; known: {', '.join(t.name for t in targets())}")


@cache
def targets() -> tuple[Target, ...]:
    """Every target domlint ships, oldest first."""
    folders = sorted(p for p in _ROOT.iterdir() if (p / "target.json").is_file())
    return tuple(sorted((_read_target(folder) for folder in folders), key=lambda t: t.key))


@cache
def _read_target(folder: Path) -> Target:
    from . import cache

    def read() -> Any:
        import json

        return json.loads((folder / "target.json").read_text())

    # Kept as marshal data: a run then needs no JSON parser.
    raw = cache.load("target", [folder / "target.json"], read)
    names, retired = _read_names(folder / "caps-names.txt")
    return Target(name=folder.name, release=str(raw["release"]), folder=folder, caps_names=names,
                  retired=retired, limits={k: int(v) for k, v in raw.get("limits", {}).items()},
                  normalise=tuple(raw.get("normalise", ())), hypervisors=tuple(raw["hypervisors"]),
                  default_caps=str(raw.get("default_caps", "profile")), raw=raw)


def newest() -> Target:
    """The default target: the newest libvirt domlint knows."""
    return targets()[-1]


def default() -> Target:
    """The target when none is named: DOMLINT_LIBVIRT from the environment, else the newest."""
    import os

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
