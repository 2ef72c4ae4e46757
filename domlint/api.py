"""The Python API: check a domain under a capability set and a host."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from . import attach
from . import caps as capsmod
from .cmdline import Command, RunOptions, build_command
from .domain import normalise
from .engine import Engine, load_engine
from .errors import Refused
from .findings import Finding
from .host import Host, default_host
from .parse import Document, parse_bytes, parse_file

Source = str | bytes | Path | Document


@lru_cache(maxsize=8)
def _engine(extra: tuple[str, ...]) -> Engine:
    return load_engine(list(extra))


def resolve_caps(caps: Iterable[str] | None) -> capsmod.Caps:
    """A Caps from None (all present), a Caps, or any iterable of flag names."""
    if caps is None:
        return capsmod.all_caps()
    if isinstance(caps, capsmod.Caps):
        return caps
    if isinstance(caps, str):
        return capsmod.from_list(caps)
    return capsmod.Caps(frozenset(caps), "api")


def load_document(source: Source, path: str | None = None,
                  roots: tuple[str, ...] | None = ("domain",)) -> Document:
    """Parse a source given as a Document, XML bytes or text, or a file path."""
    if isinstance(source, Document):
        return source
    if isinstance(source, bytes):
        return parse_bytes(source, path or "<bytes>", roots)
    if isinstance(source, str) and source.lstrip().startswith("<"):
        return parse_bytes(source.encode(), path or "<string>", roots)
    return parse_file(source, roots)


def _prepared(source: Source, caps: Iterable[str] | None, host: Host | None, rules: Iterable[str | Path],
              select: Iterable[str], ignore: Iterable[str], path: str | None,
              engine: Engine | None) -> tuple[Document, list[Finding], capsmod.Caps, Host]:
    doc = load_document(source, path)
    eng = engine or _engine(tuple(str(r) for r in rules))
    host = host or default_host()
    caps = resolve_caps(caps)
    normalise(doc, host)
    findings = eng.evaluate(doc, caps, set(select) or None, set(ignore) or None, host=host)
    return doc, findings, caps, host


def check(source: Source, caps: Iterable[str] | None = None, host: Host | None = None,
          rules: Iterable[str | Path] = (), select: Iterable[str] = (),
          ignore: Iterable[str] = (), path: str | None = None,
          engine: Engine | None = None) -> list[Finding]:
    """Check one domain; return its findings (InputError if it cannot be read)."""
    return _prepared(source, caps, host, rules, select, ignore, path, engine)[1]


def emit(source: Source, caps: Iterable[str] | None = None, host: Host | None = None,
         options: RunOptions | None = None, rules: Iterable[str | Path] = (),
         path: str | None = None, engine: Engine | None = None) -> Command:
    """The QEMU command line for one domain; Refused (with the findings) when the rules find errors."""
    doc, findings, caps_, host_ = _prepared(source, caps, host, rules, (), (), path, engine)
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        raise Refused(errors)
    return build_command(doc, caps_, host_, options)


def attach_check(domain: Source, device: Source, caps: Iterable[str] | None = None, host: Host | None = None,
                 rules: Iterable[str | Path] = (), select: Iterable[str] = (), ignore: Iterable[str] = (),
                 domain_path: str | None = None, device_path: str | None = None,
                 engine: Engine | None = None) -> list[Finding]:
    """Check adding device to domain as `virsh attach-device --config` would; nothing is written."""
    dom = load_document(domain, domain_path)
    dev = attach.device_document(load_document(device, device_path, roots=None))
    eng = engine or _engine(tuple(str(r) for r in rules))
    host = host or default_host()
    merged = attach.merge(dom, dev, host)
    return attach.check_merge(merged, eng, resolve_caps(caps), host, set(select) or None, set(ignore) or None)

