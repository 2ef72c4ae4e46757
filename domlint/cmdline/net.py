"""Network interfaces: -netdev + -device, or the older -net nic + -net host pair.

Three spellings, by what QEMU offers: `-net nic,...,vlan=N -net user,vlan=N`
(no -device), `-device e1000,vlan=N -net user,vlan=N` (no -netdev), and
`-netdev user,id=hostnet0 -device e1000,netdev=hostnet0`. Tap devices and
vhost-net are opened by libvirt and passed as file descriptors; their numbers
here come from a per-emission counter (ctx.state["net_next_fd"], starting at
the `first_fd` driver setting, default 3), since no real descriptor exists.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from lxml import etree

from ..errors import InputError
from ..values import parse_int, within_limit
from . import address, alias, devices
from .command import Command, c_str
from .context import Ctx
from .controller import virtio_device

# Interface types that run on a tap device libvirt opens (or macvtap, for direct).
_FD_TYPES = ("network", "bridge", "direct")
# Interface types that may use vhost-net.
_VHOST_TYPES = ("network", "bridge", "ethernet", "direct")
_ARM = ("armv7l", "aarch64")
_TX_MODE = {"iothread": "bh", "timer": "timer"}


@dataclass(frozen=True)
class Fds:
    """The descriptors one interface hands QEMU: its taps and its vhost-net devices."""

    tap: tuple[str, ...] = ()
    vhost: tuple[str, ...] = ()


def model(el: etree._Element) -> str | None:
    """The NIC model (the last <model> counts, as in libvirt)."""
    found = None
    for m in el.iterfind("model"):
        found = m.get("type")
    return found


def _driver(el: etree._Element) -> etree._Element | None:
    """The <driver> of a virtio NIC (libvirt ignores it for other models)."""
    if model(el) != "virtio":
        return None
    found = None
    for d in el.iterfind("driver"):
        found = d
    return found


def _driver_attr(el: etree._Element, name: str) -> str | None:
    drv = _driver(el)
    return drv.get(name) if drv is not None else None


def queues(ctx: Ctx, el: etree._Element) -> int:
    """The multiqueue count a virtio NIC asks for (0 when unset)."""
    text = _driver_attr(el, "queues")
    if not text:
        return 0
    count = parse_int(text)
    if count is None or count < 0:
        raise InputError(ctx.path, el.sourceline, f"interface queues '{text}' is not a positive number")
    message = within_limit(count, "interface queues")
    if message:
        raise InputError(ctx.path, el.sourceline, message)
    return count


def mac(el: etree._Element) -> str:
    """The MAC address in libvirt's spelling (lower-case hex); one derived from the domain when none is given."""
    mac_el = el.find("mac")
    text = mac_el.get("address") if mac_el is not None else None
    if text:
        try:
            return ":".join(f"{int(part, 16):02x}" for part in text.split(":"))
        except ValueError:
            return text
    # Libvirt picks a random 52:54:00 address; a stable one keeps output reproducible.
    root = el.getroottree().getroot()
    seed = f"{root.findtext('uuid') or root.findtext('name') or ''}/{el.sourceline}".encode()
    tail = hashlib.sha256(seed).digest()[:3]
    return "52:54:00:" + ":".join(f"{b:02x}" for b in tail)


def supports_nicdev(ctx: Ctx, el: etree._Element) -> bool:
    """True when the NIC is a -device (ARM boards' own NICs still need -net nic)."""
    if not ctx.has("device"):
        return False
    return ctx.arch not in _ARM or address.kind(el) == "virtio-mmio"


def supports_netdev(ctx: Ctx, el: etree._Element) -> bool:
    """True when the host side is a -netdev rather than a -net with a vlan."""
    return supports_nicdev(ctx, el) and ctx.has("netdev")


def _next_fd(ctx: Ctx) -> str:
    fd = ctx.state.get("net_next_fd", int(ctx.setting("first_fd", 3)))
    ctx.state["net_next_fd"] = fd + 1
    return str(fd)


