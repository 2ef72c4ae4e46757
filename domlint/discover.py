"""Which files a run checks: the paths named, and the domain XML found below named directories.

A directory yields only its domain definitions: other XML (a libvirt `<network>` or
storage `<pool>`, a `pom.xml`) is skipped and counted, as is what git ignores and what
the exclude globs name (by default version-control, virtualenv, dependency, build and
cache folders). A file reached twice (`/etc/libvirt/qemu/autostart/` links to its
domains) is checked once, under the name that is not a link. A file named on the command
line is checked whatever it is, so a non-domain file named there is still an error,
unless the caller asks (as the pre-commit hook does, which names every *.xml of a commit)
to apply the excludes and the domain test to named files too.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable

from lxml import etree

from .config import Config, glob_regex
from .errors import DomlintError, InputError
from .pathname import StrPath, clean, mode, parts, suffix
from .record import field, record

# Folders never searched unless `exclude` (option or configuration) replaces this list;
# `extend-exclude` adds to it. Names without a slash match a folder or file anywhere.
DEFAULT_EXCLUDE = (
    ".git", ".hg", ".svn", ".bzr", ".jj", "_darcs",
    ".venv", "venv", ".env", "env", ".direnv", ".tox", ".nox", "__pypackages__", "site-packages",
    "node_modules", "bower_components",
    "build", "_build", "dist", "target", ".eggs", "*.egg-info",
    "__pycache__", ".cache", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".terraform", ".vagrant",
)

# How much of a file is read to find its root element: ample for any prolog of comments.
SNIFF_BYTES = 64 * 1024


def root_name(path: StrPath) -> str | None:
    """The local name of the root element of an XML file, or None when it cannot be read that far."""
    parser = etree.XMLPullParser(events=("start",), resolve_entities=False, no_network=True, load_dtd=False,
                                 huge_tree=False)
    try:
        with open(path, "rb") as fh:
            # In small pieces: the root's start tag is usually in the first one, and the rest is never parsed.
            for _ in range(SNIFF_BYTES // 4096):
                chunk = fh.read(4096)
                if not chunk:
                    break
                parser.feed(chunk)
                for _event, el in parser.read_events():
                    return str(etree.QName(el).localname)
    except (OSError, etree.XMLSyntaxError, ValueError):
        return None
    return None


@record(frozen=True)
class Excludes:
    """Exclude globs, each with the directory a pattern holding a slash is relative to."""

    patterns: tuple[tuple[str, str], ...]

    def hit(self, path: str, top: str) -> bool:
        """Whether path (absolute) is excluded: a name glob matches a folder or file of it below top
        (the directory being searched), a glob with a slash matches it relative to the glob's base."""
        below = os.path.relpath(path, top)
        names = [] if below == ".." or below.startswith(".." + os.sep) else below.split(os.sep)
        for pattern, base in self.patterns:
            glob = pattern.rstrip("/")
            if "/" not in glob:
                if any(glob_regex(glob).fullmatch(n) for n in names):
                    return True
                continue
            rel = os.path.relpath(path, base or top)
            if rel == ".." or rel.startswith(".." + os.sep):
                continue
            rel = rel.replace(os.sep, "/")
            if glob_regex(glob).fullmatch(rel) or glob_regex(glob + "/**").fullmatch(rel):
                return True
        return False


@record
class Selection:
    """What discovery settled: checked inputs in order, and what it left out."""

    # A file as a string, spelled as pathlib spells it; an input that cannot be checked as its error.
    inputs: list[str | DomlintError] = field(default_factory=list)
    # Files whose root is not <domain>, each with its root's name.
    others: list[tuple[str, str]] = field(default_factory=list)
    excluded: int = 0
    duplicates: int = 0


