"""Helpers for libvirt 9.0 emitter tests: emit a small domain on the 9.0 conformance test host."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

from conftest import CONFORMANCE_9, REPO

# The domain skeleton and `after` are the 1.2.8 emitter tests'; only the host, target and emitting differ.
from emit_helpers import after, domain

import domlint
from domlint import host as hostmod
from domlint.api import load_document
from domlint.caps import Caps
from domlint.cmdline import RunOptions
from domlint.cmdline.command import Command
from domlint.cmdline.context import Ctx
from domlint.cmdline9 import make_ctx, prepare
from domlint.domain import normalise
from domlint.host import Host
from domlint.target import resolve

sys.path.insert(0, str(REPO / "tests" / "conformance"))
from run import anchor_host

HOST = anchor_host(hostmod.load(REPO / "tests" / "hosts" / "conformance-9.0.yaml"), CONFORMANCE_9)
TARGET = resolve("9.0")

__all__ = ["HOST", "TARGET", "after", "ctx_for", "domain", "emit_words", "stage_command", "unprepared_stage"]


def emit_words(xml: str, caps: Iterable[str] | None = None, host: Host = HOST, **opts: Any) -> list[str]:
    """The 9.0 command line of a domain, rules first, as words; caps None: the newest built-in profile of its arch."""
    given = None if caps is None else set(caps)
    return domlint.emit(xml, caps=given, host=host, options=RunOptions(**opts), libvirt="9.0").words()


def ctx_for(xml: str, caps: Iterable[str] = (), host: Host = HOST, **state: Any) -> Ctx:
    """A normalised 9.0 domain's emitter context, before addresses and aliases are assigned."""
    doc = normalise(load_document(xml, "guest.xml"), host, TARGET, Caps(frozenset(caps), "test"))
    ctx = make_ctx(doc, Caps(frozenset(caps) | TARGET.retired, "test"), host)
    ctx.state.update(state)
    return ctx


def stage_command(stage: Callable[[Ctx, Command], None], xml: str, caps: Iterable[str] = (), host: Host = HOST,
                  **settings: object) -> Command:
    """What one emitter stage adds for a domain (settings: qemu.conf's), after addresses and aliases."""
    ctx = ctx_for(xml, caps, host)
    ctx.opts.driver.update(settings)
    prepare.prepare(ctx)
    cmd = Command()
    stage(ctx, cmd)
    return cmd


def unprepared_stage(stage: Callable[[Ctx, Command], None], xml: str, caps: Iterable[str] = (),
                     machines: Iterable[str] = (), **opts: Any) -> Command:
    """What one stage adds for a domain as it stands (no addresses or aliases); opts are RunOptions'."""
    ctx = ctx_for(xml, caps)
    if machines:
        ctx.caps = Caps(ctx.caps, "test", machines=tuple(machines))
    if opts:
        ctx.opts = RunOptions(**opts)
    cmd = Command(emulator="qemu")
    stage(ctx, cmd)
    return cmd
