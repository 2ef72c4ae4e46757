"""The QEMU command-line emitter: a valid, normalised domain in, argv out.

It never re-checks what the rules check; `domlint.api.emit` runs the rules
first and refuses a domain with errors.
"""

from __future__ import annotations

from copy import deepcopy

from lxml import etree

from ..caps import Caps
from ..host import Host
from ..parse import Document
from . import alias, order
from .assign import assign
from .command import Command
from .context import Ctx, RunOptions, Unassignable

__all__ = ["DRIVER_DEFAULTS", "Command", "RunOptions", "assignment_problem", "build_command", "make_ctx"]

# qemu.conf as libvirt ships it (a system libvirtd), for the settings the
# command line shows. They fill what the host profile's `driver` section leaves
# out; they are the emitter's, not host facts: rules never see them.
DRIVER_DEFAULTS = {
    "vnc_listen": "127.0.0.1", "vnc_tls": False, "vnc_tls_x509_cert_dir": "/etc/pki/libvirt-vnc",
    "vnc_tls_x509_verify": False, "vnc_sasl": False, "spice_listen": "127.0.0.1", "spice_tls": False,
    "spice_tls_x509_cert_dir": "/etc/pki/libvirt-spice", "spice_sasl": False,
    "state_dir": "/var/lib/libvirt/qemu", "set_process_name": False, "log_timestamp": True,
}


def make_ctx(doc: Document, caps: Caps, host: Host, opts: RunOptions | None = None) -> Ctx:
    """The emitter's view of a normalised domain, before addresses and aliases are assigned."""
    return Ctx(root=doc.root, caps=caps, host=host, opts=opts or RunOptions(),
               driver={**DRIVER_DEFAULTS, **(host.raw.get("driver") or {})}, path=doc.path, implied=set(doc.implied))


def build_command(doc: Document, caps: Caps, host: Host, opts: RunOptions | None = None) -> Command:
    """Build the command line for a normalised domain (addresses and aliases are assigned here)."""
    ctx = make_ctx(doc, caps, host, opts)
    _assign(ctx)
    return order.build(ctx)


def _assign(ctx: Ctx) -> None:
    assign(ctx)
    ctx.caps = _late_caps(ctx)
    alias.assign(ctx)


def assignment_problem(doc: Document, caps: Caps, host: Host) -> tuple[etree._Element, str, str] | None:
    """What address and alias assignment would refuse in a normalised domain: (element, problem, message), or None.

    Assignment runs on a copy, as `argv` would run it; the element returned is
    the domain's own (the rules' `assign` test reports it), the domain itself
    when the refusal names no element.
    """
    copy = deepcopy(doc.root)
    back = dict(zip(copy.iter(), doc.root.iter(), strict=True))
    ctx = make_ctx(doc, caps, host)
    ctx.root = copy
    to_copy = {orig: mine for mine, orig in back.items()}
    ctx.implied = {to_copy[el] for el in ctx.implied if el in to_copy}
    try:
        _assign(ctx)
    except Unassignable as exc:
        # An element assignment added itself (a bridge) stands for the domain.
        return back.get(exc.element, doc.root), exc.problem, exc.message
    return None


def _late_caps(ctx: Ctx) -> Caps:
    """Capabilities a host profile adds only once addresses are assigned (see the conformance host)."""
    extra: set[str] = set()
    for entry in ctx.host.raw.get("late_caps") or ():
        if ctx.arch in entry.get("archs", ()):
            extra.update(entry.get("caps", ()))
    return ctx.caps.with_flags(*sorted(extra)) if extra else ctx.caps
