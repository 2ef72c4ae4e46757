"""The QEMU command-line emitter: a valid, normalised domain in, argv out.

It never re-checks what the rules check; `domlint.api.emit` runs the rules
first and refuses a domain with errors.
"""

from __future__ import annotations

from lxml import etree

from ..caps import Caps
from ..errors import HostFactMissing, InputError
from ..host import Host
from ..parse import Document
from ..record import record
from . import alias
from .assign import assign
from .command import Command
from .context import Ctx, RunOptions, Unassignable

__all__ = ["DRIVER_DEFAULTS", "Assigned", "Command", "RunOptions", "assignment", "build_command", "make_ctx", "volume_problem"]

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
    # The families are imported when a command line is built: check reads only the assignment.
    from . import order

    return order.build(ctx)


def _assign(ctx: Ctx) -> None:
    # From here on only assignment's bridges change the set of devices: keep the device lists.
    ctx.lists = {}
    assign(ctx)
    ctx.caps = _late_caps(ctx)
    alias.assign(ctx)


@record
class Assigned:
    """A normalised domain after 1.2.8's address and alias assignment, run on a copy as `argv` runs it."""

    # (the domain's own element, problem, message) when assignment refused; the domain itself if none is named.
    problem: tuple[etree._Element, str, str] | None
    # The domain's elements to their assigned counterparts.
    copy_of: dict[etree._Element, etree._Element]


def assignment(doc: Document, caps: Caps, host: Host) -> Assigned:
    """Assign addresses and aliases to a copy of a normalised domain (what the rules' assign tests read)."""
    # lxml's copy of an element is deep (its __deepcopy__ is __copy__): no need to import copy for it.
    copy = doc.root.__copy__()
    copy_of = dict(zip(doc.root.iter(), copy.iter(), strict=True))
    ctx = make_ctx(doc, caps, host)
    ctx.root = copy
    ctx.implied = {copy_of[el] for el in ctx.implied if el in copy_of}
    try:
        _assign(ctx)
    except Unassignable as exc:
        back = {mine: orig for orig, mine in copy_of.items()}
        # An element assignment added itself (a bridge) stands for the domain.
        return Assigned((back.get(exc.element, doc.root), exc.problem, exc.message), copy_of)
    except InputError as exc:
        # What assignment stops at for another reason is the other rules' (and argv's) to say; check goes on.
        return Assigned((doc.root, "other", exc.message), copy_of)
    return Assigned(None, copy_of)


def volume_problem(doc: Document, caps: Caps, host: Host, disk: etree._Element) -> tuple[str, str] | None:
    """What a pool volume disk's source comes to on this host, for the rules' `volume` test.

    ('unresolvable', why) when libvirt could not translate it, ('network', protocol)
    when it becomes a network disk QEMU reaches itself (an iSCSI LUN with
    mode='direct'), else None. None too when the host profile does not give the
    pools: that is for `argv` to say, naming the key.
    """
    src_el = disk.find("source")
    if disk.get("type") != "volume" or src_el is None:
        return None
    try:
        from . import source

        found = source.of_disk(make_ctx(doc, caps, host), disk)
    except HostFactMissing:
        return None
    except InputError as exc:
        return "unresolvable", exc.message
    return ("network", found.protocol or "") if found.type == "network" else None


def _late_caps(ctx: Ctx) -> Caps:
    """Capabilities a host profile adds only once addresses are assigned (see the conformance host)."""
    extra: set[str] = set()
    for entry in ctx.host.raw.get("late_caps") or ():
        if ctx.arch in entry.get("archs", ()):
            extra.update(entry.get("caps", ()))
    return ctx.caps.with_flags(*sorted(extra)) if extra else ctx.caps
