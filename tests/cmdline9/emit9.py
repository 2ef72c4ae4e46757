"""Helpers for libvirt 9.0 emitter tests: emit a small domain on the 9.0 conformance test host."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from conftest import CONFORMANCE_9, REPO

import domlint
from domlint import host as hostmod
from domlint.api import load_document
from domlint.caps import Caps
from domlint.cmdline import RunOptions
from domlint.cmdline.context import Ctx
from domlint.cmdline9 import make_ctx
from domlint.domain import normalise
from domlint.host import Host
from domlint.target import resolve

sys.path.insert(0, str(REPO / "tests" / "conformance"))
from run import anchor_host

HOST = anchor_host(hostmod.load(REPO / "tests" / "hosts" / "conformance-9.0.yaml"), CONFORMANCE_9)
TARGET = resolve("9.0")

SKELETON = """<domain type='{vtype}'>
  <name>guest</name>
  <uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>
  <memory unit='KiB'>219136</memory>
  <vcpu>1</vcpu>
  <os><type arch='{arch}' machine='{machine}'>hvm</type>{os}</os>
  {top}
  <devices><emulator>{emulator}</emulator>{devices}</devices>
</domain>"""


def domain(devices: str = "", top: str = "", os: str = "<boot dev='hd'/>", arch: str = "x86_64",
           machine: str = "pc", vtype: str = "qemu", emulator: str = "/usr/bin/qemu-system-x86_64") -> str:
    """A small domain XML around some devices and top-level elements."""
    return SKELETON.format(devices=devices, top=top, os=os, arch=arch, machine=machine, vtype=vtype,
                           emulator=emulator)


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


def after(words: list[str], flag: str) -> list[str]:
    """Every value that follows an occurrence of flag."""
    return [words[i + 1] for i, w in enumerate(words[:-1]) if w == flag]