def uses_vhost(ctx: Ctx, el: etree._Element) -> bool:
    """True when libvirt would open vhost-net for this interface."""
    if ctx.virt_type != "kvm" or _driver_attr(el, "name") == "qemu":
        return False
    if el.get("type") not in _VHOST_TYPES:
        return False
    if not (ctx.has("vhost-net") and supports_netdev(ctx, el)) or model(el) != "virtio":
        return False
    return bool(ctx.setting("vhost_net", True))


def open_fds(ctx: Ctx, el: etree._Element) -> Fds:
    """The tap and vhost descriptors for one interface, numbered in the order libvirt opens them."""
    ntype = el.get("type")
    count = queues(ctx, el) or 1
    tap: tuple[str, ...] = ()
    if ntype in ("network", "bridge"):
        tap = tuple(_next_fd(ctx) for _ in range(count))
    elif ntype == "direct":
        tap = (_next_fd(ctx),)
    vhost = tuple(_next_fd(ctx) for _ in range(count)) if uses_vhost(ctx, el) else ()
    return Fds(tap, vhost)


def _source_attr(el: etree._Element, name: str) -> str | None:
    src = el.find("source")
    return src.get(name) if src is not None else None


def _ifname(el: etree._Element) -> str | None:
    target = el.find("target")
    dev = target.get("dev") if target is not None else None
    # Names libvirt generated itself (vnetN) are dropped from a stored definition.
    return None if not dev or dev.startswith("vnet") else dev


def _sndbuf(el: etree._Element) -> str | None:
    text = el.findtext("tune/sndbuf")
    return text.strip() if text and text.strip() else None


def host_net_str(ctx: Ctx, el: etree._Element, vlan: int, fds: Fds) -> str:
    """The host side: the -netdev value (vlan -1) or the -net value tied to `vlan`."""
    ntype = el.get("type") or "user"
    name = alias.name(el)
    parts: list[str]
    is_tap = False
    if ntype in _FD_TYPES:
        tap = list(fds.tap)
        parts = ["tap", f"fd={tap[0]}" if len(tap) == 1 else "fds=" + ":".join(tap)]
        is_tap = True
    elif ntype == "ethernet":
        parts = ["tap"]
        if _ifname(el):
            parts.append(f"ifname={_ifname(el)}")
        script = el.find("script")
        if script is not None and script.get("path"):
            parts.append(f"script={script.get('path')}")
        is_tap = True
    elif ntype in ("client", "server", "mcast"):
        key = {"client": "connect", "server": "listen", "mcast": "mcast"}[ntype]
        # A listening socket may leave out its address: libvirt prints the NULL as glibc does.
        parts = ["socket", f"{key}={c_str(_source_attr(el, 'address'))}:{_source_attr(el, 'port')}"]
    else:
        parts = ["user"]
    if vlan >= 0:
        parts.append(f"vlan={vlan}")
        if name:
            parts.append(f"name=host{name}")
    else:
        parts.append(f"id=host{name}")
    if is_tap:
        if fds.vhost:
            vh = list(fds.vhost)
            parts.append("vhost=on")
            parts.append(f"vhostfd={vh[0]}" if len(vh) == 1 else "vhostfds=" + ":".join(vh))
        if _sndbuf(el) is not None:
            parts.append(f"sndbuf={_sndbuf(el)}")
    return ",".join(parts)


def nic_str(el: etree._Element, vlan: int) -> str:
    """The legacy -net nic value."""
    parts = [f"nic,macaddr={mac(el)}", f"vlan={vlan}"]
    if model(el):
        parts.append(f"model={model(el)}")
    if alias.name(el):
        parts.append(f"name={alias.name(el)}")
    return ",".join(parts)


def rom_str(el: etree._Element) -> str:
    """The ',rombar=...,romfile=...' part for a device's <rom>."""
    rom = el.find("rom")
    if rom is None:
        return ""
    out = ""
    bar = rom.get("bar")
    if bar in ("on", "off"):
        out += f",rombar={1 if bar == 'on' else 0}"
    if rom.get("file") is not None:
        out += f",romfile={rom.get('file')}"
    return out


