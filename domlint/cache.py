"""Results of slow, checked loading (YAML read and schema-validated, rules compiled) kept on disk.

A linter in a pre-commit hook starts once per commit: reading YAML and
importing jsonschema would cost it more than checking the files does. Each
entry is keyed on what it was built from: the source files' identity, size and
change time, the schemas and the code that judges them, so any edit rebuilds
it, like Python's own bytecode cache. Entries are marshal data (plain dicts,
lists, strings and numbers), never pickles: loading one runs no code.
"""

from __future__ import annotations

import _thread
import marshal
import os
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, BinaryIO

from .pathname import read_bytes

if TYPE_CHECKING:
    from .pathname import StrPath

# Bump when the meaning of a cached entry changes.
FORMAT = "12"
_HERE = os.path.dirname(__file__)
# The code and data whose change invalidates every entry: what decides validity.
_JUDGES = ("engine.py", "predicates.py", "selectors.py", "numbers.py", "rulepack.py", "yamlcheck.py", "host.py",
           "caps.py", "cache.py", "target.py", "vocabulary.py", "examples.py", "regex_programs.py",
           "schema/rule.schema.json", "schema/vocabulary.schema.json", "schema/host.schema.json",
           "schema/config.schema.json")


class Packed(Mapping[str, Any]):
    """Entries kept as marshal bytes until first read: a run unpacks only the ones it uses."""

    def __init__(self, packed: Mapping[str, bytes]) -> None:
        self._packed = packed
        self._read: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        try:
            return self._read[name]
        except KeyError:
            found = self._read[name] = marshal.loads(self._packed[name])
            return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._packed)

    def __len__(self) -> int:
        return len(self._packed)


class Keyed(Mapping[str, bytes]):
    """Byte strings by key, over a list of them (a split entry's list, read one at a time) and the keys in order."""

    def __init__(self, keys: list[str], blobs: Sequence[bytes | None]) -> None:
        self._at = {k: i for i, k in enumerate(keys)}
        self._blobs = blobs

    def __getitem__(self, name: str) -> bytes:
        found = self._blobs[self._at[name]]
        if found is None:
            raise KeyError(name)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._at)

    def __len__(self) -> int:
        return len(self._at)


class _Opened:
    """A split entry's file, held open while its lists are alive: a later write replaces the file, never changes
    the one this run reads."""

    def __init__(self, file: BinaryIO, base: int) -> None:
        self.file, self.base = file, base

    def read(self, start: int, end: int) -> bytes:
        """The bytes of the tail from start to end."""
        at = self.base + start
        if _PREAD is not None:
            data = _PREAD(self.file.fileno(), end - start, at)
        else:  # no pread (Windows): one reader at a time
            with _SEEKING:
                self.file.seek(at)
                data = self.file.read(end - start)
        if len(data) != end - start:
            raise OSError(f"{self.file.name}: cache entry cut short")
        return data

    def __del__(self) -> None:
        self.file.close()  # closed with the last list that reads it (unclosed, Python would warn)


# pread reads at an offset without moving the file's position: threads may share the file.
_PREAD = getattr(os, "pread", None)
_SEEKING = _thread.allocate_lock()  # (threading's import costs a check of one file 1 ms)


class Blobs(Sequence[bytes | None]):
    """One list of a split entry: each byte string is read from the file when first asked for."""

    def __init__(self, opened: _Opened, spans: memoryview) -> None:
        self._opened = opened
        self._spans = spans  # start and end of each string in the tail; start -1 for None

    def __len__(self) -> int:
        return len(self._spans) // 2

    def __getitem__(self, i: int) -> bytes | None:  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]  # type: ignore[return-value]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        start = self._spans[2 * i]
        return None if start < 0 else self._opened.read(start, self._spans[2 * i + 1])


def cache_dir() -> str | None:
    """Where checked results are kept, or None when caching is off (DOMLINT_CACHE_DIR='')."""
    env = os.environ.get("DOMLINT_CACHE_DIR")
    if env == "":
        return None
    if env:
        return env
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "domlint")


def _judge_paths() -> list[str]:
    # Where the judges are is fixed for a process (their stat is read for every key).
    if not _JUDGE_PATHS:
        from .data import data_file, schema_file

        for name in _JUDGES:
            if name.startswith("schema/"):
                _JUDGE_PATHS.append(schema_file(name.removeprefix("schema/")))
            elif name.startswith("data/"):
                _JUDGE_PATHS.append(data_file(name.removeprefix("data/")))
            else:
                _JUDGE_PATHS.append(os.path.join(_HERE, name))
    return _JUDGE_PATHS


_JUDGE_PATHS: list[str] = []


# A file changed this recently may change again within the same clock tick,
# keeping its size and time: what was built from it is not kept (git's "racy"
# files get the same care).
SETTLED_NS = 2_000_000_000


def key(kind: str, sources: Iterable[StrPath]) -> str:
    """The key of an entry built from sources (OSError when one cannot be read)."""
    return _stat_key(kind, sources)[0]


def _stat_key(kind: str, sources: Iterable[StrPath]) -> tuple[str, int]:
    """The key, and the newest change time among the sources."""
    global _JUDGED
    if _JUDGED is None:
        # The code judging the entries is what this process runs: read once, for every key of the run.
        _JUDGED = _stat_parts(_judge_paths())
    judged, newest = _JUDGED
    parts, newest_source = _stat_parts(sources)
    return "\n".join([FORMAT, kind, *judged, *parts]), max(newest, newest_source)


