"""Storage sources as libvirt 9.0 opens them with -blockdev: a storage node and a format node per image.

A disk's source and its <backingStore> chain are read into `Image`s
(`chain`); `prepare` numbers them as libvirt does (`libvirt-N-storage` /
`libvirt-N-format`, N counting up over the disks from the last one, each chain
from its top), and `image_args` gives the objects and -blockdev arguments of
one image: secrets, TLS credentials, a persistent-reservation manager, then the
storage, slice and format nodes (qemu_block.c).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from ..cmdline.context import Ctx
from ..cmdline.storage import pool, translate
from ..errors import HostFactMissing, InputError
from ..values import parse_int
from . import secret
from .props import Props, compact, object_arg, to_json

# <driver cache> as QEMU's cache.direct / cache.no-flush / the device's write-cache.
CACHE_FLAGS: dict[str, tuple[bool, bool, bool]] = {
    # mode: (writeback, direct, no-flush)
    "none": (True, True, False), "writethrough": (False, False, False), "writeback": (True, False, False),
    "directsync": (False, True, False), "unsafe": (True, False, True),
}
# Ports libvirt fills in for a TCP host without one (virStorageSourceNetworkDefaultPort; 0: none).
DEFAULT_PORT = {"http": 80, "https": 443, "ftp": 21, "ftps": 990, "tftp": 69, "sheepdog": 7000, "nbd": 10809,
                "ssh": 22, "iscsi": 3260, "gluster": 24007, "rbd": 0, "vxhs": 9999, "nfs": 0}
_CURL = ("http", "https", "ftp", "ftps", "tftp")
# Formats whose QEMU driver can carry a backing image (>= VIR_STORAGE_FILE_BACKING in libvirt's enum).
_BACKING_FORMATS = frozenset(("cow", "qcow", "qcow2", "qed", "vmdk"))
# Formats QEMU opens under another driver name.
_FORMAT_DRIVER = {"ploop": "parallels", "vhd": "vhdx"}
_PLAIN_FORMATS = frozenset(("bochs", "cloop", "dmg", "vdi", "vpc", "qed", "vmdk"))
# URI characters libxml2 leaves unescaped in a path and in a query.
_UNRESERVED = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'()")
_PATH_SAFE = _UNRESERVED | frozenset("/;@&=+$,:")
_QUERY_SAFE = _UNRESERVED | frozenset("/;@&=+$,:?[]")


@dataclass(frozen=True)
class NetHost:
    """One <host> of a network source."""

    name: str | None
    port: int
    transport: str = "tcp"
    socket: str | None = None


@dataclass(frozen=True)
class AuthRef:
    """An image's login: the user name and the host secret (by UUID or usage) holding the password or key."""

    username: str | None
    uuid: str | None
    usage: str | None


@dataclass
class Image:
    """One member of a disk's backing chain, as libvirt's virStorageSource holds it."""

    el: etree._Element              # the <disk> or <backingStore> element
    src: etree._Element | None      # its <source>
    type: str                       # file, block, dir, network, nvme, vhostuser, volume (before translation)
    path: str | None = None
    format: str | None = None
    protocol: str | None = None
    volume: str | None = None       # the gluster volume or rbd pool
    hosts: tuple[NetHost, ...] = ()
    readonly: bool = False
    shared: bool = False
    hostcdrom: bool = False
    floppy: bool = False
    top: bool = False
    # Set by prepare().
    id: int = 0
    # The node names' stem when not libvirt-ID (the firmware flash: libvirt-pflashN).
    node_prefix: str | None = None
    # The disk's <driver> settings that apply to the whole chain.
    cache: str | None = None
    io: str | None = None
    discard: str | None = None
    detect_zeroes: str | None = None
    # The next image, None when the chain ends without saying (QEMU may probe), False when it is
    # explicitly terminated (<backingStore/>).
    backing: Image | bool | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def storage_node(self) -> str:
        """The node name of the protocol/file layer."""
        return f"{self.node_prefix or f'libvirt-{self.id}'}-storage"

    @property
    def format_node(self) -> str:
        """The node name of the format layer."""
        return f"{self.node_prefix or f'libvirt-{self.id}'}-format"

    @property
    def is_local(self) -> bool:
        """True for files, block devices and directories (which have a path)."""
        return self.type in ("file", "block", "dir")

    @property
    def empty(self) -> bool:
        """True when there is no medium (virStorageSourceIsEmpty)."""
        return ((self.is_local and not self.path) or (self.type == "network" and not self.protocol)
                or (self.type == "volume" and self.src is None))


