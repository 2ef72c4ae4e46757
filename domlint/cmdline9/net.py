"""Network interfaces as libvirt 9.0 builds them: -netdev (JSON with netdev.json), then -device.

libvirt opens the host side of most interfaces itself and hands QEMU descriptors:
TAP devices (bridge, network, direct, ethernet), vhost-net per queue, vDPA devices
(through an fd set). Their numbers are host facts (`hostfacts.host_fd`: the host
profile's `fds` section, else a placeholder). A
type='hostdev' interface is a PCI host device and is built with the host devices.
"""

from __future__ import annotations

from dataclasses import replace

from lxml import etree

from ..cmdline.command import Command
from ..cmdline.context import Ctx
from ..cmdline.net import mac as mac_address
from ..errors import InputError
from ..values import parse_int
from . import address, chardev, devutil, platform
from .hostfacts import host_fd, state_dir
from .props import Props, device_arg, netdev_arg, zpci_arg

Element = etree._Element

# Interface types that run on a TAP device (macvtap for direct) libvirt opens, and so may use vhost-net.
_TAP_TYPES = ("network", "bridge", "direct", "ethernet")
_VIRTIO_MODELS = ("virtio", "virtio-transitional", "virtio-non-transitional")
_TX_MODE = {"iothread": "bh", "timer": "timer"}
# <driver><host .../> and <guest .../> offloads, as virtio-net properties, in libvirt's order.
_HOST_OFFLOADS = (("csum", "csum"), ("gso", "gso"), ("tso4", "host_tso4"), ("tso6", "host_tso6"),
                  ("ecn", "host_ecn"), ("ufo", "host_ufo"), ("mrg_rxbuf", "mrg_rxbuf"))
_GUEST_OFFLOADS = (("csum", "guest_csum"), ("tso4", "guest_tso4"), ("tso6", "guest_tso6"),
                   ("ecn", "guest_ecn"), ("ufo", "guest_ufo"))
_ARM = ("armv6l", "armv7l", "aarch64")


def _alias(el: Element) -> str:
    a = el.find("alias")
    return (a.get("name") if a is not None else None) or ""


def _int(text: str | None) -> int:
    value = parse_int(text, 10) if text else None
    return value or 0


# The models libvirt knows, in its spelling: a written model matching one whatever its case becomes it.
_KNOWN_MODELS = {m.lower(): m for m in (
    "netfront", "rtl8139", "virtio", "e1000", "e1000e", "virtio-transitional", "virtio-non-transitional",
    "usb-net", "spapr-vlan", "lan9118", "scm91c111", "vlance", "vmxnet", "vmxnet2", "vmxnet3", "Am79C970A",
    "Am79C973", "82540EM", "82545EM", "82543GC")}


def model(el: Element) -> str | None:
    """The NIC model in libvirt's spelling (the last <model> counts; known names whatever their case)."""
    found = None
    for m in el.iterfind("model"):
        found = m.get("type")
    if found is None:
        return None
    return _KNOWN_MODELS.get(found.lower(), found)


def is_virtio(el: Element) -> bool:
    """True for the virtio models (plain, transitional, non-transitional)."""
    return model(el) in _VIRTIO_MODELS


def _driver(el: Element) -> Element | None:
    found = None
    for d in el.iterfind("driver"):
        found = d
    return found


def _driver_attr(el: Element, name: str) -> str | None:
    drv = _driver(el)
    return drv.get(name) if drv is not None else None


def queues(el: Element) -> int:
    """The queue count a virtio NIC asks for (0 when unset)."""
    return _int(_driver_attr(el, "queues")) if is_virtio(el) else 0


def actual_type(ctx: Ctx, el: Element) -> str:
    """The interface type QEMU sees; a libvirt network is taken as a bridge (its TAP device), the common case."""
    ntype = el.get("type") or "user"
    return "bridge" if ntype == "network" else ntype


def supports_nicdev(ctx: Ctx, el: Element) -> bool:
    """False for an ARM board's own NIC, which only the legacy -net nic reaches (qemuDomainSupportsNicdev)."""
    if ctx.arch not in _ARM:
        return True
    addr = el.find("address")
    if addr is None:
        # Address assignment gives every virtio NIC a virtio-mmio or PCI address, board NICs none.
        return is_virtio(el)
    return addr.get("type") in ("virtio-mmio", "pci")


def uses_vhost_net(ctx: Ctx, el: Element) -> bool:
    """True when libvirt opens vhost-net for a TAP interface (qemuInterfaceOpenVhostNet)."""
    if _driver_attr(el, "name") == "qemu" or not is_virtio(el) or not supports_nicdev(ctx, el):
        return False
    if not ctx.setting("vhost_net", True):
        # The host has no /dev/vhost-net to open.
        return False
    # KVM guests only, unless the host opens it for any guest (libvirt's test harness does).
    return ctx.virt_type == "kvm" or bool(ctx.setting("vhost_net_any_guest", False))


