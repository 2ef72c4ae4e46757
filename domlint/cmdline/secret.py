"""Secrets: the passwords and keys that network disks and iSCSI host devices log in with.

They come from the host profile's `secrets` list; each entry is found by
`usage` (the usage id of a ceph or iscsi secret) or by `uuid`, and holds the
secret's `value` as the secret driver would return it.
"""

from __future__ import annotations

import base64

from ..errors import InputError
from .context import Ctx
from .storage import Auth


def value(ctx: Ctx, auth: Auth, protocol: str, encode: bool = False) -> str:
    """The secret an <auth> refers to, base64-encoded when encode (QEMU's rbd driver wants that)."""
    for entry in ctx.host.raw.get("secrets") or ():
        if (auth.uuid and entry.get("uuid") == auth.uuid) or (auth.usage and entry.get("usage") == auth.usage):
            text = str(entry.get("value", ""))
            return base64.b64encode(text.encode()).decode() if encode else text
    what = f"uuid '{auth.uuid}'" if auth.uuid else f"usage '{auth.usage}'"
    raise InputError(ctx.path, auth.line, f"{protocol}: the host has no secret with {what} (for user '{auth.username}')")
