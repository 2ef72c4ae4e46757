"""What libvirt 9.0 settles before it builds the command line: addresses, aliases, node names.

Each step owns one concern; the order is libvirt's (qemuProcessPrepareDomain).
"""

from __future__ import annotations

import contextlib

from ..cmdline import alias as alias128
from ..cmdline.assign import assign as assign128
from ..cmdline.context import Ctx
from ..errors import InputError


def addresses(ctx: Ctx) -> None:
    """Give every device that needs one an address (still 1.2.8's assignment: to be replaced by 9.0's)."""
    # TEMPORARY (address family owner replaces this): 1.2.8's PCI rules refuse
    # 9.0-only controllers such as pcie-root-port; leave those domains unassigned.
    with contextlib.suppress(InputError):
        assign128(ctx)


def aliases(ctx: Ctx) -> None:
    """Name every device (still 1.2.8's aliases: to be replaced by 9.0's)."""
    alias128.assign(ctx)


STEPS = (addresses, aliases)


def prepare(ctx: Ctx) -> None:
    """Run every preparation step in order, in place."""
    for step in STEPS:
        step(ctx)
