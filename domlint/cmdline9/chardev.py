"""Character devices as libvirt 9.0 builds them: the chardev backend, serial, parallel, channel,
console, smartcard and usb-redir.

`backend_args` (the -add-fd / -object tls-creds-x509 / -chardev arguments of one chardev
source) is public: the monitor, TPM, RNG, vhost-user disks, GPUs and NICs describe their
host side with it too. Every -device, -object and -netdev is written by `props`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from lxml import etree

from ..cmdline.command import Command
from ..cmdline.context import Ctx
from ..errors import InputError
from ..values import parse_int
from . import address, devutil, secret
from .hostfacts import host_fd
from .props import Props, device_arg, netdev_arg, object_arg

Element = etree._Element

# What a spicevmc source carries, by the element that holds it (virDomainChrSpicevmc).
_SPICEVMC_NAME = {"channel": "vdagent", "smartcard": "smartcard", "redirdev": "usbredir"}
# The name a virtio channel for the SPICE agent gets when it writes none.
SPICE_AGENT_CHANNEL = "com.redhat.spice.0"


@dataclass(frozen=True)
class ChrSource:
    """The host side of a character device, as libvirt 9.0 holds it after parsing."""

    type: str = "pty"
    path: str | None = None            # dev, file, pipe, unix
    append: bool | None = None         # file
    host: str | None = None            # tcp
    service: str | None = None         # tcp
    listen: bool = False               # tcp and unix: the server side
    protocol: str = "raw"              # tcp: raw, telnet, telnets, tls
    tls: bool | None = None            # tcp: <source tls=...>; None: the driver's chardev_tls decides
    reconnect: int | None = None       # tcp and unix: seconds; 0 when disabled; None when unset
    connect_host: str | None = None    # udp
    connect_service: str | None = None
    bind_host: str | None = None
    bind_service: str | None = None
    channel: str | None = None         # spiceport, dbus
    spicevmc: str = "vdagent"          # spicevmc: vdagent, smartcard, usbredir
    clipboard: bool | None = None      # qemu-vdagent
    mouse: str | None = None           # qemu-vdagent: client or server
    logfile: str | None = None
    logappend: bool | None = None
    line: int | None = None


def _reconnect(src: Element) -> int | None:
    rec = src.find("reconnect")
    if rec is None:
        return None
    enabled = devutil.tristate(rec.get("enabled"))
    if enabled is None:
        return None
    return (parse_int(rec.get("timeout") or "0") or 0) if enabled else 0


def source(el: Element, chr_type: str | None = None, holder: str | None = None) -> ChrSource:
    """The chardev source an element describes with its type attribute and <source>, <log>, <protocol> children.

    `holder` names the device kind for a spicevmc source (channel, smartcard, redirdev);
    it defaults to the element's tag.
    """
    ctype = chr_type or el.get("type") or "pty"
    sources = el.findall("source")
    first = sources[0] if sources else None
    fields: dict[str, Any] = {"type": ctype, "line": el.sourceline}
    log = el.find("log")
    if log is not None:
        fields["logfile"] = log.get("file")
        fields["logappend"] = devutil.tristate(log.get("append"))
    if ctype == "udp":
        for src in sources[:2]:
            side = "bind" if src.get("mode") == "bind" else "connect"
            if fields.get(f"{side}_host") is None and fields.get(f"{side}_service") is None:
                fields[f"{side}_host"] = src.get("host")
                fields[f"{side}_service"] = src.get("service")
    elif first is not None:
        if ctype in ("file", "dev", "pipe", "unix"):
            fields["path"] = first.get("path")
        if ctype == "file":
            fields["append"] = devutil.tristate(first.get("append"))
        if ctype in ("tcp", "unix"):
            fields["listen"] = first.get("mode") == "bind"
            fields["reconnect"] = _reconnect(first)
        if ctype == "tcp":
            fields["host"] = first.get("host")
            fields["service"] = first.get("service")
            fields["tls"] = devutil.tristate(first.get("tls"))
        if ctype in ("spiceport", "dbus"):
            fields["channel"] = first.get("channel")
        if ctype == "qemu-vdagent":
            clip = first.find("clipboard")
            mouse = first.find("mouse")
            fields["clipboard"] = devutil.tristate(clip.get("copypaste")) if clip is not None else None
            fields["mouse"] = mouse.get("mode") if mouse is not None else None
    if ctype == "unix" and not fields.get("path"):
        # A UNIX socket without a path is one libvirt creates: it listens on it.
        fields["listen"] = True
    if ctype == "tcp":
        proto = el.find("protocol")
        fields["protocol"] = (proto.get("type") if proto is not None else None) or "raw"
    if ctype == "spicevmc":
        fields["spicevmc"] = _SPICEVMC_NAME.get(holder or str(el.tag), "vdagent")
    if ctype == "dbus" and not fields.get("channel") and (holder or str(el.tag)) == "redirdev":
        fields["channel"] = "org.qemu.usbredir"
    return ChrSource(**fields)


# --- descriptors libvirt opens and passes itself -------------------------------------


def new_fdset(ctx: Ctx) -> int:
    """The next fd-set id of the domain (disks, chardevs, vDPA NICs and TPMs share one counter, state 'fdset_id').

    libvirt numbers them as it opens them: disks' fd groups and chardev files while it
    prepares the domain, vDPA devices and TPMs while it builds the command line.
    """
    n = int(ctx.state.get("fdset_id", 0))
    ctx.state["fdset_id"] = n + 1
    return n


@dataclass(frozen=True)
class Passed:
    """What libvirt prepared for one chardev source before building the command line."""

    owner: str                 # the device alias, the -add-fd opaque's prefix
    source_set: int | None = None
    log_set: int | None = None
    listen_fd: int | None = None  # a listening UNIX socket libvirt opened, passed as a bare descriptor


def _alias(el: Element) -> str | None:
    a = el.find("alias")
    return a.get("name") if a is not None else None


def backcompat_console(ctx: Ctx, pos: int, console: Element) -> bool:
    """True for the first console of an HVM guest when it is only the serial port's other name."""
    target = console.find("target")
    ttype = (target.get("type") if target is not None else None) or "serial"
    return pos == 0 and ttype == "serial" and (ctx.root.findtext("os/type") or "hvm").strip() == "hvm"