def _absent() -> etree._Element:
    return etree.Element("absent")


def _child(el: etree._Element | None, tag: str) -> etree._Element:
    found = el.find(tag) if el is not None else None
    return found if found is not None else _absent()


def _hosts(ctx: Ctx, src: etree._Element, protocol: str) -> tuple[NetHost, ...]:
    hosts = []
    for h in src.iterfind("host"):
        transport = h.get("transport", "tcp")
        port = parse_int(h.get("port") or "0", 10) or 0
        if transport == "tcp" and port == 0:
            port = DEFAULT_PORT.get(protocol, 0)
        hosts.append(NetHost(h.get("name"), port, transport, h.get("socket")))
    return tuple(hosts)


def image(ctx: Ctx, el: etree._Element, dtype: str, fmt: str | None, top: bool = True) -> Image:
    """One image read from an element holding a <source> (a disk, a backing store, an <nvram>)."""
    return _image(ctx, el, dtype, fmt, top)


def _image(ctx: Ctx, el: etree._Element, dtype: str, fmt: str | None, top: bool) -> Image:
    src = el.find("source")
    img = Image(el=el, src=src, type=dtype, format=fmt, top=top)
    if src is None:
        return img
    if dtype == "volume":
        if not ctx.host.raw.get("storage_pools") and src.get("pool", "") not in (ctx.host.raw.get("inactive_pools") or ()):
            raise HostFactMissing(ctx.path, src.sourceline, f"the volume of storage pool '{src.get('pool', '')}' "
                                  "is known only to the host's storage driver", "storage_pools")
        direct = _iscsi_direct(ctx, img, src)
        if direct:
            return img
        # Pool volumes are looked up as libvirt's storage driver does; the result is a plain source.
        found = translate(ctx, src)
        img.type, img.path = found.type, found.path
        if found.type == "network":
            img.protocol = found.protocol
            img.hosts = tuple(NetHost(h.name, int(h.port or 0) or DEFAULT_PORT.get(found.protocol or "", 0))
                              for h in found.hosts)
            if found.auth is not None:
                img.extra["auth"] = AuthRef(found.auth.username, found.auth.uuid, found.auth.usage)
        # A pool volume's own <auth> is dropped: only the pool's counts.
        img.extra.setdefault("auth", None)
        if not img.format:
            img.format = "fat" if img.type == "dir" else "raw"
        return img
    if dtype == "network":
        protocol = src.get("protocol", "")
        img.protocol = protocol
        name = src.get("name")
        if name and protocol in ("gluster", "rbd") and "/" in name:
            cut = name.index("/")
            img.volume, name = name[:cut], name[cut + 1:]
        img.path = name
        img.hosts = _hosts(ctx, src, protocol)
        return img
    attr = {"file": "file", "block": "dev", "dir": "dir"}.get(dtype)
    if attr:
        # An empty path means no medium, as libvirt reads it.
        img.path = src.get(attr) or None
    return img


