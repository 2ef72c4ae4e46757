"""Character devices: the shared -chardev / legacy argument builders, and the serial,
parallel, channel and console stages.

Other families build on `source`, `chardev_str` and `chr_arg_str`: the monitor,
smartcards, USB redirection, RNG EGD backends and vhost-user NICs all describe
their host side the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from ..errors import InputError
from ..values import parse_ipv4
from . import address, alias
from .command import Command
from .context import Ctx

# What a spicevmc source carries, by the element that holds it.
_SPICEVMC_NAME = {"channel": "vdagent", "smartcard": "smartcard", "redirdev": "usbredir"}
# Name a virtio channel without one gets (the SPICE agent's).
SPICE_AGENT_CHANNEL = "com.redhat.spice.0"
_PPC = ("ppc", "ppc64")
_ARM = ("armv7l", "aarch64")


@dataclass(frozen=True)
class ChrSource:
    """The host side of a character device, as libvirt holds it after parsing."""

    type: str = "pty"
    path: str | None = None            # dev, file, pipe, unix (pty only when live)
    host: str | None = None            # tcp: the bound or connected host
    service: str | None = None         # tcp: its port
    listen: bool = False               # tcp and unix: server side
    protocol: str = "raw"              # tcp: raw, telnet, telnets, tls
    connect_host: str | None = None    # udp
    connect_service: str | None = None
    bind_host: str | None = None
    bind_service: str | None = None
    channel: str | None = None         # spiceport
    spicevmc: str = "vdagent"          # spicevmc: vdagent, smartcard, usbredir


def source(el: etree._Element, chr_type: str | None = None) -> ChrSource:
    """The chardev source an element describes with its type attribute and <source>/<protocol> children."""
    ctype = chr_type or el.get("type") or "pty"
    path = channel = None
    mode: str | None = None
    conn: dict[str, str | None] = {"host": None, "service": None}
    bind: dict[str, str | None] = {"host": None, "service": None}
    protocol = None
    for child in el:
        if child.tag == "source":
            # The first mode seen sticks for tcp; udp reads each <source> on its own.
            if mode is None:
                mode = child.get("mode")
            if ctype in ("pty", "dev", "file", "pipe", "unix"):
                path = path or child.get("path")
            elif ctype in ("udp", "tcp"):
                side = conn if mode in (None, "connect") else bind
                for key in ("host", "service"):
                    if side[key] is None:
                        side[key] = child.get(key)
                if ctype == "udp":
                    mode = None
            elif ctype == "spiceport":
                channel = channel or child.get("channel")
        elif child.tag == "protocol" and protocol is None:
            protocol = child.get("type")
    if ctype == "tcp":
        side = conn if mode in (None, "connect") else bind
        return ChrSource(type=ctype, host=side["host"], service=side["service"],
                         listen=mode not in (None, "connect"), protocol=protocol or "raw")
    if ctype == "udp":
        return ChrSource(type=ctype, connect_host=conn["host"], connect_service=conn["service"],
                         bind_host=bind["host"], bind_service=bind["service"])
    if ctype == "unix":
        return ChrSource(type=ctype, path=path, listen=mode is not None and mode != "connect")
    if ctype == "spicevmc":
        return ChrSource(type=ctype, spicevmc=_SPICEVMC_NAME.get(str(el.tag), "vdagent"))
    return ChrSource(type=ctype, path=path, channel=channel)


def _as_source(src: ChrSource | etree._Element) -> ChrSource:
    return src if isinstance(src, ChrSource) else source(src)


# What each source type cannot do without, as ChrSource fields.
_REQUIRED = {"dev": ("path",), "file": ("path",), "pipe": ("path",), "unix": ("path",),
             "tcp": ("host", "service"), "udp": ("connect_service",), "spiceport": ("channel",)}


def _checked(ctx: Ctx, src: ChrSource | etree._Element) -> ChrSource:
    """The source, refusing one that misses what its type needs (libvirt rejects it when parsing)."""
    s = _as_source(src)
    missing = [f for f in _REQUIRED.get(s.type, ()) if getattr(s, f) is None]
    if missing:
        el = src if isinstance(src, etree._Element) else None
        raise InputError(ctx.path, el.sourceline if el is not None else None,
                         f"{s.type} character device has no source {missing[0].replace('connect_', '')}")
    return s


def chardev_str(ctx: Ctx, src: ChrSource | etree._Element, alias_name: str) -> str:
    """The -chardev value for a source whose device alias is `alias_name` (the id is 'char' + alias)."""
    s = _checked(ctx, src)
    cid = f"char{alias_name}"
    t = s.type
    if t in ("null", "vc", "pty", "stdio"):
        return f"{t},id={cid}"
    if t == "dev":
        backend = "parport" if alias_name.startswith("parallel") else "tty"
        return f"{backend},id={cid},path={s.path}"
    if t in ("file", "pipe"):
        return f"{t},id={cid},path={s.path}"
    if t == "udp":
        return (f"udp,id={cid},host={s.connect_host or ''},port={s.connect_service},"
                f"localaddr={s.bind_host or ''},localport={s.bind_service or '0'}")
    if t == "tcp":
        telnet = ",telnet" if s.protocol == "telnet" else ""
        server = ",server,nowait" if s.listen else ""
        return f"socket,id={cid},host={s.host},port={s.service}{telnet}{server}"
    if t == "unix":
        return f"socket,id={cid},path={s.path}{',server,nowait' if s.listen else ''}"
    if t == "spicevmc":
        return f"spicevmc,id={cid},name={s.spicevmc}"
    if t == "spiceport":
        return f"spiceport,id={cid},name={s.channel}"
    el = src if isinstance(src, etree._Element) else None
    raise InputError(ctx.path, el.sourceline if el is not None else None,
                     f"character device type '{t}' cannot be given to QEMU")


def chr_arg_str(ctx: Ctx, src: ChrSource | etree._Element, prefix: str = "") -> str:
    """The legacy -serial / -parallel / -monitor value for a source, after `prefix`."""
    s = _checked(ctx, src)
    t = s.type
    server = ",server,nowait" if s.listen else ""
    if t in ("null", "vc", "pty", "stdio"):
        body = t
    elif t == "dev":
        body = s.path or ""
    elif t in ("file", "pipe"):
        body = f"{t}:{s.path}"
    elif t == "udp":
        body = (f"udp:{s.connect_host or ''}:{s.connect_service}"
                f"@{s.bind_host or ''}:{s.bind_service or '0'}")
    elif t == "tcp":
        scheme = "telnet" if s.protocol == "telnet" else "tcp"
        body = f"{scheme}:{s.host}:{s.service}{server}"
    elif t == "unix":
        body = f"unix:{s.path}{server}"
    else:
        # spicevmc and spiceport have no legacy spelling.
        body = ""
    return prefix + body


# --- which spelling a device gets -------------------------------------------------------


def target_type(el: etree._Element) -> str:
    """The target type of a serial, parallel, channel or console element, defaults applied."""
    target = el.find("target")
    ttype = target.get("type") if target is not None else None
    if ttype:
        return ttype
    return {"serial": "isa-serial", "console": "serial", "channel": "none"}.get(str(el.tag), "")


def supports_chardev(ctx: Ctx, el: etree._Element) -> bool:
    """True when this device is given as -chardev plus -device rather than the legacy option."""
    if not ctx.has("chardev", "device"):
        return False
    if ctx.arch in _PPC:
        # Only pseries' spapr-vty takes a chardev property.
        return el.tag == "serial" and address.kind(el) == "spapr-vio"
    if ctx.arch not in _ARM:
        return True
    # The boards' own UARTs have no chardev property; virtio devices do.
    return address.kind(el) == "virtio-mmio" or (el.tag == "console" and target_type(el) == "virtio")


def _alias(el: etree._Element, fallback: str) -> str:
    return alias.name(el) or fallback


def _raw_vioserial(el: etree._Element) -> tuple[int, int, int] | None:
    """The virtio-serial (controller, bus, port) as written; a virtio channel without one sits on 0.0."""
    addr = el.find("address")
    if addr is not None:
        if addr.get("type") != "virtio-serial":
            return None
        # address.check_numbers has refused unreadable ones before any family runs.
        return address.address_numbers(addr, "virtio-serial")  # type: ignore[return-value]
    if el.tag == "channel" and target_type(el) == "virtio":
        return 0, 0, 0
    return None


def _vioserial_ports(ctx: Ctx, tag: str) -> dict[etree._Element, tuple[int, int, int]]:
    """Every channel's or console's virtio-serial address, with the ports libvirt fills in."""
    key = f"vioserial_{tag}"
    if key in ctx.state:
        return ctx.state[key]
    els = list(ctx.devices.iterfind(tag))
    raw = [_raw_vioserial(el) for el in els]
    done: dict[etree._Element, tuple[int, int, int]] = {}
    for i, (el, addr) in enumerate(zip(els, raw, strict=True)):
        if addr is None:
            continue
        if not addr[2]:
            # An unnumbered port goes after the highest on its bus: channels look at those
            # parsed before them, consoles at every console as numbered so far.
            seen = list(done.values())
            if tag == "console":
                seen += [a for a in raw[i + 1:] if a is not None]
            addr = (addr[0], addr[1], max((p for c, b, p in seen if (c, b) == addr[:2]), default=0) + 1)
        done[el] = addr
    ctx.state[key] = done
    return done


def vioserial_address(ctx: Ctx, el: etree._Element) -> tuple[int, int, int] | None:
    """(controller, bus, port) of a virtio channel or console on a virtio-serial bus, else None."""
    return _vioserial_ports(ctx, str(el.tag)).get(el)


def virtio_port_str(ctx: Ctx, el: etree._Element, alias_name: str) -> str:
    """The -device value of a virtio channel or console (virtserialport, virtconsole, legacy spicevmc)."""
    src_type = el.get("type") or "pty"
    legacy_spicevmc = el.tag == "channel" and src_type == "spicevmc" and ctx.has("device-spicevmc")
    kind = "virtconsole" if el.tag == "console" else "spicevmc" if legacy_spicevmc else "virtserialport"
    parts = [kind]
    vio = vioserial_address(ctx, el)
    if vio is not None:
        parts.append(f"bus=virtio-serial{vio[0]}.{vio[1]}")
        parts.append(f"nr={vio[2]}")
    if legacy_spicevmc:
        parts.append(f"id={alias_name}")
    else:
        parts.append(f"chardev=char{alias_name}")
        parts.append(f"id={alias_name}")
        if el.tag == "channel":
            target = el.find("target")
            name = target.get("name") if target is not None else None
            parts.append(f"name={name or SPICE_AGENT_CHANNEL}")
    return ",".join(parts)


def serial_device_str(ctx: Ctx, el: etree._Element, alias_name: str) -> str:
    """The -device value of a serial port: spapr-vty on pseries, else isa-serial or usb-serial."""
    if ctx.arch == "ppc64" and ctx.machine == "pseries":
        return f"spapr-vty,chardev=char{alias_name}" + address.suffix(ctx, el)
    ttype = target_type(el)
    dev = f"{ttype},chardev=char{alias_name},id={alias_name}"
    if ttype == "usb-serial":
        dev += address.suffix(ctx, el)
    return dev


def parallel_device_str(alias_name: str) -> str:
    """The -device value of a parallel port."""
    return f"isa-parallel,chardev=char{alias_name},id={alias_name}"


def guestfwd_str(ctx: Ctx, el: etree._Element, alias_name: str) -> str:
    """The -netdev value that forwards a guest TCP address to a guestfwd channel's chardev."""
    target = el.find("target")
    text = target.get("address") if target is not None else None
    addr = parse_ipv4(text or "")
    if addr is None:
        raise InputError(ctx.path, el.sourceline, f"guestfwd channel address '{text}' is not an IPv4 address")
    port = address.number(ctx, target, "port")
    return f"user,guestfwd=tcp:{addr}:{port}-chardev:char{alias_name},id=user-{alias_name}"