def nic_device_str(ctx: Ctx, el: etree._Element, vlan: int, bootindex: int, vhost_count: int) -> str:
    """The -device value of a NIC."""
    nic = model(el) or ""
    virtio = nic == "virtio"
    if virtio:
        nic = virtio_device("virtio-net", el)
    parts = [nic]
    if virtio:
        tx = _driver_attr(el, "txmode")
        if tx in _TX_MODE:
            parts.append(f"tx={_TX_MODE[tx]}")
        ioeventfd = _driver_attr(el, "ioeventfd")
        if ioeventfd in ("on", "off") and ctx.has("virtio-blk-pci.ioeventfd"):
            parts.append(f"ioeventfd={ioeventfd}")
        event_idx = _driver_attr(el, "event_idx")
        if event_idx in ("on", "off") and ctx.has("virtio-net-pci.event_idx"):
            parts.append(f"event_idx={event_idx}")
        if vhost_count > 1:
            # Two MSI-X vectors per queue pair, plus config and control.
            parts.append(f"mq=on,vectors={2 * vhost_count + 2}")
    name = alias.name(el)
    parts.append(f"netdev=host{name}" if vlan == -1 else f"vlan={vlan}")
    parts.append(f"id={name}")
    parts.append(f"mac={mac(el)}")
    out = ",".join(parts) + address.suffix(ctx, el) + rom_str(el)
    if bootindex and ctx.has("boot-index"):
        out += f",bootindex={bootindex}"
    return out


def vhostuser_args(ctx: Ctx, el: etree._Element) -> list[str]:
    """-chardev, -netdev type=vhost-user and -device for a vhost-user interface."""
    name = alias.name(el)
    src = el.find("source")
    if src is None or src.get("type", "unix") != "unix":
        raise InputError(ctx.path, el.sourceline, "vhost-user interfaces need a unix socket source")
    server = ",server" if src.get("mode") == "server" else ""
    return ["-chardev", f"socket,id=char{name},path={src.get('path')}{server}",
            "-netdev", f"type=vhost-user,id=host{name},chardev=char{name}",
            "-device", nic_device_str(ctx, el, -1, 0, 0)]


def interface_args(ctx: Ctx, el: etree._Element, vlan: int, boot_net: int) -> list[str]:
    """Everything one interface adds to the command line, in libvirt's order."""
    ntype = el.get("type")
    if ntype == "vhostuser":
        return vhostuser_args(ctx, el)
    if ntype == "hostdev":
        # Passed-through NICs are host devices and built with them.
        return []
    bootindex = boot_net or address.number(ctx, el.find("boot"), "order")
    fds = open_fds(ctx, el)
    out: list[str] = []
    netdev = supports_netdev(ctx, el)
    if netdev:
        out += ["-netdev", host_net_str(ctx, el, vlan, fds)]
    if supports_nicdev(ctx, el):
        out += ["-device", nic_device_str(ctx, el, vlan, bootindex, len(fds.vhost))]
    else:
        out += ["-net", nic_str(el, vlan)]
    if not netdev:
        out += ["-net", host_net_str(ctx, el, vlan, fds)]
    return out


def interfaces(ctx: Ctx, cmd: Command) -> None:
    """Every interface in order; -net none when there are none and no -nodefaults."""
    nets = devices.nets(ctx)
    if not nets:
        if not ctx.has("device"):
            cmd.add("-net", "none")
        return
    boot_net = 0
    if ctx.state.get("emit_bootindex"):
        # '-boot n' becomes a bootindex on the first interface.
        devs = ctx.state.get("boot_devs") or []
        if "network" in devs:
            boot_net = devs.index("network") + 1
    for i, el in enumerate(nets):
        vlan = -1 if supports_netdev(ctx, el) else i
        cmd.add(*interface_args(ctx, el, vlan, boot_net))
        boot_net = 0
