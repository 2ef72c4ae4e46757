"""The QEMU command-line emitter: a valid, normalised domain in, argv out.

It never re-checks what the rules check; `domlint.api.emit` runs the rules
first and refuses a domain with errors.
"""

from __future__ import annotations

from ..caps import Caps
from ..host import Host
from ..parse import Document
from . import alias, order
from .assign import assign
from .command import Command
from .context import Ctx, RunOptions

__all__ = ["Command", "RunOptions", "build_command", "make_ctx"]


def make_ctx(doc: Document, caps: Caps, host: Host, opts: RunOptions | None = None) -> Ctx:
    """The emitter's view of a normalised domain, before addresses and aliases are assigned."""
    return Ctx(root=doc.root, caps=caps, host=host, opts=opts or RunOptions(),
               driver=dict(host.raw.get("driver") or {}), path=doc.path, implied=set(doc.implied))


def build_command(doc: Document, caps: Caps, host: Host, opts: RunOptions | None = None) -> Command:
    """Build the command line for a normalised domain (addresses and aliases are assigned here)."""
    ctx = make_ctx(doc, caps, host, opts)
    assign(ctx)
    ctx.caps = _late_caps(ctx)
    alias.assign(ctx)
    return order.build(ctx)


def _late_caps(ctx: Ctx) -> Caps:
    """Capabilities a host profile adds only once addresses are assigned (see the conformance host)."""
    extra: set[str] = set()
    for entry in ctx.host.raw.get("late_caps") or ():
        if ctx.arch in entry.get("archs", ()):
            extra.update(entry.get("caps", ()))
    return ctx.caps.with_flags(*sorted(extra)) if extra else ctx.caps