def console_device_str(ctx: Ctx, el: etree._Element, alias_name: str) -> str | None:
    """The -device value of a console that is its own device (sclp or virtio), else None."""
    ttype = target_type(el)
    if ttype in ("sclp", "sclplm"):
        name = "sclpconsole" if ttype == "sclp" else "sclplmconsole"
        return f"{name},chardev=char{alias_name},id={alias_name}"
    if ttype == "virtio":
        return virtio_port_str(ctx, el, alias_name)
    return None


# --- stages --------------------------------------------------------------------------


def _has_spice(ctx: Ctx) -> bool:
    return any(g.get("type") == "spice" for g in ctx.devices.iterfind("graphics"))


def serials(ctx: Ctx, cmd: Command) -> None:
    """-chardev + -device per serial port, or -serial; -serial none when there is none and no -nodefaults."""
    spice = _has_spice(ctx)
    emitted = 0
    for i, el in enumerate(ctx.devices.iterfind("serial")):
        # A spiceport serial only exists while SPICE does.
        if el.get("type") == "spiceport" and not spice:
            continue
        name = _alias(el, f"serial{i}")
        if supports_chardev(ctx, el):
            cmd.add("-chardev", chardev_str(ctx, el, name), "-device", serial_device_str(ctx, el, name))
        else:
            cmd.add("-serial", chr_arg_str(ctx, el))
        emitted += 1
    if not emitted and not ctx.has("device"):
        cmd.add("-serial", "none")