def chardev_holders(ctx: Ctx) -> list[tuple[Element, Element, str]]:
    """(device, source element, kind) of every chardev that libvirt prepares fd passing for, in its device order.

    Disks, NICs and TPMs keep their sockets (libvirt passes them no descriptors); the order
    is virDomainDeviceInfoIterate's: smartcards, serials, parallels, channels, consoles,
    RNGs, shared memory, redirected USB.
    """
    dev = ctx.devices
    out: list[tuple[Element, Element, str]] = []
    for sc in dev.iterfind("smartcard"):
        if sc.get("mode") == "passthrough":
            out.append((sc, sc, "smartcard"))
    for tag in ("serial", "parallel", "channel"):
        out.extend((el, el, tag) for el in dev.iterfind(tag))
    for pos, cons in enumerate(dev.iterfind("console")):
        if not backcompat_console(ctx, pos, cons):
            out.append((cons, cons, "console"))
    for rng in dev.iterfind("rng"):
        backend = rng.find("backend")
        if backend is not None and backend.get("model") == "egd":
            out.append((rng, backend, "rng"))
    out.extend((rd, rd, "redirdev") for rd in dev.iterfind("redirdev"))
    return out


def prepare_fds(ctx: Ctx) -> dict[Element, Passed]:
    """The descriptors every chardev gets (fd sets for files and logs, bare fds for listening sockets), once."""
    done = ctx.state.get("chardev_fds")
    if done is not None:
        return done
    done = {}
    for dev, src_el, kind in chardev_holders(ctx):
        owner = _alias(dev) or ""
        src = source(src_el, holder=kind)
        source_set = new_fdset(ctx) if src.type == "file" else None
        listen_fd = (host_fd(ctx, "chardev_socket")
                     if src.type == "unix" and src.listen else None)
        log_set = new_fdset(ctx) if src.logfile else None
        done[src_el] = Passed(owner, source_set, log_set, listen_fd)
    ctx.state["chardev_fds"] = done
    return done


# --- the backend -----------------------------------------------------------------------


def _esc(value: str | None) -> str:
    """A value inside a hand-built key=value string (commas doubled, as virQEMUBuildBufferEscapeComma)."""
    return (value or "").replace(",", ",,")


def _onoff(value: bool) -> str:
    return "on" if value else "off"