def _fd_list(first: int, count: int) -> list[str]:
    return [str(first + i) for i in range(count)]


def _tap_props(ctx: Ctx, el: Element) -> Props:
    count = queues(el) or 1
    taps = _fd_list(host_fd(ctx, "tap_first"), count)
    props: Props = {"type": "tap"}
    props["fds" if len(taps) > 1 else "fd"] = ":".join(taps)
    if uses_vhost_net(ctx, el):
        vhost = _fd_list(host_fd(ctx, "vhost_first"), count)
        props["vhost"] = True
        props["vhostfds" if len(vhost) > 1 else "vhostfd"] = ":".join(vhost)
    sndbuf = el.findtext("tune/sndbuf")
    if sndbuf is not None and sndbuf.strip():
        props["sndbuf"] = _int(sndbuf.strip())
    return props


def _source(el: Element) -> Element:
    src = el.find("source")
    return src if src is not None else etree.Element("source")


def _socket_props(el: Element, ntype: str) -> Props:
    src = _source(el)
    address, port = src.get("address"), _int(src.get("port"))
    if ntype == "client":
        return {"type": "socket", "connect": f"{address}:{port}"}
    if ntype == "server":
        return {"type": "socket", "listen": f"{address or ''}:{port}"}
    if ntype == "mcast":
        return {"type": "socket", "mcast": f"{address}:{port}"}
    local = src.find("local")
    local = local if local is not None else etree.Element("local")
    return {"type": "socket", "udp": f"{address}:{port}",
            "localaddr": f"{local.get('address')}:{_int(local.get('port'))}"}


def _user_props(ctx: Ctx, el: Element) -> Props:
    backend = el.find("backend")
    if backend is not None and backend.get("type") == "passt":
        state = ctx.setting("passt_state_dir") or f"{state_dir(ctx)}/passt"
        return {"type": "stream",
                "addr": {"type": "unix", "path": f"{state}/{platform.short_name(ctx)}-{_alias(el)}.socket"},
                "server": False}
    # A slirp-helper socket (-netdev socket,fd=) exists only once libvirt has started the
    # helper, which building the command line without starting the guest never does.
    props: Props = {"type": "user"}
    for ip in el.iterfind("ip"):
        addr, prefix = chardev.ip_text(ip.get("address") or ""), _int(ip.get("prefix"))
        if ":" in addr:
            props["ipv6-prefix"] = addr
            if prefix:
                props["ipv6-prefixlen"] = prefix
        else:
            props["net"] = f"{addr}/{prefix}" if prefix else addr
    return props


def hostnet_props(ctx: Ctx, el: Element, vdpa_set: int | None = None) -> Props:
    """The -netdev properties of an interface's host side (qemuBuildHostNetProps)."""
    ntype = actual_type(ctx, el)
    if el.find("script") is not None and ntype != "ethernet":
        raise InputError(ctx.path, el.sourceline, f"scripts are not supported on interfaces of type {ntype}")
    if ntype in _TAP_TYPES:
        props = _tap_props(ctx, el)
    elif ntype in ("client", "server", "mcast", "udp"):
        props = _socket_props(el, ntype)
    elif ntype == "user":
        props = _user_props(ctx, el)
    elif ntype == "internal":
        props = {"type": "user"}
    elif ntype == "vhostuser":
        props = {"type": "vhost-user", "chardev": f"char{_alias(el)}"}
        if queues(el) > 1:
            props["queues"] = queues(el)
    elif ntype == "vdpa":
        props = {"type": "vhost-vdpa", "vhostdev": f"/dev/fdset/{vdpa_set}"}
        if queues(el) > 1:
            props["queues"] = queues(el)
    else:
        props = {}
    props["id"] = f"host{_alias(el)}"
    return props


def _virtio_props(ctx: Ctx, el: Element) -> Props:
    drv = _driver(el)
    get = (lambda name: drv.get(name)) if drv is not None else (lambda name: None)
    props = address.virtio_props(ctx, el, "virtio-net", model(el) or "")
    if get("txmode") in _TX_MODE:
        props["tx"] = _TX_MODE[get("txmode")]
    for attr in ("ioeventfd", "event_idx"):
        if devutil.tristate(get(attr)) is not None:
            props[attr] = devutil.tristate(get(attr))
    for child, table in (("host", _HOST_OFFLOADS), ("guest", _GUEST_OFFLOADS)):
        off = drv.find(child) if drv is not None else None
        for attr, key in table:
            if off is not None and devutil.tristate(off.get(attr)) is not None:
                props[key] = devutil.tristate(off.get(attr))
    nq = queues(el)
    if nq > 1:
        props["mq"] = True
        addr = el.find("address")
        # CCW maps one descriptor to one queue and has no MSI-X vectors; PCI wants 2 per queue pair + 2.
        if addr is None or addr.get("type") != "ccw":
            props["vectors"] = 2 * nq + 2
    for attr in ("rx_queue_size", "tx_queue_size"):
        if _int(get(attr)):
            props[attr] = _int(get(attr))
    if devutil.tristate(get("rss")) is not None:
        props["rss"] = devutil.tristate(get("rss"))
    if devutil.tristate(get("rss_hash_report")) is not None:
        props["hash"] = devutil.tristate(get("rss_hash_report"))
    mtu = el.find("mtu")
    if mtu is not None and _int(mtu.get("size")):
        props["host_mtu"] = _int(mtu.get("size"))
    teaming = el.find("teaming")
    if teaming is not None and teaming.get("type") == "persistent":
        props["failover"] = True
    return props