def _iscsi_direct(ctx: Ctx, img: Image, src: etree._Element) -> bool:
    """A volume of an iscsi-direct pool: QEMU's initiator reaches LUN N of 'unit:A:B:N' (virDomainDiskTranslateISCSIDirect)."""
    name, volume = src.get("pool", ""), src.get("volume", "")
    if name in (ctx.host.raw.get("inactive_pools") or ()):
        return False  # translate() reports it
    found = pool(ctx, name, src.sourceline)
    if found.type != "iscsi-direct":
        return False
    if volume in (ctx.host.raw.get("missing_volumes") or ()):
        raise InputError(ctx.path, src.sourceline, f"storage pool '{name}' has no volume '{volume}'")
    parts = volume.split(":")
    if len(found.hosts) != 1 or len(parts) != 4:
        raise InputError(ctx.path, src.sourceline,
                         f"iscsi-direct pool '{name}' needs exactly one host and volumes named unit:A:B:LUN")
    host, port = found.hosts[0]
    img.type, img.protocol = "network", "iscsi"
    img.path = f"{found.device_paths[0] if found.device_paths else ''}/{parts[3]}"
    img.hosts = (NetHost(host, port or 3260),)
    img.extra["auth"] = AuthRef(found.auth.username, found.auth.uuid, found.auth.usage) if found.auth else None
    root = etree.parse(str(Path(str(ctx.host.raw.get("storage_pools"))) / f"{name}.xml")).getroot()
    iqn = root.find("source/initiator/iqn")
    if iqn is not None and img.src is not None and img.src.find("initiator/iqn") is None:
        img.extra["initiator"] = iqn.get("name")
    if not img.format:
        img.format = "raw"
    return True


def is_host_cdrom(ctx: Ctx, path: str | None) -> bool:
    """True when a block device is a CD drive: the host profile's `cdrom_devices`, else /dev/sr* and /dev/cdrom*."""
    if not path:
        return False
    listed = ctx.host.raw.get("cdrom_devices")
    if listed is not None:
        return path in listed
    return path.startswith(("/dev/sr", "/dev/cdrom", "/dev/dvd"))


def chain(ctx: Ctx, disk: etree._Element) -> list[Image]:
    """A disk's images from the top down: its source, then each <backingStore> it names."""
    drv = _child(disk, "driver")
    readonly = disk.find("readonly") is not None or disk.get("device") == "cdrom"
    top = _image(ctx, disk, disk.get("type", "file"), drv.get("type"), True)
    top.readonly = readonly
    top.shared = disk.find("shareable") is not None
    top.detect_zeroes = drv.get("detect_zeroes")
    if top.format is None and top.type != "volume":
        top.format = "raw"
    # A raw CD-ROM on one of the host's CD drives opens with host_cdrom.
    top.hostcdrom = (disk.get("device") == "cdrom" and top.type == "block" and top.format == "raw"
                     and is_host_cdrom(ctx, top.path))
    images = [top]
    node = disk
    while True:
        bs = node.find("backingStore")
        if bs is None:
            break
        if bs.get("type") is None and bs.find("source") is None:
            images[-1].backing = False
            break
        fmt_el = bs.find("format")
        img = _image(ctx, bs, bs.get("type", "file"), fmt_el.get("type") if fmt_el is not None else None, False)
        img.readonly = True
        images[-1].backing = img
        images.append(img)
        node = bs
    cache = drv.get("cache")
    # A shared, writable disk must not be cached by the host (qemuDomainPrepareDiskCachemode).
    if cache in (None, "default") and top.shared and not top.readonly:
        cache = "none"
    for img in images:
        img.cache = cache if cache not in (None, "default") else None
        img.io = drv.get("io") if drv.get("io") not in (None, "default") else None
        img.discard = drv.get("discard") if drv.get("discard") not in (None, "default") else None
        img.floppy = disk.get("device") == "floppy"
    return images


def prepare(ctx: Ctx, disks: list[etree._Element]) -> dict[int, list[Image]]:
    """Number every disk's images as libvirt does: disks from the last to the first, each chain from its top."""
    chains: dict[int, list[Image]] = {}
    counter = int(ctx.state.get("storage_id", 0))
    for disk in reversed(disks):
        images = chain(ctx, disk)
        # vhost-user disks are a chardev and SD cards a -drive: neither has nodes.
        sd_card = disk.find("target") is not None and disk.find("target").get("bus") == "sd"
        if images[0].type != "vhostuser" and not sd_card:
            for img in images:
                counter += 1
                img.id = counter
                _prepare_fds(ctx, img)
        chains[id(disk)] = images
    ctx.state["storage_id"] = counter
    return chains