def _stat_parts(paths: Iterable[StrPath]) -> tuple[list[str], int]:
    parts = []
    newest = 0
    for p in paths:
        st = os.stat(p)
        newest = max(newest, st.st_mtime_ns)
        # The file's identity is its device and inode (stat follows links): no realpath, which costs an lstat
        # per path component. A file reached by two paths only gets two entries.
        parts.append(f"{p}\0{st.st_dev}\0{st.st_ino}\0{st.st_size}\0{st.st_mtime_ns}")
    return parts, newest


_JUDGED: tuple[list[str], int] | None = None


def _file(kind: str, entry_key: str) -> str:
    # A short name from two checksums; the entry holds its whole key, so a
    # clash only costs a rebuild. (zlib, not hashlib: it imports in a tenth of the time.)
    data = entry_key.encode()
    return f"{kind}-{zlib.crc32(data):08x}{zlib.adler32(data):08x}.bin"


def read(kind: str, entry_key: str) -> Any:
    """The entry stored under key, or None."""
    cdir = cache_dir()
    if cdir is None:
        return None
    try:
        stored_key, value = marshal.loads(read_bytes(os.path.join(cdir, _file(kind, entry_key))))
    except (OSError, EOFError, ValueError, TypeError):
        return None
    return value if stored_key == entry_key else None


def write(kind: str, entry_key: str, value: Any) -> None:
    """Store value under key (best effort: a read-only cache only costs speed)."""
    _store(kind, entry_key, lambda: [marshal.dumps((entry_key, value))])


def _store(kind: str, entry_key: str, content: Callable[[], list[bytes | bytearray]]) -> None:
    """Write an entry's bytes beside it and rename it into place: a reader never sees half a file."""
    cdir = cache_dir()
    if cdir is None:
        return
    try:
        chunks = content()  # before any file is made: a value marshal refuses leaves nothing behind
        os.makedirs(cdir, exist_ok=True)
        name = _file(kind, entry_key)
        tmp = os.path.join(cdir, f".{name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            fh.writelines(chunks)
        os.replace(tmp, os.path.join(cdir, name))
    except (OSError, ValueError):
        pass


# A split entry: this mark, the header's length, the header (marshal of the key, the value, the tail's length
# and each list's spans), then every byte string of the lists end to end. A run reads the header and then only
# the strings it uses: a rule pack is a megabyte, of which a check of one file reads a few dozen rules.
_SPLIT = b"dlsplit1"


def write_split(kind: str, entry_key: str, value: Any, lists: list[list[bytes | None]]) -> None:
    """Store value and lists under key as a split entry (best effort, as write)."""
    cdir = cache_dir()
    if cdir is None:
        return
    from array import array

    tail = bytearray()
    tables = []
    for items in lists:
        spans = array("q")
        for blob in items:
            if blob is None:
                spans.extend((-1, -1))
            else:
                spans.extend((len(tail), len(tail) + len(blob)))
                tail += blob
        tables.append(spans.tobytes())
    head = marshal.dumps((entry_key, value, len(tail), tables))
    _store(kind, entry_key, lambda: [_SPLIT, len(head).to_bytes(8, "little"), head, tail])


def read_split(kind: str, entry_key: str) -> tuple[Any, list[Blobs]] | None:
    """The value and lists of the split entry stored under key, or None."""
    cdir = cache_dir()
    if cdir is None:
        return None
    try:
        file = open(os.path.join(cdir, _file(kind, entry_key)), "rb", buffering=0)  # noqa: SIM115 - kept open by the lists
    except OSError:
        return None
    try:
        first = file.read(16)
        if first[:8] != _SPLIT:
            raise ValueError("not a split entry")
        size = int.from_bytes(first[8:16], "little")
        stored_key, value, tail, tables = marshal.loads(file.read(size))
        # A file cut short or grown would hand out wrong strings: only one of the exact size is read.
        if stored_key != entry_key or os.fstat(file.fileno()).st_size != 16 + size + tail:
            raise ValueError("another entry")
        opened = _Opened(file, 16 + size)
    except (OSError, EOFError, ValueError, TypeError):
        file.close()
        return None
    return value, [Blobs(opened, memoryview(t).cast("q")) for t in tables]


def load_split(kind: str, sources: list[StrPath],
               build: Callable[[], tuple[Any, list[list[bytes | None]]]]) -> tuple[Any, Sequence[Sequence[bytes | None]]]:
    """As load, for a value with lists of byte strings kept apart in the file and read one at a time."""
    try:
        entry_key, newest = _stat_key(kind, sources)
    except OSError:
        return build()
    found = read_split(kind, entry_key)
    if found is not None:
        return found
    value, lists = build()
    if time.time_ns() - newest >= SETTLED_NS:
        write_split(kind, entry_key, value, lists)
    return value, lists


def load(kind: str, sources: list[StrPath], build: Callable[[], Any]) -> Any:
    """The cached result of build() for these sources, building and storing it on a miss.

    build raises on bad input; nothing is stored then, so the error repeats on
    every run until the file is fixed.
    """
    try:
        entry_key, newest = _stat_key(kind, sources)
    except OSError:
        return build()  # a source cannot be read: build says which, with its own message
    value = read(kind, entry_key)
    if value is None:
        value = build()
        if time.time_ns() - newest >= SETTLED_NS:
            write(kind, entry_key, value)
    return value