def parallels(ctx: Ctx, cmd: Command) -> None:
    """-chardev + -device isa-parallel per parallel port, or -parallel; -parallel none without -nodefaults."""
    ports = list(ctx.devices.iterfind("parallel"))
    if not ports:
        if not ctx.has("device"):
            cmd.add("-parallel", "none")
        return
    for i, el in enumerate(ports):
        name = _alias(el, f"parallel{i}")
        if ctx.has("chardev", "device"):
            cmd.add("-chardev", chardev_str(ctx, el, name), "-device", parallel_device_str(name))
        else:
            cmd.add("-parallel", chr_arg_str(ctx, el))


def channels(ctx: Ctx, cmd: Command) -> None:
    """guestfwd channels (-chardev + -netdev user) and virtio channels (-chardev + -device)."""
    for i, el in enumerate(ctx.devices.iterfind("channel")):
        name = _alias(el, f"channel{i}")
        ttype = target_type(el)
        if ttype == "guestfwd":
            cmd.add("-chardev", chardev_str(ctx, el, name), "-netdev", guestfwd_str(ctx, el, name))
        elif ttype == "virtio":
            # QEMUs with the old spicevmc device keep the SPICE agent inside the device.
            if not (el.get("type") == "spicevmc" and ctx.has("device-spicevmc")):
                cmd.add("-chardev", chardev_str(ctx, el, name))
            cmd.add("-device", virtio_port_str(ctx, el, name))


def consoles(ctx: Ctx, cmd: Command) -> None:
    """virtio and sclp consoles; a serial-type console is only another name for the first serial port."""
    for i, el in enumerate(ctx.devices.iterfind("console")):
        name = _alias(el, f"console{i}")
        dev = console_device_str(ctx, el, name)
        if dev is not None:
            cmd.add("-chardev", chardev_str(ctx, el, name), "-device", dev)