def _prepare_fds(ctx: Ctx, img: Image) -> None:
    """Give an image opened from passed descriptors (<source fdgroup>) the next fd set (one counter with chardevs)."""
    if img.type != "file":
        return
    fds = _fd_group(ctx, img)
    if fds is None:
        return
    fdset = int(ctx.state.get("fdset_next", 0))
    ctx.state["fdset_next"] = fdset + 1
    img.extra["fdset"] = fdset
    img.extra["fds"] = fds


def next_storage_id(ctx: Ctx) -> int:
    """A fresh storage id after the disks' (host devices' iSCSI/SCSI backends take theirs after the disks)."""
    counter = int(ctx.state.get("storage_id", 0)) + 1
    ctx.state["storage_id"] = counter
    return counter


# --- the storage layer --------------------------------------------------------------------------

def _cache_obj(img: Image) -> dict[str, bool] | None:
    if not img.cache or img.cache not in CACHE_FLAGS:
        return None
    _, direct, noflush = CACHE_FLAGS[img.cache]
    return {"direct": direct, "no-flush": noflush}


def _socket_address(host: NetHost) -> Props:
    if host.transport == "unix":
        return {"type": "unix", "path": host.socket}
    return {"type": "inet", "host": host.name, "port": str(host.port)}


def _inet_address(host: NetHost) -> Props:
    return {"host": host.name, "port": str(host.port)}


def _one_host(ctx: Ctx, img: Image) -> NetHost:
    if len(img.hosts) != 1:
        raise InputError(ctx.path, img.el.sourceline, f"protocol '{img.protocol}' accepts only one host")
    return img.hosts[0]


def uri(ctx: Ctx, img: Image) -> str:
    """The URI of a network image (qemuBlockStorageSourceGetURI), as libxml2 formats it."""
    host = _one_host(ctx, img)
    scheme = img.protocol if host.transport == "tcp" else f"{img.protocol}+{host.transport}"
    out = f"{scheme}://"
    if host.name:
        out += f"[{host.name}]" if ":" in host.name else host.name
        if host.transport == "tcp" and host.port > 0:
            out += f":{host.port}"
    if img.path:
        path = f"/{img.volume}/{img.path}" if img.volume else (img.path if img.path.startswith("/") else "/" + img.path)
        out += _escape(path, _PATH_SAFE)
    query = img.src.get("query") if img.src is not None and img.protocol in ("http", "https") else None
    if query:
        out += "?" + _escape(query, _QUERY_SAFE)
    return out


def _escape(text: str, safe: frozenset[str]) -> str:
    return "".join(c if c in safe else "".join(f"%{b:02X}" for b in c.encode()) for c in text)


def auth_of(img: Image) -> AuthRef | None:
    """The login of an image: its <auth> in its <source> or in the <disk> (a pool volume: the pool's)."""
    if "auth" in img.extra:
        return img.extra["auth"]  # type: ignore[return-value]
    el = img.src.find("auth") if img.src is not None else None
    if el is None and img.top:
        el = img.el.find("auth")
    if el is None:
        return None
    sec = _child(el, "secret")
    return AuthRef(el.get("username"), sec.get("uuid"), sec.get("usage"))


def encryption_of(img: Image) -> etree._Element | None:
    """The <encryption> of an image: in its <source>, or for the top image in the <disk>."""
    if img.src is not None and img.src.find("encryption") is not None:
        return img.src.find("encryption")
    if img.top:
        return img.el.find("encryption")
    return None


def _encryption_engine(enc: etree._Element | None) -> str | None:
    if enc is None:
        return None
    return enc.get("engine") or "qemu"


def _has_auth_secret(img: Image) -> bool:
    return not img.empty and auth_of(img) is not None


def _has_enc_secret(img: Image) -> bool:
    enc = encryption_of(img)
    return not img.empty and enc is not None and enc.find("secret") is not None


def _cookies(img: Image) -> str | None:
    if img.src is None or img.protocol not in ("http", "https"):
        return None
    pairs = [f"{c.get('name', '')}={c.text or ''}" for c in img.src.iterfind("cookies/cookie")]
    return "; ".join(pairs) if pairs else None