def chardev_str(src: ChrSource, char_alias: str, passed: Passed | None = None, wait: bool = False,
                tls_alias: str | None = None) -> str:
    """The -chardev value of a source (qemuBuildChardevStr); `passed` tells which descriptors replace paths."""
    t = src.type
    cid = char_alias
    if t in ("null", "vc", "pty", "stdio"):
        out = f"{t},id={cid}"
    elif t == "dev":
        backend = "parallel" if cid.startswith("charparallel") else "serial"
        out = f"{backend},id={cid},path={_esc(src.path)}"
    elif t == "file":
        path, append = src.path, src.append
        if passed is not None and passed.source_set is not None:
            path, append = f"/dev/fdset/{passed.source_set}", True
        out = f"file,id={cid},path={_esc(path)}"
        if append is not None:
            out += f",append={_onoff(append)}"
    elif t == "pipe":
        out = f"pipe,id={cid},path={_esc(src.path)}"
    elif t == "udp":
        out = (f"udp,id={cid},host={src.connect_host or ''},port={src.connect_service},"
               f"localaddr={src.bind_host or ''},localport={src.bind_service or '0'}")
    elif t == "tcp":
        out = f"socket,id={cid},host={src.host},port={src.service}"
        if src.protocol == "telnet":
            out += ",telnet=on"
        if src.listen:
            out += ",server=on" + ("" if wait else ",wait=off")
        out += _reconnect_str(src)
        if tls_alias:
            out += f",tls-creds={tls_alias}"
    elif t == "unix":
        out = f"socket,id={cid}"
        if passed is not None and passed.listen_fd is not None:
            out += f",fd={passed.listen_fd}"
        else:
            out += f",path={_esc(src.path)}"
        if src.listen:
            out += ",server=on" + ("" if wait else ",wait=off")
        out += _reconnect_str(src)
    elif t == "spicevmc":
        out = f"spicevmc,id={cid},name={src.spicevmc}"
    elif t == "spiceport":
        out = f"spiceport,id={cid},name={src.channel}"
    elif t == "qemu-vdagent":
        out = f"qemu-vdagent,id={cid},name=vdagent"
        if src.clipboard is not None:
            out += f",clipboard={_onoff(src.clipboard)}"
        if src.mouse in ("client", "server"):
            out += f",mouse={_onoff(src.mouse == 'client')}"
    elif t == "dbus":
        out = f"dbus,id={cid},name={src.channel}"
    else:
        out = ""
    if src.logfile:
        path, append = src.logfile, src.logappend
        if passed is not None and passed.log_set is not None:
            path, append = f"/dev/fdset/{passed.log_set}", True
        out += f",logfile={_esc(path)}"
        if append is not None:
            out += f",logappend={_onoff(append)}"
    return out


def _reconnect_str(src: ChrSource) -> str:
    return "" if src.reconnect is None else f",reconnect={src.reconnect}"


# The device kinds whose chardevs libvirt prepares: they take the driver's chardev TLS default and key
# password (qemuDomainPrepareChardevSourceOne, qemuDomainSecretChardevPrepare), and get descriptors
# passed for files, logs and listening sockets (qemuProcessPrepareHostBackendChardevOne).
_CHARDEV_KINDS = ("serial", "parallel", "channel", "console", "smartcard", "redirdev", "rng")
# The source types QEMU has a chardev backend for.
_BACKEND_TYPES = ("null", "vc", "pty", "dev", "file", "pipe", "stdio", "udp", "tcp", "unix", "spicevmc",
                  "spiceport", "qemu-vdagent", "dbus")


def _tls_wanted(ctx: Ctx, src: ChrSource, kind: str) -> bool:
    """Whether a TCP chardev uses TLS: its own tls attribute, else the driver's chardev_tls (devices only)."""
    if src.type != "tcp" or kind not in _CHARDEV_KINDS:
        return False
    if src.tls is not None:
        return src.tls
    return bool(ctx.setting("chardev_tls", False))


