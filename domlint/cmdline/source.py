"""Disk sources: what a disk's <source> names, and the file= string QEMU is given for it.

A network source becomes a URI (gluster://, iscsi://, http://...), an old
style nbd:host:port string, or an rbd:/sheepdog: string with its options;
disks and iSCSI host devices share these builders.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from ..errors import InputError
from . import secret, storage
from .context import Ctx
from .storage import NetHost, Source, parse_auth

# Ports QEMU would assume; libvirt writes them out (0: no default, leave the port out).
_DEFAULT_PORT = {"http": 80, "https": 443, "ftp": 21, "ftps": 990, "tftp": 69,
                 "sheepdog": 7000, "nbd": 10809, "iscsi": 0, "gluster": 0}
_URI_PROTOCOLS = frozenset(("http", "https", "ftp", "ftps", "tftp", "iscsi", "gluster", "nbd"))
# Characters libxml2 leaves unescaped in a URI path and in its user part.
_UNRESERVED = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'()")
_PATH_SAFE = _UNRESERVED | frozenset("/;@&=+$,")
_USER_SAFE = _UNRESERVED | frozenset(";:&=+$,")
# Builds the InputError, with the disk's line, that a malformed source raises.
_Fail = Callable[[str], InputError]


def parse_hosts(source: etree._Element) -> tuple[NetHost, ...]:
    """The <host> children of a network <source>; a UNIX socket host has no name or port."""
    hosts = []
    for h in source.iterfind("host"):
        transport = h.get("transport", "tcp")
        if transport == "unix":
            hosts.append(NetHost(None, None, transport, h.get("socket")))
        else:
            hosts.append(NetHost(h.get("name"), h.get("port"), transport, None))
    return tuple(hosts)


def of_disk(ctx: Ctx, disk: etree._Element) -> Source:
    """The source of a <disk>, with pool volumes looked up in the host's storage pools."""
    dtype = disk.get("type", "file")
    src_el = disk.find("source")
    if dtype == "volume":
        if src_el is None:
            return Source("volume", None)
        return storage.translate(ctx, src_el)
    if src_el is None:
        return Source(dtype, None)
    if dtype == "network":
        protocol = src_el.get("protocol", "")
        name = src_el.get("name") or None
        volume = None
        # The first path component of a gluster name is its volume.
        if name and protocol == "gluster" and "/" in name[1:]:
            cut = name.index("/", 1)
            volume, name = name[:cut], name[cut:]
        return Source("network", name, protocol=protocol, volume=volume, hosts=parse_hosts(src_el),
                      auth=parse_auth(disk.find("auth")))
    attr = {"file": "file", "block": "dev", "dir": "dir"}.get(dtype)
    path = src_el.get(attr) if attr else None
    # An empty path means no medium, as libvirt reads it.
    return Source(dtype, path or None)


def drive_string(ctx: Ctx, src: Source, line: int | None = None) -> str | None:
    """What QEMU is told to open for a source (before ',' escaping), or None when there is nothing."""
    if src.type in ("file", "block", "dir"):
        return src.path
    if src.type != "network" or not src.protocol:
        return None
    username = secret_text = None
    if src.auth is not None and src.protocol in ("iscsi", "rbd"):
        username = src.auth.username
        # QEMU takes the RBD key base64-encoded, the iSCSI password as it is.
        secret_text = secret.value(ctx, src.auth, src.protocol, encode=src.protocol == "rbd")
    return network_uri(ctx, src.protocol, src.path, src.volume, src.hosts, username, secret_text, line)