def _tls(ctx: Ctx, img: Image) -> bool:
    """Whether an NBD or VxHS image uses TLS: its tls attribute, else the driver setting."""
    if img.type != "network" or img.protocol not in ("nbd", "vxhs"):
        return False
    attr = img.src.get("tls") if img.src is not None else None
    if attr in ("yes", "no"):
        return attr == "yes"
    return bool(ctx.setting(f"{img.protocol}_tls", False))


def tls_alias(img: Image) -> str:
    """The id of an image's TLS credentials object (qemuAliasTLSObjFromSrcAlias)."""
    return f"obj{img.storage_node}_tls0"


def _curl_props(ctx: Ctx, img: Image) -> Props:
    auth = auth_of(img)
    props: Props = {"url": uri(ctx, img)}
    if auth is not None:
        props["username"] = auth.username
        props["password-secret"] = secret.alias_for(img.storage_node, "auth")
    ssl = _child(img.src, "ssl").get("verify") if img.protocol in ("https", "ftps") else None
    if ssl in ("yes", "no"):
        props["sslverify"] = ssl == "yes"
    if _cookies(img):
        props["cookie-secret"] = secret.alias_for(img.storage_node, "httpcookie")
    timeout = parse_int(_child(img.src, "timeout").get("seconds") or "0", 10) or 0
    readahead = parse_int(_child(img.src, "readahead").get("size") or "0", 10) or 0
    if timeout:
        props["timeout"] = timeout
    if readahead:
        props["readahead"] = readahead
    return props


def _iscsi_props(ctx: Ctx, img: Image) -> Props:
    target, _, lun = (img.path or "").partition("/")
    host = img.hosts[0] if img.hosts else NetHost("", 3260)
    name = host.name or ""
    portal = f"[{name}]:{host.port}" if _is_ipv6(name) else f"{name}:{host.port}"
    props: Props = {"portal": portal, "target": target, "lun": parse_int(lun, 10) or 0 if lun else 0,
                    "transport": "tcp"}
    auth = auth_of(img)
    if auth is not None:
        props["user"] = auth.username
        props["password-secret"] = secret.alias_for(img.storage_node, "auth")
    iqn = _child(_child(img.src, "initiator"), "iqn").get("name") or img.extra.get("initiator")
    if iqn:
        props["initiator-name"] = iqn
    return props


def _is_ipv6(name: str) -> bool:
    try:
        return isinstance(ipaddress.ip_address(name), ipaddress.IPv6Address)
    except ValueError:
        return False


def _rbd_props(img: Image) -> Props:
    props: Props = {"pool": img.volume, "image": img.path}
    snap = _child(img.src, "snapshot").get("name")
    conf = _child(img.src, "config").get("file")
    if snap:
        props["snapshot"] = snap
    if conf:
        props["conf"] = conf
    if img.hosts:
        props["server"] = [_inet_address(h) for h in img.hosts]
    enc = encryption_of(img)
    if enc is not None and _encryption_engine(enc) == "librbd":
        fmt = {"luks": "luks", "luks2": "luks2"}.get(enc.get("format", ""))
        props["encrypt"] = compact({"format": fmt, "key-secret": secret.alias_for(img.format_node, "encryption")})
    auth = auth_of(img)
    if auth is not None:
        props["user"] = auth.username
        props["auth-client-required"] = ["cephx", "none"]
        props["key-secret"] = secret.alias_for(img.storage_node, "auth")
    return props


def _nfs_props(img: Image) -> Props:
    host = img.hosts[0] if img.hosts else NetHost("", 0)
    props: Props = {"server": {"host": host.name, "type": "inet"}, "path": img.path}
    ident = _child(img.src, "identity")
    for attr, key in (("user", "user"), ("group", "group")):
        value = ident.get(attr)
        if value:
            number = parse_int(value.lstrip("+"), 10)
            if number is not None:
                props[key] = number
    return props