def backend_args(ctx: Ctx, src: ChrSource | Element, char_alias: str, kind: str = "serial",
                 wait: bool = False) -> list[str]:
    """Everything one chardev adds: -add-fd for passed descriptors, -object for TLS, then -chardev.

    `kind` is the owning device's kind (serial, parallel, channel, console, smartcard,
    redirdev, rng, net, disk, tpm, monitor...): only character devices, smartcards, RNGs and
    USB redirection get descriptors passed or the driver's TLS default.
    """
    src_el = src if isinstance(src, etree._Element) else None
    s = src if isinstance(src, ChrSource) else source(src, holder=kind)
    if s.type not in _BACKEND_TYPES:
        raise InputError(ctx.path, s.line, f"unsupported chardev '{s.type}'")
    # Only character devices, smartcards, RNGs and USB redirection get descriptors passed
    # (and asking early would number their fd sets before the disks' own).
    passed = prepare_fds(ctx).get(src_el) if src_el is not None and kind in _CHARDEV_KINDS else None
    out: list[str] = []
    tls_alias = None
    if _tls_wanted(ctx, s, kind):
        tls_alias = f"obj{char_alias}_tls0"
        secret_alias = None
        uuid = ctx.setting("chardev_tls_x509_secret_uuid")
        if uuid and kind in _CHARDEV_KINDS:
            # The TLS key's password, encrypted with the master key, goes first.
            secret_alias = secret.alias_for(char_alias)
            value = secret.lookup(ctx, "tls", str(uuid), None, s.line)
            out += ["-object", object_arg(ctx, secret.secret_props(ctx, secret_alias, value))]
        out += ["-object", object_arg(ctx, tls_props(ctx, s, tls_alias, secret_alias))]
    if passed is not None:
        if passed.source_set is not None:
            fd = host_fd(ctx, "chardev_file")
            out += ["-add-fd", f"set={passed.source_set},fd={fd},opaque={passed.owner}-source"]
        if passed.log_set is not None:
            fd = host_fd(ctx, "chardev_log")
            out += ["-add-fd", f"set={passed.log_set},fd={fd},opaque={passed.owner}-log"]
    out += ["-chardev", chardev_str(s, char_alias, passed, wait=wait, tls_alias=tls_alias)]
    return out


def tls_props(ctx: Ctx, src: ChrSource, alias: str, secret_alias: str | None = None) -> Props:
    """The tls-creds-x509 object of a TLS chardev (the driver's chardev_tls_x509_* settings)."""
    verify = bool(ctx.setting("chardev_tls_x509_verify", False)) if src.listen else True
    props: Props = {"qom-type": "tls-creds-x509", "id": alias,
                    "dir": ctx.setting("chardev_tls_x509_cert_dir") or "/etc/pki/libvirt-chardev",
                    "endpoint": "server" if src.listen else "client", "verify-peer": verify}
    if secret_alias:
        props["passwordid"] = secret_alias
    return props


def _num(text: str | None, base: int = 0) -> int:
    value = parse_int(text or "0", base) if text else 0
    return value or 0


# --- the devices -----------------------------------------------------------------------


def target_type(el: Element) -> str | None:
    """The written target type of a serial, parallel, channel or console."""
    target = el.find("target")
    return target.get("type") if target is not None else None


def _is_virt(machine: str, base: str) -> bool:
    return machine == base or machine.startswith(base + "-")


def serial_target(ctx: Ctx, el: Element) -> tuple[str | None, str | None]:
    """A serial port's target type and model after libvirt's defaults (qemuDomainChrDefPostParse)."""
    ttype = target_type(el)
    if ttype == "isa-serial":
        ttype = None
    arch, machine = ctx.arch, ctx.machine
    arm_virt = arch in ("armv6l", "armv7l", "aarch64") and _is_virt(machine, "virt")
    riscv_virt = arch in ("riscv32", "riscv64") and _is_virt(machine, "virt")
    if ttype is None:
        if arch in ("i686", "x86_64"):
            ttype = "isa-serial"
        elif arch.startswith("ppc64") and machine.startswith("pseries"):
            ttype = "spapr-vio-serial"
        elif arm_virt or riscv_virt:
            ttype = "system-serial"
        elif arch in ("s390", "s390x"):
            ttype = "sclp-serial"
    target = el.find("target")
    model_el = target.find("model") if target is not None else None
    model = model_el.get("name") if model_el is not None else None
    if model is None:
        model = {"isa-serial": "isa-serial", "usb-serial": "usb-serial", "pci-serial": "pci-serial",
                 "spapr-vio-serial": "spapr-vty", "sclp-serial": "sclpconsole",
                 "isa-debug": "isa-debugcon"}.get(ttype or "")
        if ttype == "system-serial":
            model = "pl011" if arm_virt else "16550a" if riscv_virt else None
    return ttype, model


def _serial_is_platform(ctx: Ctx, ttype: str | None, model: str | None) -> bool:
    """True for a board's own UART (ARM pl011, RISC-V 16550a, or of no known kind): -serial chardev:."""
    if ttype == "system-serial":
        if ctx.arch in ("armv6l", "armv7l", "aarch64") and model == "pl011":
            return True
        if ctx.arch in ("riscv32", "riscv64") and model == "16550a":
            return True
    return ttype is None


# The serial models that are devices of their own.
_SERIAL_DEVICES = ("isa-serial", "usb-serial", "pci-serial", "spapr-vty", "sclpconsole", "sclplmconsole",
                   "isa-debugcon")


