"""Secrets: the passwords and keys that network disks and iSCSI host devices log in with.

They come from the host profile's `secrets` list; each entry is found by
`usage` (the usage id of a ceph or iscsi secret) or by `uuid`, and holds the
secret's `value` as the secret driver would return it.
"""

from __future__ import annotations

import base64

from ..errors import HostFactMissing
from .context import Ctx
from .storage import Auth


def value(ctx: Ctx, auth: Auth, protocol: str, encode: bool = False) -> str:
    """The secret an <auth> refers to, base64-encoded when encode (QEMU's rbd driver wants that)."""
    what = f"uuid '{auth.uuid}'" if auth.uuid else f"usage '{auth.usage}'"
    for entry in ctx.host.raw.get("secrets") or ():
        if (auth.uuid and _same_uuid(entry.get("uuid"), auth.uuid)) or (auth.usage and entry.get("usage") == auth.usage):
            if entry.get("value") is None:
                raise HostFactMissing(ctx.path, auth.line, f"{protocol}: the host profile names the secret with {what} "
                                      "but not its value, which the command line carries", "secrets")
            text = str(entry["value"])
            return base64.b64encode(text.encode()).decode() if encode else text
    raise HostFactMissing(ctx.path, auth.line, f"{protocol}: the host has no secret with {what} (for user '{auth.username}')",
                          "secrets")


def _same_uuid(a: str | None, b: str) -> bool:
    # libvirt reads a UUID with or without dashes, in either case.
    return a is not None and a.lower().replace("-", "") == b.lower().replace("-", "")
