"""What libvirt 9.0 settles before it builds the command line: addresses, aliases, node names.

Each step owns one concern; the order is libvirt's (addresses at define time,
then qemuProcessPrepareDomain's aliases).
"""

from __future__ import annotations

import contextlib

from ..cmdline.assign import assign as assign128
from ..cmdline.context import Ctx
from ..errors import InputError
from . import alias


def addresses(ctx: Ctx) -> None:
    """Give every device that needs one an address (still 1.2.8's assignment: being replaced by 9.0's)."""
    # TEMPORARY: 1.2.8's PCI rules refuse 9.0-only controllers such as pcie-root-port.
    with contextlib.suppress(InputError):
        assign128(ctx)


def aliases(ctx: Ctx) -> None:
    """Name every device as libvirt 9.0 does, keeping user aliases ('ua-*')."""
    alias.keep_user_aliases(ctx)
    alias.assign(ctx)


STEPS = (addresses, aliases)


def prepare(ctx: Ctx) -> None:
    """Run every preparation step in order, in place."""
    for step in STEPS:
        step(ctx)