# The capability each serial model needs (qemuChrSerialTargetModelToCaps); isa-debugcon and 16550a need none.
_SERIAL_MODEL_CAPS = {"isa-serial": "isa-serial", "usb-serial": "usb-serial", "pci-serial": "pci-serial",
                      "spapr-vty": "spapr-vty", "sclpconsole": "s390-sclp", "sclplmconsole": "sclplmconsole",
                      "pl011": "pl011"}


def _check_serial_model(ctx: Ctx, el: Element, model: str | None) -> None:
    cap = _SERIAL_MODEL_CAPS.get(model or "")
    if cap and not ctx.has(cap):
        raise InputError(ctx.path, el.sourceline, f"'{model}' is not supported in this QEMU binary")


def serial_ports(ctx: Ctx) -> dict[Element, int]:
    """Every serial port's target port: as written, else one above the highest port so far (virDomainChrDefPostParse)."""
    serials = list(ctx.devices.iterfind("serial"))
    ports = []
    for el in serials:
        target = el.find("target")
        text = target.get("port") if target is not None else None
        value = parse_int(text, 10) if text else None
        ports.append(-1 if value is None else value)
    for i, port in enumerate(ports):
        if port == -1:
            ports[i] = max(ports) + 1
    return dict(zip(serials, ports, strict=True))


def _has_spice(ctx: Ctx) -> bool:
    return any(g.get("type") == "spice" for g in ctx.devices.iterfind("graphics"))


def serials(ctx: Ctx, cmd: Command) -> None:
    """-chardev + -device per serial port (-serial chardev: for a board's own UART)."""
    spice = _has_spice(ctx)
    ports = serial_ports(ctx)
    for el in ctx.devices.iterfind("serial"):
        # A spiceport serial only exists while SPICE does.
        if el.get("type") == "spiceport" and not spice:
            continue
        name = _alias(el) or "serial0"
        cmd.add(*backend_args(ctx, el, f"char{name}", "serial"))
        ttype, model = serial_target(ctx, el)
        _check_serial_model(ctx, el, model)
        if _serial_is_platform(ctx, ttype, model):
            cmd.add("-serial", f"chardev:char{name}")
            continue
        if model not in _SERIAL_DEVICES:
            raise InputError(ctx.path, el.sourceline, "Invalid target model for serial device")
        props: Props = {"driver": model, "chardev": f"char{name}", "id": name}
        if model == "isa-serial":
            props["index"] = ports[el]
        props.update(address.props(ctx, el))
        cmd.add("-device", device_arg(ctx, props))


def parallels(ctx: Ctx, cmd: Command) -> None:
    """-chardev + -device isa-parallel per parallel port."""
    for el in ctx.devices.iterfind("parallel"):
        name = _alias(el) or "parallel0"
        cmd.add(*backend_args(ctx, el, f"char{name}", "parallel"))
        cmd.add("-device", device_arg(ctx, {"driver": "isa-parallel", "chardev": f"char{name}", "id": name}))


def _vioserial_props(ctx: Ctx, el: Element, driver: str, name: str) -> Props:
    """virtserialport / virtconsole properties (qemuBuildVirtioSerialPortDevProps)."""
    props: Props = {"driver": driver}
    props.update(address.props(ctx, el))
    props["chardev"] = f"char{name}"
    props["id"] = name
    if el.tag == "channel":
        target = el.find("target")
        tname = target.get("name") if target is not None else None
        if el.get("type") == "spicevmc" or tname:
            props["name"] = tname or SPICE_AGENT_CHANNEL
    return props


def ip_text(text: str) -> str:
    """An IP address as libvirt prints it (virSocketAddrFormat: canonical, IPv6 compressed); unreadable text as is."""
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return text


def guestfwd_props(ctx: Ctx, el: Element, name: str) -> Props:
    """The -netdev user that forwards a guestfwd channel's guest address to its chardev."""
    target = el.find("target")
    addr = ip_text((target.get("address") if target is not None else None) or "")
    port = _num(target.get("port") if target is not None else None, 10)
    return {"type": "user", "guestfwd": [{"str": f"tcp:{addr}:{port}-chardev:char{name}"}], "id": name}


