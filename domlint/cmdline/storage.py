"""Storage sources, and <disk type='volume'> sources resolved as libvirt's storage driver does.

Pools come from the host profile's `storage_pools` directory (one POOL.xml
each). `volume_naming` says how a volume's type and path follow from its
name: `type-plus-name` (libvirt's test host: 'TYPE+NAME', else a block
volume, at /some/TYPE/device/NAME) or, by default, `pool-target` (a volume
NAME lives at the pool's target path/NAME; its type follows the pool type).
`inactive_pools` and `missing_volumes` list what the host lacks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from lxml import etree

from ..errors import HostFactMissing, InputError
from ..parse import parse_file
from ..values import is_digits
from .context import Ctx

# Pool types whose volumes are local files, directories or block devices.
_LOCAL_POOLS = frozenset(("dir", "fs", "netfs", "logical", "disk", "scsi", "zfs"))
_FILE_POOLS = frozenset(("dir", "fs", "netfs"))
_VOLUME_TYPES = frozenset(("file", "block", "dir", "network", "netdir"))
_ISCSI_PORT = 3260


@dataclass(frozen=True)
class NetHost:
    """One <host> of a network source."""

    name: str | None
    port: str | None = None
    transport: str = "tcp"
    socket: str | None = None


@dataclass(frozen=True)
class Auth:
    """An <auth> element: the user name and the secret that holds the password or key."""

    username: str
    usage: str | None = None
    uuid: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class Source:
    """A disk source after storage-pool translation; `type` is the type QEMU sees (file, block, dir, network)."""

    type: str
    path: str | None
    protocol: str | None = None
    volume: str | None = None
    hosts: tuple[NetHost, ...] = ()
    auth: Auth | None = None


def parse_auth(el: etree._Element | None) -> Auth | None:
    """The Auth of an <auth> element (disk, hostdev or storage pool form), or None."""
    if el is None:
        return None
    sec = el.find("secret")
    return Auth(username=el.get("username", ""),
                usage=sec.get("usage") if sec is not None else None,
                uuid=sec.get("uuid") if sec is not None else None,
                line=el.sourceline)


@dataclass(frozen=True)
class Pool:
    """The parts of a storage pool definition a disk needs."""

    name: str
    type: str
    hosts: tuple[tuple[str, int | None], ...]
    device_paths: tuple[str, ...]
    target_path: str | None
    auth: Auth | None


@lru_cache(maxsize=64)
def _load_pool(path: str, mtime_ns: int) -> Pool:
    root = parse_file(path, roots=None).root
    hosts = []
    for h in root.iterfind("source/host"):
        port = h.get("port")
        hosts.append((h.get("name", ""), int(port) if port and is_digits(port) else None))
    return Pool(name=root.findtext("name") or "", type=root.get("type", ""), hosts=tuple(hosts),
                device_paths=tuple(d.get("path", "") for d in root.iterfind("source/device")),
                target_path=root.findtext("target/path"), auth=parse_auth(root.find("source/auth")))


def pool(ctx: Ctx, name: str, line: int | None) -> Pool:
    """The storage pool called name on this host (InputError when the host has none)."""
    base = ctx.host.raw.get("storage_pools")
    if not base:
        raise HostFactMissing(ctx.path, line, f"storage pool '{name}' is unknown: the host profile names no storage pools",
                              "storage_pools")
    path = Path(base) / f"{name}.xml"
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        # The profile's pools are the host's: one it does not list does not exist (the rules' volume test says so).
        raise InputError(ctx.path, line, f"storage pool '{name}' not found (no {path})") from None
    return _load_pool(str(path), mtime)


def volume_type_and_path(ctx: Ctx, found: Pool, volume: str) -> tuple[str, str]:
    """A volume's type (file, block, dir, network, netdir) and path under the host's naming."""
    if ctx.host.raw.get("volume_naming") == "type-plus-name":
        vtype, sep, name = volume.partition("+")
        if not sep or vtype not in _VOLUME_TYPES:
            vtype, name = "block", volume
        return vtype, f"/some/{vtype}/device/{name}"
    vtype = "file" if found.type in _FILE_POOLS else "block"
    base = (found.target_path or "").rstrip("/")
    return vtype, f"{base}/{volume}"


def translate(ctx: Ctx, src_el: etree._Element) -> Source:
    """Resolve <source pool= volume= mode=> into the source QEMU opens."""
    line = src_el.sourceline
    pool_name, volume, mode = src_el.get("pool", ""), src_el.get("volume", ""), src_el.get("mode")

    def fail(message: str) -> InputError:
        return InputError(ctx.path, line, message)

    # A pool the host lists as inactive exists, but its volumes cannot be looked at.
    if pool_name in (ctx.host.raw.get("inactive_pools") or ()):
        raise fail(f"storage pool '{pool_name}' holding volume '{volume}' is not active")
    found = pool(ctx, pool_name, line)
    if volume in (ctx.host.raw.get("missing_volumes") or ()):
        raise fail(f"storage pool '{pool_name}' has no volume '{volume}'")
    if mode and found.type != "iscsi":
        raise fail(f"mode='{mode}' applies only to volumes of iscsi pools; pool '{pool_name}' is {found.type}")
    startup = src_el.get("startupPolicy")
    vtype, vpath = volume_type_and_path(ctx, found, volume)
    if found.type in _LOCAL_POOLS:
        if startup and vtype != "file":
            raise fail("startupPolicy is only valid for a volume of type 'file'")
        if vtype not in ("file", "dir", "block"):
            raise fail(f"volume '{volume}' of type '{vtype}' cannot back a disk from a {found.type} pool")
        return Source(vtype, vpath)
    if found.type == "iscsi":
        if startup:
            raise fail("startupPolicy is only valid for a volume of type 'file'")
        if mode in (None, "host"):
            return Source("block", vpath)
        # mode='direct': QEMU's own iSCSI initiator reaches the LUN.
        if len(found.hosts) != 1:
            raise fail(f"storage pool '{pool_name}' must have exactly one source host for mode='direct'")
        parts = volume.split(":")
        if len(parts) != 4:
            raise fail(f"iSCSI volume name '{volume}' is not of the form unit:A:B:LUN")
        host_name, port = found.hosts[0]
        device = found.device_paths[0] if found.device_paths else ""
        return Source("network", f"{device}/{parts[3]}", protocol="iscsi",
                      hosts=(NetHost(host_name, str(port or _ISCSI_PORT)),),
                      auth=replace(found.auth, line=line) if found.auth else None)
    raise fail(f"volumes of {found.type or 'unknown'} pools cannot back a disk yet (pool '{pool_name}')")