@record
class Discovery:
    """The settings of discovery: option values, and the configuration governing a path."""

    exclude: list[str] | None = None
    extend_exclude: list[str] = field(default_factory=list)
    respect_gitignore: bool = True
    force_exclude: bool = False
    skip_non_domain: bool = False
    config_for: Callable[[StrPath], Config | None] = lambda _p: None
    _cache: dict[str, Excludes] = field(default_factory=dict, repr=False)

    def excludes_for(self, path: StrPath) -> Excludes:
        """The exclude globs that apply at path: options replace or extend its configuration's."""
        try:
            cfg = self.config_for(path)
        except DomlintError:
            # A broken configuration is reported when its files are checked; the search goes on without it.
            cfg = None
        key = str(cfg.path) if cfg else ""
        if key not in self._cache:
            cwd = os.getcwd()
            pats: list[tuple[str, str]]
            if self.exclude is not None:
                pats = [(p, cwd) for p in self.exclude]
            elif cfg and "exclude" in cfg.values:
                pats = [(p, str(cfg.base)) for p in cfg.values["exclude"]]
            else:
                pats = [(p, "") for p in DEFAULT_EXCLUDE]
            if cfg:
                pats += [(p, str(cfg.base)) for p in cfg.values.get("extend-exclude", [])]
            pats += [(p, cwd) for p in self.extend_exclude]
            self._cache[key] = Excludes(tuple(pats))
        return self._cache[key]

    def excluded(self, path: str, top: str) -> bool:
        """Whether path (absolute) below top is excluded by the globs that apply to it."""
        return self.excludes_for(path).hit(path, top)

    def select(self, paths: Iterable[str]) -> Selection:
        """Expand the named paths into the files to check."""
        sel = Selection()
        seen: dict[str, int] = {}
        for name in paths:
            p = clean(name)
            try:
                kind = mode(p)
            except OSError as exc:
                sel.inputs.append(_unreadable(p, exc))
                continue
            if kind is not None and stat.S_ISDIR(kind):
                before = (len(sel.inputs), len(sel.others), sel.excluded)
                found = self._walk(p, sel)
                if not found and before == (len(sel.inputs), len(sel.others), sel.excluded):
                    sel.inputs.append(DomlintError(p, None, "directory holds no *.xml file"))
                for f in found:
                    self._add(sel, seen, f)
            elif kind is not None:
                absolute = os.path.abspath(p)
                if self.force_exclude and self.excluded(absolute, os.getcwd()):
                    sel.excluded += 1
                    continue
                if self.skip_non_domain and not self._is_domain(p, sel):
                    continue
                self._add(sel, seen, p)
            else:
                sel.inputs.append(InputError(p, None, "no such file or directory"))
        return sel

    def _add(self, sel: Selection, seen: dict[str, int], path: str) -> None:
        """Add path unless the file it is was added already; prefer the name that is not a link."""
        real = os.path.realpath(path)
        if real in seen:
            sel.duplicates += 1
            at = seen[real]
            first = sel.inputs[at]
            if isinstance(first, str) and os.path.islink(first) and not os.path.islink(path):
                sel.inputs[at] = path
            return
        seen[real] = len(sel.inputs)
        sel.inputs.append(path)

    def _is_domain(self, path: str, sel: Selection) -> bool:
        """Whether path's root is <domain> (or unreadable, so that checking it says why); counts the others."""
        name = root_name(path)
        if name is None or name == "domain":
            return True
        sel.others.append((path, name))
        return False

    def _walk(self, top: str, sel: Selection) -> list[str]:
        """The domain XML files below top, sorted, less the excluded, ignored and other XML."""
        listed = _git_files(top) if self.respect_gitignore else None
        root = os.path.abspath(top)
        candidates: list[str] = []
        if listed is not None:
            for rel in listed:
                f = clean(os.path.join(top, rel))
                if suffix(f) == ".xml" and _is_file(f, sel):
                    if self.excluded(os.path.abspath(f), root):
                        sel.excluded += 1
                    else:
                        candidates.append(f)
        else:
            visited: set[str] = set()
            for here, dirs, files in os.walk(top, followlinks=True):
                real = os.path.realpath(here)
                if real in visited:
                    dirs[:] = []
                    continue
                visited.add(real)
                keep = []
                for d in sorted(dirs):
                    if self.excluded(os.path.abspath(os.path.join(here, d)), root):
                        sel.excluded += 1
                    else:
                        keep.append(d)
                dirs[:] = keep
                for name in files:
                    f = clean(os.path.join(here, name))
                    if name.endswith(".xml") and _is_file(f, sel):
                        if self.excluded(os.path.abspath(f), root):
                            sel.excluded += 1
                        else:
                            candidates.append(f)
        return [f for f in sorted(candidates, key=parts) if self._is_domain(f, sel)]


def _unreadable(path: str, exc: OSError) -> InputError:
    return InputError(path, None, f"cannot read: {exc.strerror or exc}")


def _is_file(path: str, sel: Selection) -> bool:
    """Whether path is a regular file; one that cannot even be looked at is an input error, never skipped."""
    try:
        kind = mode(path)
    except OSError as exc:
        sel.inputs.append(_unreadable(path, exc))
        return False
    return kind is not None and stat.S_ISREG(kind)


def _git_files(top: str) -> list[str] | None:
    """The files below top that git does not ignore (tracked or not), or None outside a git work tree."""
    # Imported here: subprocess brings threading, signal and selectors, which a check of named files never needs.
    import subprocess

    try:
        proc = subprocess.run(["git", "-C", top, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                              capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    return sorted({p for p in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if p})