def network_uri(ctx: Ctx, protocol: str, path: str | None, volume: str | None, hosts: tuple[NetHost, ...],
                username: str | None = None, secret_text: str | None = None, line: int | None = None) -> str:
    """The QEMU file name of a network source: a URI, or the nbd:/rbd:/sheepdog: forms."""

    def fail(message: str) -> InputError:
        return InputError(ctx.path, line, message)

    if protocol == "nbd" and len(hosts) == 1 and _old_style_nbd(hosts[0]):
        return _nbd_string(hosts[0], path, fail)
    if protocol in _URI_PROTOCOLS:
        if len(hosts) != 1:
            raise fail(f"a {protocol} disk source needs exactly one <host>")
        return _uri(protocol, path, volume, hosts[0], username, secret_text, fail)
    if protocol == "sheepdog":
        if not path:
            raise fail("a sheepdog disk source needs a name")
        if not hosts:
            return f"sheepdog:{path}"
        if len(hosts) > 1:
            raise fail("a sheepdog disk source takes at most one <host>")
        return f"sheepdog:{hosts[0].name}:{hosts[0].port or '7000'}:{path}"
    if protocol == "rbd":
        return _rbd_string(path or "", hosts, username, secret_text, fail)
    raise fail(f"QEMU cannot open a disk source of protocol '{protocol}'")


def _old_style_nbd(host: NetHost) -> bool:
    # QEMU's nbd:host:port form cannot carry an IPv6 address, a TCP host without
    # a name or a relative socket path; those go as nbd:// URIs.
    return not ((host.name is not None and ":" in host.name)
                or (host.transport == "tcp" and not host.name)
                # An empty socket='' is a socket libvirt keeps (not a missing one), and not an absolute path.
                or (host.transport == "unix" and host.socket is not None and not host.socket.startswith("/")))


def _nbd_string(host: NetHost, export: str | None, fail: _Fail) -> str:
    if host.transport == "tcp":
        text = f"nbd:{host.name}:{host.port or '10809'}"
    elif host.transport == "unix":
        if host.socket is None:
            raise fail("an nbd host with transport 'unix' needs a socket")
        text = f"nbd:unix:{host.socket}"
    else:
        raise fail(f"nbd cannot use transport '{host.transport}'")
    return f"{text}:exportname={export}" if export else text


def _uri(protocol: str, path: str | None, volume: str | None, host: NetHost,
         username: str | None, secret_text: str | None, fail: _Fail) -> str:
    scheme = protocol if host.transport == "tcp" else f"{protocol}+{host.transport}"
    if host.port is not None:
        try:
            port = int(host.port, 10)
        except ValueError:
            raise fail(f"port '{host.port}' of host '{host.name}' is not a number") from None
    else:
        port = _DEFAULT_PORT[protocol]
    out = [scheme, "://"]
    # libxml2 writes the user part only together with a server.
    if host.name is not None:
        if username:
            user = f"{username}:{secret_text}" if secret_text else username
            out += [_escape(user, _USER_SAFE), "@"]
        out.append(f"[{host.name}]" if ":" in host.name else host.name)
        if port > 0:
            out.append(f":{port}")
    if path:
        full = f"/{volume}{path}" if volume else (path if path.startswith("/") else "/" + path)
        out.append(_escape(full, _PATH_SAFE))
    if host.socket is not None:
        out.append(f"?socket={host.socket}")
    return "".join(out)


def _escape(text: str, safe: frozenset[str]) -> str:
    return "".join(c if c in safe else "".join(f"%{b:02X}" for b in c.encode()) for c in text)


def _rbd_string(name: str, hosts: tuple[NetHost, ...], username: str | None, secret_text: str | None,
                fail: _Fail) -> str:
    if ":" in name:
        raise fail(f"an RBD source name cannot contain ':' ('{name}')")
    parts = [f"rbd:{name}"]
    # Colons inside option values are escaped; ';' separates list items.
    if username:
        parts.append(":id=" + username.replace(":", "\\:"))
        parts.append(":key=" + (secret_text or "").replace(":", "\\:") + ":auth_supported=cephx\\;none")
    else:
        parts.append(":auth_supported=none")
    if hosts:
        mons = []
        for h in hosts:
            name_ = h.name or ""
            mon = "[" + name_.replace(":", "\\:") + "]" if ":" in name_ else name_
            mons.append(mon + (f"\\:{h.port}" if h.port else ""))
        parts.append(":mon_host=" + "\\;".join(mons))
    return "".join(parts)