def _network_props(ctx: Ctx, img: Image) -> Props:
    proto = img.protocol or ""
    if proto == "gluster":
        props: Props = {"volume": img.volume, "path": img.path, "server": [_socket_address(h) for h in img.hosts]}
        # libvirt turns gluster's debugging on at the driver's level (qemu.conf gluster_debug_level, 4).
        props["debug"] = int(ctx.setting("gluster_debug_level", 4))
    elif proto == "vxhs":
        host = _one_host(ctx, img)
        props = compact({"tls-creds": tls_alias(img) if _tls(ctx, img) else None, "vdisk-id": img.path,
                         "server": _inet_address(host)})
    elif proto in _CURL:
        props = _curl_props(ctx, img)
    elif proto == "iscsi":
        props = _iscsi_props(ctx, img)
    elif proto == "nbd":
        host = _one_host(ctx, img)
        tls = _tls(ctx, img)
        props = compact({"server": _socket_address(host), "export": img.path,
                         "tls-creds": tls_alias(img) if tls else None,
                         "tls-hostname": (img.src.get("tlsHostname") if tls and img.src is not None else None)})
    elif proto == "rbd":
        props = _rbd_props(img)
    elif proto == "sheepdog":
        props = {"server": _socket_address(_one_host(ctx, img)), "vdi": img.path}
    elif proto == "ssh":
        host = _one_host(ctx, img)
        auth = auth_of(img)
        user = auth.username if auth is not None else None
        props = compact({"path": img.path, "server": _inet_address(host), "user": user})
        if _child(img.src, "knownHosts").get("path") is None and img.extra.get("ssh_no_check"):
            props["host-key-check"] = {"mode": "none"}
    elif proto == "nfs":
        props = _nfs_props(img)
    else:
        raise InputError(ctx.path, img.el.sourceline, f"QEMU cannot open a disk source of protocol '{proto}'")
    return {"driver": proto, **props}


def _fd_group(ctx: Ctx, img: Image) -> list[int] | None:
    name = img.src.get("fdgroup") if img.src is not None else None
    if not name:
        return None
    groups = ctx.setting("fd_groups")
    if groups is None:
        # `virsh domfd-associate` hands them to the running daemon: nothing in the domain or on disk says which.
        raise HostFactMissing(ctx.path, img.el.sourceline, f"file descriptor group '{name}' is passed to libvirt "
                              "at run time (virsh domfd-associate)", "driver.fd_groups")
    if name not in groups:
        raise InputError(ctx.path, img.el.sourceline,
                         f"file descriptor group '{name}' was not associated with the domain")
    return [int(fd) for fd in groups[name]]


def storage_props(ctx: Ctx, img: Image) -> Props:
    """The storage (protocol) node of an image (qemuBlockStorageSourceGetBackendProps, auto-read-only)."""
    aro: bool | None = True
    ro: bool | None = None
    if img.type in ("file", "block"):
        driver = ("host_cdrom" if img.hostcdrom else "host_device") if img.type == "block" else "file"
        path: str | None = img.path
        fdset = img.extra.get("fdset")
        if fdset is not None:
            path = f"/dev/fdset/{fdset}"
            fds = img.extra.get("fds") or []
            # With one descriptor QEMU cannot reopen read-only first: auto-read-only is off.
            if len(fds) == 1:  # type: ignore[arg-type]
                aro = None
                ro = img.readonly and not bool(img.extra.get("fd_writable"))
        props: Props = {"driver": driver, "filename": path}
        if img.io:
            props["aio"] = img.io
        pr = pr_manager_alias(img)
        if pr:
            props["pr-manager"] = pr
    elif img.type == "dir":
        props = {"driver": "vvfat", "dir": img.path, "floppy": img.floppy, "rw": not img.readonly}
    elif img.type == "nvme":
        addr = _child(img.src, "address")
        pci = _pci_string(addr)
        props = {"driver": "nvme", "device": pci, "namespace": parse_int(img.src.get("namespace") or "1", 10)
                 if img.src is not None else 1}
    elif img.type == "network":
        props = _network_props(ctx, img)
    else:
        raise InputError(ctx.path, img.el.sourceline, f"a disk source of type '{img.type}' cannot be a -blockdev")
    props["node-name"] = img.storage_node
    cache = _cache_obj(img)
    if cache is not None:
        props["cache"] = cache
    if ro is not None:
        props["read-only"] = ro
    if aro:
        props["auto-read-only"] = True
    props["discard"] = "unmap"
    return props


