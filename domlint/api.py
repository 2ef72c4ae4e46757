"""The Python API: check a domain under a capability set and a host."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from importlib import import_module
from pathlib import Path

from . import attach
from . import caps as capsmod
from .cmdline import Command, RunOptions
from .domain import domain_arch, foreign_hypervisor, guest_arch, normalise
from .engine import Engine, load_engine
from .errors import InputError, Refused, UsageError
from .findings import Finding
from .host import Host, default_host
from .parse import Document, parse_bytes, parse_file
from .start import Start
from .target import Target, resolve

Source = str | bytes | Path | Document


@lru_cache(maxsize=8)
def _engine(extra: tuple[str, ...], target: str) -> Engine:
    return load_engine(list(extra), target=target)


def resolve_caps(caps: Iterable[str] | None, target: Target | str | None = None,
                 arch: str | None = None, host: Host | None = None) -> capsmod.Caps:
    """A Caps from None (the host's capability file for arch, else the target's newest profile for arch),
    a Caps, or any iterable of flag names."""
    t = resolve(target)
    if caps is None:
        return capsmod.of_host(host, t, arch) or capsmod.newest_profile(t, arch)
    if isinstance(caps, capsmod.Caps):
        return caps
    if isinstance(caps, str):
        return capsmod.from_list(caps, t)
    return capsmod.Caps(frozenset(caps) | t.retired, "api")


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
              engine: Engine | None, libvirt: Target | str | None,
              build: bool = False, start: Start | None = None) -> tuple[Document, list[Finding], capsmod.Caps, Host]:
    doc = load_document(source, path)
    t = engine.target if engine is not None else resolve(libvirt)
    eng = engine or _engine(tuple(str(r) for r in rules), t.name)
    host = host or default_host()
    note = foreign_hypervisor(doc, t)
    if note is not None:
        if build:
            raise InputError(doc.path, doc.root.sourceline, f"no command line: {note}")
        return doc, [], resolve_caps(caps, t), host
    caps = resolve_caps(caps, t, guest_arch(doc, host), host)
    normalise(doc, host, t, caps)
    findings = eng.evaluate(doc, caps, set(select) or None, set(ignore) or None, host=host, start=start)
    return doc, findings, caps, host


def check(source: Source, caps: Iterable[str] | None = None, host: Host | None = None,
          rules: Iterable[str | Path] = (), select: Iterable[str] = (),
          ignore: Iterable[str] = (), path: str | None = None,
          engine: Engine | None = None, libvirt: Target | str | None = None,
          incoming: str | None = None, incoming_fd: int | None = None) -> list[Finding]:
    """Check one domain for a libvirt target (default the newest); return its findings (InputError if unreadable).

    incoming (and incoming_fd) judge a start from that incoming migration, as `emit` with the same RunOptions."""
    start = Start(incoming, incoming_fd) if incoming is not None else None
    return _prepared(source, caps, host, rules, select, ignore, path, engine, libvirt, start=start)[1]


def emit(source: Source, caps: Iterable[str] | None = None, host: Host | None = None,
         options: RunOptions | None = None, rules: Iterable[str | Path] = (),
         path: str | None = None, engine: Engine | None = None, libvirt: Target | str | None = None) -> Command:
    """The QEMU command line for one domain; Refused (with the findings) when the rules find errors."""
    # The rules judge the same start the command line is for (an incoming migration, its descriptor).
    start = None
    if options is not None and options.migrate_from is not None:
        start = Start(options.migrate_from, options.migrate_fd if options.migrate_fd >= 0 else None)
    doc, findings, caps_, host_ = _prepared(source, caps, host, rules, (), (), path, engine, libvirt, build=True,
                                            start=start)
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        raise Refused(errors)
    emitter = emitter_module(engine, libvirt)
    if emitter is None:
        raise UsageError(f"the command line of {resolve(libvirt).label} is not built yet")
    return import_module(f"domlint.{emitter}").build_command(doc, caps_, host_, options)


def attach_check(domain: Source, device: Source, caps: Iterable[str] | None = None, host: Host | None = None,
                 rules: Iterable[str | Path] = (), select: Iterable[str] = (), ignore: Iterable[str] = (),
                 domain_path: str | None = None, device_path: str | None = None,
                 engine: Engine | None = None, libvirt: Target | str | None = None) -> list[Finding]:
    """Check adding device to domain as `virsh attach-device --config` would; nothing is written."""
    dom = load_document(domain, domain_path)
    dev = attach.device_document(load_document(device, device_path, roots=None))
    t = engine.target if engine is not None else resolve(libvirt)
    eng = engine or _engine(tuple(str(r) for r in rules), t.name)
    host = host or default_host()
    if attach.not_judged(dom, t) is not None:
        return []
    merged = attach.merge(dom, dev, host, t)
    return attach.check_merge(merged, eng, resolve_caps(caps, t, domain_arch(merged.after), host), host,
                              set(select) or None, set(ignore) or None)


def emitter_module(engine: Engine | None, libvirt: Target | str | None) -> str | None:
    """The package (under domlint) that builds this target's command line, or None when none does yet."""
    t = engine.target if engine is not None else resolve(libvirt)
    name = t.raw.get("emitter")
    return name if isinstance(name, str) and name else None


def builds_argv(engine: Engine | None, libvirt: Target | str | None) -> bool:
    """Whether domlint builds the command line of this target."""
    return emitter_module(engine, libvirt) is not None