def mac(ctx: Ctx, el: Element) -> str:
    """The NIC's MAC in libvirt's spelling; one libvirt would generate (52:54:00 + 3 random bytes) when none is written.

    On a host whose randomness is libvirt's test mock every random draw of 8 bits is 0;
    elsewhere a value derived from the domain stands in for the random one.
    """
    mac_el = el.find("mac")
    if (mac_el is None or not mac_el.get("address")) and ctx.host.raw.get("randomness") == "counting":
        return "52:54:00:00:00:00"
    return mac_address(el)


def boot_index(ctx: Ctx, el: Element) -> int:
    """The NIC's bootindex: its <boot order>, or for the first NIC the position of 'network' in <os><boot>."""
    devs = [b.get("dev") for b in ctx.root.iterfind("os/boot")]
    nets = list(ctx.devices.iterfind("interface"))
    if "network" in devs and nets and nets[0] is el:
        return len(devs) - devs[::-1].index("network")
    boot = el.find("boot")
    return _int(boot.get("order")) if boot is not None else 0


def nic_props(ctx: Ctx, el: Element) -> Props:
    """The -device properties of a NIC (qemuBuildNicDevProps)."""
    props = _virtio_props(ctx, el) if is_virtio(el) else {"driver": model(el)}
    name = _alias(el)
    props["netdev"] = f"host{name}"
    props["id"] = name
    props["mac"] = mac(ctx, el)
    index = boot_index(ctx, el)
    if index:
        props["bootindex"] = index
    props.update(address.props(ctx, el))
    props.update(devutil.rom_props(ctx, el))
    return props


def legacy_nic(ctx: Ctx, el: Element) -> str:
    """-net nic for a board NIC that has no -device (qemuBuildLegacyNicStr)."""
    name = _alias(el)
    nic = f"nic,macaddr={mac(ctx, el)},netdev=host{name}"
    if model(el):
        nic += f",model={model(el)}"
    return nic + f",id={name}"


def interface_args(ctx: Ctx, el: Element) -> list[str]:
    """Everything one interface adds, in libvirt's order (qemuBuildInterfaceCommandLine)."""
    ntype = actual_type(ctx, el)
    if ntype == "hostdev":
        # A passed-through NIC is a PCI host device, built with the host devices.
        return []
    out: list[str] = []
    vdpa_set = None
    if ntype == "vhostuser":
        src = chardev.source(el, chr_type=(_source(el).get("type") or "unix"))
        # A vhost-user NIC's socket mode is server or client.
        src = replace(src, listen=_source(el).get("mode") == "server")
        if src.type != "unix":
            raise InputError(ctx.path, el.sourceline, f"vhost-user type '{src.type}' not supported")
        # A fresh guest's vhost-user socket waits for its peer; NICs get no passed descriptors.
        out += chardev.backend_args(ctx, src, f"char{_alias(el)}", "net", wait=True)
    elif ntype == "vdpa":
        vdpa_set = chardev.new_fdset(ctx)
        out += ["-add-fd", f"set={vdpa_set},fd={host_fd(ctx, 'vdpa')},opaque={_alias(el)}-vdpa"]
    out += ["-netdev", netdev_arg(ctx, hostnet_props(ctx, el, vdpa_set))]
    if supports_nicdev(ctx, el):
        out += zpci_arg(ctx, el)
        out += ["-device", device_arg(ctx, nic_props(ctx, el))]
    elif ntype == "vhostuser":
        raise InputError(ctx.path, el.sourceline, "Nicdev support unavailable")
    else:
        out += zpci_arg(ctx, el)
        out += ["-net", legacy_nic(ctx, el)]
    return out


def interfaces(ctx: Ctx, cmd: Command) -> None:
    """-netdev and -device (or -net nic) per interface, in document order."""
    # Chardevs get their fd sets while libvirt prepares the domain, before any vDPA NIC is connected.
    chardev.prepare_fds(ctx)
    for el in ctx.devices.iterfind("interface"):
        cmd.add(*interface_args(ctx, el))