def _pci_string(addr: etree._Element) -> str:
    def num(key: str) -> int:
        return parse_int(addr.get(key) or "0", 0) or 0
    return f"{num('domain'):04x}:{num('bus'):02x}:{num('slot'):02x}.{num('function'):x}"


def pr_manager_alias(img: Image) -> str | None:
    """The pr-manager a block image uses: the domain's managed helper, or its own unmanaged one."""
    res = img.src.find("reservations") if img.src is not None else None
    if res is None or res.get("enabled", "yes") != "yes":
        return None
    if res.get("managed", "no") == "yes":
        return MANAGED_PR_ALIAS
    return f"pr-helper-{img.storage_node}"


MANAGED_PR_ALIAS = "pr-helper0"


def _slice(img: Image) -> tuple[int, int] | None:
    sl = img.src.find("slices/slice[@type='storage']") if img.src is not None else None
    if sl is None:
        return None
    return parse_int(sl.get("offset") or "0", 10) or 0, parse_int(sl.get("size") or "0", 10) or 0


def _needs_slice_layer(img: Image) -> bool:
    if _slice(img) is None:
        return False
    enc = encryption_of(img)
    return img.format != "raw" or (enc is not None and enc.get("format") == "luks")


def slice_node(img: Image) -> str:
    """The node name of an image's slice layer."""
    return f"libvirt-{img.id}-slice-sto"


def slice_props(img: Image) -> Props:
    """The raw node that cuts an image's storage slice out of its storage node."""
    offset, size = _slice(img) or (0, 0)
    props: Props = {"driver": "raw", "node-name": slice_node(img), "offset": offset, "size": size,
                    "file": img.storage_node, "auto-read-only": True, "discard": "unmap"}
    cache = _cache_obj(img)
    if cache is not None:
        props["cache"] = cache
    return props


# --- the format layer ---------------------------------------------------------------------------

def _detect_zeroes(img: Image) -> str | None:
    mode = img.detect_zeroes if img.top else None
    if mode in (None, "default"):
        return None
    # 'unmap' needs discard=unmap; otherwise it works as 'on'.
    if mode == "unmap" and img.discard != "unmap":
        return "on"
    return mode


def format_props(ctx: Ctx, img: Image) -> Props:
    """The format node of an image (qemuBlockStorageSourceGetBlockdevProps)."""
    props: Props = compact({"node-name": img.format_node, "read-only": img.readonly, "discard": img.discard,
                            "detect-zeroes": _detect_zeroes(img)})
    cache = _cache_obj(img)
    if cache is not None:
        props["cache"] = cache
    fmt = img.format or "raw"
    enc = encryption_of(img)
    qemu_enc = enc is not None and _encryption_engine(enc) == "qemu" and _has_enc_secret(img)
    if fmt in ("raw", "fat"):
        if qemu_enc and enc is not None and enc.get("format") == "luks":
            props["driver"] = "luks"
            props["key-secret"] = secret.alias_for(img.format_node, "encryption")
        else:
            props["driver"] = "raw"
            sl = _slice(img)
            if sl is not None and not _needs_slice_layer(img):
                props["offset"], props["size"] = sl
    elif fmt in ("qcow2", "qcow"):
        props["driver"] = fmt
        if qemu_enc and enc is not None:
            encformat = {"qcow": "aes", "luks": "luks"}.get(enc.get("format", ""))
            if encformat is None:
                raise InputError(ctx.path, img.el.sourceline,
                                 f"encryption format '{enc.get('format')}' is not supported by QEMU's encryption")
            props["encrypt"] = {"format": encformat, "key-secret": secret.alias_for(img.format_node, "encryption")}
        cache_size = _child(_child(img.el, "driver"), "metadata_cache").findtext("max_size") if img.top else None
        if cache_size:
            props["cache-size"] = _bytes(_child(_child(img.el, "driver"), "metadata_cache").find("max_size"))
    elif fmt in _FORMAT_DRIVER:
        props["driver"] = _FORMAT_DRIVER[fmt]
    elif fmt in _PLAIN_FORMATS:
        props["driver"] = fmt
    else:
        raise InputError(ctx.path, img.el.sourceline, f"QEMU cannot open storage format '{fmt}' with -blockdev")
    props["file"] = slice_node(img) if _needs_slice_layer(img) else img.storage_node
    if img.backing is not None and fmt in _BACKING_FORMATS:
        props["backing"] = img.backing.format_node if isinstance(img.backing, Image) else None
    return props