def channels(ctx: Ctx, cmd: Command) -> None:
    """-chardev, then -netdev user,guestfwd= or -device virtserialport, per channel."""
    for el in ctx.devices.iterfind("channel"):
        name = _alias(el) or "channel0"
        cmd.add(*backend_args(ctx, el, f"char{name}", "channel"))
        ttype = target_type(el)
        if ttype == "guestfwd":
            cmd.add("-netdev", netdev_arg(ctx, guestfwd_props(ctx, el, name)))
        elif ttype == "virtio":
            cmd.add("-device", device_arg(ctx, _vioserial_props(ctx, el, "virtserialport", name)))


def consoles(ctx: Ctx, cmd: Command) -> None:
    """sclp and virtio consoles; a serial console is the serial port under another name."""
    for el in ctx.devices.iterfind("console"):
        ttype = target_type(el) or "serial"
        if ttype not in ("sclp", "sclplm", "virtio"):
            continue
        name = _alias(el) or "console0"
        cmd.add(*backend_args(ctx, el, f"char{name}", "console"))
        if ttype == "virtio":
            props = _vioserial_props(ctx, el, "virtconsole", name)
        else:
            props = {"driver": "sclpconsole" if ttype == "sclp" else "sclplmconsole",
                     "chardev": f"char{name}", "id": name}
        cmd.add("-device", device_arg(ctx, props))


_DEFAULT_NSS_DB = "/etc/pki/nssdb"


def smartcards(ctx: Ctx, cmd: Command) -> None:
    """The first smartcard: ccid-card-emulated (host, host-certificates) or -chardev + ccid-card-passthru."""
    sc = ctx.devices.find("smartcard")
    if sc is None:
        return
    mode = sc.get("mode")
    name = _alias(sc) or "smartcard0"
    if mode == "host":
        props: Props = {"driver": "ccid-card-emulated", "backend": "nss-emulated"}
    elif mode == "host-certificates":
        certs = [c.text or "" for c in sc.findall("certificate")]
        certs += [""] * (3 - len(certs))
        props = {"driver": "ccid-card-emulated", "backend": "certificates",
                 "cert1": certs[0], "cert2": certs[1], "cert3": certs[2],
                 "db": (sc.findtext("database") or "").strip() or _DEFAULT_NSS_DB}
    else:
        cmd.add(*backend_args(ctx, sc, f"char{name}", "smartcard"))
        props = {"driver": "ccid-card-passthru", "chardev": f"char{name}"}
    addr = sc.find("address")
    ccid = _num(addr.get("controller"), 10) if addr is not None and addr.get("type") == "ccid" else 0
    bus = address.controller_alias(ctx, "ccid", ccid, sc)
    props["id"] = name
    props["bus"] = f"{bus}.0"
    cmd.add("-device", device_arg(ctx, props))


def _usb_version(text: str) -> int:
    """A USB version JJ.MN as BCD 0xJJMN (a one-digit minor is tenths: 1.1 is 0x0110)."""
    major, _, minor = text.partition(".")
    mj, mn = int(major, 10), int(minor, 10)
    if len(minor) == 1:
        mn *= 10
    return (mj // 10) << 12 | (mj % 10) << 8 | (mn // 10) << 4 | mn % 10


def _redir_filter(ctx: Ctx) -> str | None:
    """usb-redir's filter: class:vendor:product:version:allow per rule, -1 for any, rules joined by '|'."""
    filt = ctx.devices.find("redirfilter")
    if filt is None:
        return None
    parts = []
    for usb in filt.iterfind("usbdev"):
        fields = []
        for attr, width in (("class", 2), ("vendor", 4), ("product", 4), ("version", 4)):
            text = usb.get(attr)
            if text is None or text.strip() == "-1":
                fields.append("-1")
                continue
            value = _usb_version(text) if attr == "version" else _num(text)
            fields.append(f"0x{value:0{width}X}")
        allow = 1 if usb.get("allow") == "yes" else 0
        parts.append(":".join(fields) + f":{allow}")
    return "|".join(parts)


def redirdevs(ctx: Ctx, cmd: Command) -> None:
    """-chardev + -device usb-redir per redirected USB device."""
    filt = _redir_filter(ctx)
    for el in ctx.devices.iterfind("redirdev"):
        name = _alias(el) or "redir0"
        cmd.add(*backend_args(ctx, el, f"char{name}", "redirdev"))
        props: Props = {"driver": "usb-redir", "chardev": f"char{name}", "id": name}
        if filt is not None:
            props["filter"] = filt
        boot = el.find("boot")
        if boot is not None and _num(boot.get("order"), 10):
            props["bootindex"] = _num(boot.get("order"), 10)
        props.update(address.props(ctx, el))
        cmd.add("-device", device_arg(ctx, props))
