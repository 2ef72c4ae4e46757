"""The QEMU command-line emitter of libvirt 9.0: a valid, normalised domain in, argv out.

It shares the 1.2.8 emitter's context, command and quoting (`domlint.cmdline`);
what 9.0 builds differently lives in this package's family modules, and the
order of the arguments in `order.py`.
"""

from __future__ import annotations

from ..caps import Caps
from ..cmdline.command import Command
from ..cmdline.context import Ctx, RunOptions
from ..host import Host
from ..parse import Document
from . import order, prepare
from .hostfacts import DRIVER_DEFAULTS

__all__ = ["DRIVER_DEFAULTS", "Command", "RunOptions", "build_command", "make_ctx"]

_QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0"


def domain_caps(doc: Document, caps: Caps) -> Caps:
    """The capabilities after the domain's <qemu:capabilities> adds and deletes (qemuProcessPrepareQEMUCaps)."""
    block = doc.root.find(f"{{{_QEMU_NS}}}capabilities")
    if block is None:
        return caps
    add = {e.get("capability") for e in block.findall(f"{{{_QEMU_NS}}}add") if e.get("capability")}
    delete = {e.get("capability") for e in block.findall(f"{{{_QEMU_NS}}}del") if e.get("capability")}
    return caps.like(frozenset((set(caps) | add) - delete))


def make_ctx(doc: Document, caps: Caps, host: Host, opts: RunOptions | None = None) -> Ctx:
    """The emitter's view of a normalised domain, before addresses and aliases are assigned."""
    caps = domain_caps(doc, caps)
    ctx = Ctx(root=doc.root, caps=caps, host=host, opts=opts or RunOptions(),
              driver={**DRIVER_DEFAULTS, **(host.raw.get("driver") or {})}, path=doc.path, implied=set(doc.implied))
    # The XML as written: which controllers had no index shows only there (address.py).
    ctx.state["source_xml"] = doc.data
    return ctx


def build_command(doc: Document, caps: Caps, host: Host, opts: RunOptions | None = None) -> Command:
    """Build libvirt 9.0's command line for a normalised domain (addresses and aliases are assigned here)."""
    ctx = make_ctx(doc, caps, host, opts)
    prepare.prepare(ctx)
    return order.build(ctx)