_UNITS = {"b": 1, "bytes": 1, "k": 1024, "kib": 1024, "kb": 1000, "m": 1024 ** 2, "mib": 1024 ** 2, "mb": 1000 ** 2,
          "g": 1024 ** 3, "gib": 1024 ** 3, "gb": 1000 ** 3, "t": 1024 ** 4, "tib": 1024 ** 4, "tb": 1000 ** 4}


def _bytes(el: etree._Element | None) -> int:
    if el is None:
        return 0
    value = parse_int((el.text or "0").strip(), 10) or 0
    return value * _UNITS.get((el.get("unit") or "bytes").lower(), 1)


# --- objects an image needs -------------------------------------------------------------------

def _secret_value(ctx: Ctx, sec: etree._Element | None, usage_type: str, line: int | None) -> bytes:
    uuid = sec.get("uuid") if sec is not None else None
    usage = sec.get("usage") if sec is not None else None
    return secret.lookup(ctx, usage_type, uuid, usage, line)


def tls_props(ctx: Ctx, img: Image) -> Props:
    """The client TLS credentials of an NBD or VxHS image."""
    proto = img.protocol or ""
    certdir = ctx.setting(f"{proto}_tls_x509_cert_dir") or ctx.setting("default_tls_x509_cert_dir") or "/etc/pki/qemu"
    props: Props = {"qom-type": "tls-creds-x509", "id": tls_alias(img), "dir": certdir, "endpoint": "client",
                    "verify-peer": True}
    if ctx.setting(f"{proto}_tls_x509_secret_uuid"):
        props["passwordid"] = secret.alias_for(tls_alias(img))
    return props


def image_objects(ctx: Ctx, img: Image) -> list[Props]:
    """The -object properties an image needs before its nodes: pr-manager, auth, encryption, cookie, TLS."""
    out: list[Props] = []
    pr = pr_manager_alias(img) if img.type in ("file", "block") else None
    if pr and pr != MANAGED_PR_ALIAS:
        path = _child(_child(img.src, "reservations"), "source").get("path")
        out.append({"qom-type": "pr-manager-helper", "id": pr, "path": path})
    line = img.el.sourceline
    if _has_auth_secret(img):
        auth = auth_of(img)
        assert auth is not None
        usage_type = "ceph" if img.protocol == "rbd" else "iscsi"
        value = secret.lookup(ctx, usage_type, auth.uuid, auth.usage, line)
        out.append(secret.secret_props(ctx, secret.alias_for(img.storage_node, "auth"), value))
    if _has_enc_secret(img):
        enc = encryption_of(img)
        value = _secret_value(ctx, _child(enc, "secret"), "volume", line)
        out.append(secret.secret_props(ctx, secret.alias_for(img.format_node, "encryption"), value))
    cookies = _cookies(img)
    if cookies and not img.empty:
        out.append(secret.secret_props(ctx, secret.alias_for(img.storage_node, "httpcookie"), cookies.encode()))
    if _tls(ctx, img):
        uuid = ctx.setting(f"{img.protocol}_tls_x509_secret_uuid")
        if uuid:
            value = secret.lookup(ctx, "tls", str(uuid), None, line)
            out.append(secret.secret_props(ctx, secret.alias_for(tls_alias(img)), value))
        out.append(tls_props(ctx, img))
    return out


def image_args(ctx: Ctx, img: Image) -> list[tuple[str, str]]:
    """The options of one image, in libvirt's order: its objects, then its storage, slice and format nodes."""
    args = [("-object", object_arg(ctx, props)) for props in image_objects(ctx, img)]
    args.append(("-blockdev", to_json(storage_props(ctx, img))))
    if _needs_slice_layer(img):
        args.append(("-blockdev", to_json(slice_props(img))))
    args.append(("-blockdev", to_json(format_props(ctx, img))))
    return args
