"""Helpers for emitter tests: build a small domain and emit it on the conformance test host."""

from __future__ import annotations

import sys

from conftest import CONFORMANCE, REPO

import domlint
from domlint import host as hostmod
from domlint.caps import Caps
from domlint.cmdline import RunOptions, build_command
from domlint.domain import normalise

sys.path.insert(0, str(REPO / "tests" / "conformance"))
from run import anchor_host

HOST = anchor_host(hostmod.load(REPO / "tests" / "hosts" / "conformance.yaml"), CONFORMANCE)

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


def emit_words(xml: str, caps: list[str] | tuple[str, ...] | set[str] = (), **opts: object) -> list[str]:
    """The emitted command line of a domain, as words (environment, emulator, arguments)."""
    options = RunOptions(**opts)  # type: ignore[arg-type]
    return domlint.emit(xml, caps=set(caps), host=HOST, options=options).words()


def emit_unchecked(xml: str, caps: list[str] | tuple[str, ...] | set[str] = (), **opts: object) -> list[str]:
    """Like emit_words, but without the rules: for the emitter's own guards against what rules also refuse."""
    doc = domlint.api.load_document(xml)
    normalise(doc, HOST)
    return build_command(doc, Caps(frozenset(caps), "test"), HOST, RunOptions(**opts)).words()  # type: ignore[arg-type]


def after(words: list[str], flag: str) -> list[str]:
    """Every value that follows an occurrence of flag."""
    return [words[i + 1] for i, w in enumerate(words[:-1]) if w == flag]
