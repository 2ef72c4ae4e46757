"""Display and sound as libvirt 9.0 builds them: -audiodev, -vnc/-spice/-display, video and sound devices.

Video devices live in `video.py` and sound devices in `sound.py`; the stages
are re-exported here, where `order.py` looks for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from ..cmdline.command import Command
from ..cmdline.context import Ctx
from ..cmdline.graphics import SPICE_CHANNELS, SPICE_TUNING
from ..errors import HostFactMissing, InputError
from . import devutil, hostfacts, platform, secret
from . import props as P
from .audio import audio, audio_id
from .sound import sounds
from .video import videos

__all__ = ["audio", "audio_id", "graphics", "sounds", "videos"]

Element = etree._Element

# ---------------------------------------------------------------------------- graphics

VNC_PORT_MIN = 5900
# The ports libvirt's pretend start (domxml-to-native, its tests) gives automatic VNC and SPICE ports.
PRETEND_VNC_PORT = 5900
PRETEND_SPICE_PORT, PRETEND_SPICE_TLS_PORT = 5901, 5902
# The TLS credentials object of the VNC server.
TLS_ALIAS = "vnc-tls-creds0"


@dataclass
class Listen:
    """The first listen of a VNC or SPICE display after libvirt's parsing and start-up preparation."""

    type: str
    address: str | None = None
    socket: str | None = None


def _parsed_listen(gfx: Element) -> Listen:
    """The first listen as the parser leaves it (virDomainGraphicsListensParseXML)."""
    gtype = gfx.get("type")
    compat_socket = gfx.get("socket") if gtype == "vnc" else None
    first = gfx.find("listen")
    if first is None:
        if compat_socket:
            return Listen("socket", socket=compat_socket)
        return Listen("address", address=gfx.get("listen") or None)
    ltype = first.get("type", "address")
    if ltype in ("address", "network") and compat_socket:
        return Listen("socket", socket=compat_socket)
    if ltype == "address":
        # The graphics element's listen attribute stands in only for a missing address attribute.
        address = first.get("address") if first.get("address") is not None else gfx.get("listen")
        return Listen("address", address=address or None)
    if ltype == "network":
        # The address of a network listen is only kept from live XML; the network gives it at start.
        return Listen("network", address=first.get("network") or None)
    if ltype == "socket":
        return Listen("socket", socket=first.get("socket") or compat_socket or None)
    return Listen(ltype)


def listen(ctx: Ctx, gfx: Element) -> Listen:
    """The first listen of a display as QEMU gets it (post-parse path check, qemuProcessGraphicsSetupListen)."""
    gtype = gfx.get("type", "")
    lst = _parsed_listen(gfx)
    if gtype == "spice" and lst.type == "address" and _spice_parsed_ports(ctx, gfx) == (0, 0, False):
        # SPICE without ports and autoport listens nowhere (virDomainDefPostParseGraphics).
        lst = Listen("none")
    lib_dir = hostfacts.lib_dir(ctx)
    if gtype == "vnc" and lst.type == "socket" and lst.socket and lst.socket.startswith(lib_dir):
        # A socket under the lib dir was made up by an older libvirt: listen on an address instead.
        lst = Listen("address")
    use_socket = bool(ctx.setting(f"{gtype}_auto_unix_socket"))
    listen_addr = ctx.setting(f"{gtype}_listen")
    if lst.type == "address" and not lst.address:
        if use_socket:
            lst = Listen("socket", socket=f"{platform.domain_lib_dir(ctx)}/{gtype}.sock")
        elif listen_addr:
            lst.address = str(listen_addr)
    elif lst.type == "network":
        network = lst.address
        lst = Listen("network")
        if network:
            known = (ctx.host.raw.get("networks") or {}).get(network) or {}
            if not known.get("address"):
                # The address of a libvirt network is its bridge's on the host: the network driver's.
                raise HostFactMissing(ctx.path, gfx.sourceline, f"graphics listen on network '{network}', whose "
                                      "address the host's network driver gives", "networks")
            lst.address = str(known["address"])
        elif listen_addr:
            lst.address = str(listen_addr)
    elif lst.type == "socket" and not lst.socket:
        lst.socket = f"{platform.domain_lib_dir(ctx)}/{gtype}.sock"
    return lst


def _int_attr(ctx: Ctx, el: Element, attr: str) -> int | None:
    text = el.get(attr)
    if text is None:
        return None
    try:
        return int(text.strip(), 10)
    except ValueError:
        raise InputError(ctx.path, el.sourceline, f"cannot parse {el.get('type')} {attr} {text}") from None


def escape_comma(text: str) -> str:
    """A value inside a QEMU option string, commas doubled."""
    return text.replace(",", ",,")


def render_node(ctx: Ctx) -> str:
    """The host's DRM render node libvirt picks when a display wants one and names none."""
    return str(ctx.host.raw.get("drm_render_node") or "/dev/dri/renderD128")


def _vnc(ctx: Ctx, cmd: Command, gfx: Element) -> None:
    lst = listen(ctx, gfx)
    audio_el = gfx.find("audio")
    audiodev = audio_id(ctx, devutil.uint(ctx, audio_el, "id", 0), gfx)
    port = _int_attr(ctx, gfx, "port")
    autoport = port is None or port == -1
    if gfx.get("autoport") is not None:
        autoport = gfx.get("autoport") == "yes"
    opt = ""
    if lst.type == "socket":
        opt = "vnc=unix:" + escape_comma(lst.socket or "")
    elif lst.type in ("address", "network"):
        if autoport:
            port = PRETEND_VNC_PORT
        if port is None or port < VNC_PORT_MIN or port > 65535:
            raise InputError(ctx.path, gfx.sourceline, "vnc port must be in range [5900,65535]")
        if lst.address:
            opt = f"[{lst.address}]" if ":" in lst.address else lst.address
        opt += f":{port - VNC_PORT_MIN}"
        websocket = _int_attr(ctx, gfx, "websocket") or 0
        if websocket:
            opt += f",websocket={websocket}"
    elif lst.type == "none":
        opt = "none"
    share = gfx.get("sharePolicy")
    if share and share != "default":
        opt += f",share={share}"
    if gfx.get("passwd") is not None or ctx.setting("vnc_password"):
        opt += ",password=on"
    if ctx.setting("vnc_tls"):
        _vnc_tls(ctx, cmd)
        opt += f",tls-creds={TLS_ALIAS}"
    if ctx.setting("vnc_sasl"):
        opt += ",sasl=on"
        if ctx.setting("vnc_sasl_dir"):
            cmd.setenv("SASL_CONF_PATH", str(ctx.setting("vnc_sasl_dir")))
    power = devutil.onoff(gfx, "powerControl")
    if power is not None:
        opt += f",power-control={'on' if power else 'off'}"
    opt += f",audiodev={audiodev}"
    cmd.add("-vnc", opt)
    if gfx.get("keymap") is not None:
        cmd.add("-k", gfx.get("keymap", ""))


def _vnc_tls(ctx: Ctx, cmd: Command) -> None:
    """The TLS credentials object of the VNC server (and the secret of its key, when configured)."""
    secret_uuid = ctx.setting("vnc_tls_x509_secret_uuid")
    secret_alias = None
    if secret_uuid:
        # The key's password travels AES-encrypted under the master key (qemuDomainSecretInfoTLSNew).
        secret_alias = secret.alias_for(TLS_ALIAS)
        value = secret.lookup(ctx, "tls", str(secret_uuid), None)
        P.add_object(ctx, cmd, secret.secret_props(ctx, secret_alias, value))
    P.add_object(ctx, cmd, {"qom-type": "tls-creds-x509", "id": TLS_ALIAS,
                                  "dir": str(ctx.setting("vnc_tls_x509_cert_dir")), "endpoint": "server",
                                  "verify-peer": bool(ctx.setting("vnc_tls_x509_verify")),
                                  "passwordid": secret_alias})


def _first_attr(gfx: Element, tag: str, attr: str) -> str | None:
    el = gfx.find(tag)
    return el.get(attr) if el is not None else None


def _spice_parsed_ports(ctx: Ctx, gfx: Element) -> tuple[int, int, bool]:
    """The SPICE port, TLS port and autoport as parsed from an inactive definition."""
    port = _int_attr(ctx, gfx, "port") or 0
    tls_port = _int_attr(ctx, gfx, "tlsPort") or 0
    autoport = gfx.get("autoport") == "yes" or (port == -1 and tls_port == -1)
    if autoport:
        port = tls_port = 0
    return port, tls_port, autoport


def _spice_ports(ctx: Ctx, gfx: Element) -> tuple[int, int]:
    """The SPICE port and TLS port after parsing and the pretend start's automatic allocation."""
    port, tls_port, autoport = _spice_parsed_ports(ctx, gfx)
    lst = listen(ctx, gfx)
    if lst.type not in ("address", "network"):
        return port, tls_port
    need_port = need_tls = False
    if autoport:
        modes = _spice_channel_modes(gfx).values()
        need_tls = "secure" in modes
        need_port = "insecure" in modes
        default = gfx.get("defaultMode", "any")
        if default == "secure":
            need_tls = True
        elif default == "insecure":
            need_port = True
        else:
            need_tls = need_tls or bool(ctx.setting("spice_tls"))
            need_port = True
    if need_port or port == -1:
        port = PRETEND_SPICE_PORT
    if need_tls or tls_port == -1:
        tls_port = PRETEND_SPICE_TLS_PORT
    return port, tls_port


def _spice_channel_modes(gfx: Element) -> dict[str, str]:
    modes: dict[str, str] = {}
    for ch in gfx.iterfind("channel"):
        name, mode = ch.get("name"), ch.get("mode")
        if name in SPICE_CHANNELS and mode:
            modes[name] = mode
    return modes


def _spice(ctx: Ctx, cmd: Command, gfx: Element) -> None:
    lst = listen(ctx, gfx)
    port, tls_port = _spice_ports(ctx, gfx)
    parts: list[str] = []
    secure = insecure = False
    if lst.type == "socket":
        parts.append("unix,addr=" + escape_comma(lst.socket or ""))
        insecure = True
    elif lst.type in ("address", "network"):
        if port > 0:
            parts.append(f"port={port}")
            insecure = True
        if tls_port > 0:
            parts.append(f"tls-port={tls_port}")
            secure = True
        if (port > 0 or tls_port > 0) and lst.address:
            parts.append(f"addr={lst.address}")
    elif lst.type == "none":
        parts.append("port=0")
        insecure = True
    if ctx.setting("spice_sasl"):
        parts.append("sasl=on")
        if ctx.setting("spice_sasl_dir"):
            cmd.setenv("SASL_CONF_PATH", str(ctx.setting("spice_sasl_dir")))
    mouse = _first_attr(gfx, "mouse", "mode")
    if mouse in ("server", "client"):
        parts.append(f"agent-mouse={'off' if mouse == 'server' else 'on'}")
    # A password is set over the monitor, never on the command line.
    if gfx.get("passwd") is None and not ctx.setting("spice_password"):
        parts.append("disable-ticketing=on")
    if secure:
        parts.append("x509-dir=" + escape_comma(str(ctx.setting("spice_tls_x509_cert_dir"))))
    default = gfx.get("defaultMode")
    if default == "secure":
        if not secure:
            raise InputError(ctx.path, gfx.sourceline, "spice defaultMode secure requested in XML configuration, "
                                                       "but TLS connection is not available")
        parts.append("tls-channel=default")
    elif default == "insecure":
        if not insecure:
            raise InputError(ctx.path, gfx.sourceline, "spice defaultMode insecure requested in XML configuration, "
                                                       "but plaintext connection is not available")
        parts.append("plaintext-channel=default")
    modes = _spice_channel_modes(gfx)
    for name in SPICE_CHANNELS:
        mode = modes.get(name)
        if mode == "secure":
            if not secure:
                raise InputError(ctx.path, gfx.sourceline, "spice secure channels set in XML configuration, "
                                                           "but TLS connection is not available")
            parts.append(f"tls-channel={name}")
        elif mode == "insecure":
            if not insecure:
                raise InputError(ctx.path, gfx.sourceline, "spice insecure channels set in XML configuration, "
                                                           "but plaintext connection is not available")
            parts.append(f"plaintext-channel={name}")
    for tag, attr, key in SPICE_TUNING:
        value = _first_attr(gfx, tag, attr)
        if value and value != "default":
            parts.append(f"{key}={value}")
    if devutil.onoff(gfx.find("clipboard"), "copypaste") is False:
        parts.append("disable-copy-paste=on")
    if devutil.onoff(gfx.find("filetransfer"), "enable") is False:
        parts.append("disable-agent-file-xfer=on")
    gl = gfx.find("gl")
    if devutil.onoff(gl, "enable"):
        parts.append("gl=on")
        node = gl.get("rendernode") if gl is not None else None
        if not node and ctx.has("spice-rendernode"):
            node = render_node(ctx)
        if node:
            parts.append("rendernode=" + escape_comma(node))
    parts.append("seamless-migration=on")
    cmd.add("-spice", ",".join(parts))
    if gfx.get("keymap") is not None:
        cmd.add("-k", gfx.get("keymap", ""))


def _sdl(ctx: Ctx, cmd: Command, gfx: Element) -> None:
    if gfx.get("xauth"):
        cmd.setenv("XAUTHORITY", gfx.get("xauth", ""))
    if gfx.get("display"):
        cmd.setenv("DISPLAY", gfx.get("display", ""))
    if gfx.get("fullscreen") == "yes":
        cmd.add("-full-screen")
    opt = "sdl"
    gl = devutil.onoff(gfx.find("gl"), "enable")
    if gl is not None:
        opt += f",gl={'on' if gl else 'off'}"
    cmd.add("-display", opt)


def _egl_headless(ctx: Ctx, cmd: Command, gfx: Element) -> None:
    opt = "egl-headless"
    node = _first_attr(gfx, "gl", "rendernode")
    if not node and ctx.has("egl-headless.rendernode"):
        node = render_node(ctx)
    if node:
        opt += ",rendernode=" + escape_comma(node)
    cmd.add("-display", opt)


def dbus_address(ctx: Ctx) -> str:
    """The D-Bus address libvirt makes up for a display without one (qemuDBusGetAddress)."""
    return f"unix:path={hostfacts.state_dir(ctx)}/dbus/{platform.short_name(ctx)}-dbus.sock"


def _dbus(ctx: Ctx, cmd: Command, gfx: Element) -> None:
    opt = "dbus"
    if devutil.onoff(gfx, "p2p"):
        opt += ",p2p=on"
    else:
        opt += ",addr=" + escape_comma(gfx.get("address") or dbus_address(ctx))
    gl_el = gfx.find("gl")
    gl = devutil.onoff(gl_el, "enable")
    if gl is not None:
        opt += f",gl={'on' if gl else 'off'}"
    node = gl_el.get("rendernode") if gl_el is not None else None
    if not node and gl:
        node = render_node(ctx)
    if node:
        opt += ",rendernode=" + escape_comma(node)
    audio_el = gfx.find("audio")
    if audio_el is not None and devutil.uint(ctx, audio_el, "id", 0) > 0:
        opt += f",audiodev={audio_id(ctx, devutil.uint(ctx, audio_el, 'id', 0), gfx)}"
    cmd.add("-display", opt)


_BUILDERS = {"sdl": _sdl, "vnc": _vnc, "spice": _spice, "egl-headless": _egl_headless, "dbus": _dbus}


def graphics(ctx: Ctx, cmd: Command) -> None:
    """-vnc, -spice (with -k), -display sdl/egl-headless/dbus for each <graphics>, in domain order."""
    for gfx in ctx.devices.iterfind("graphics"):
        build = _BUILDERS.get(gfx.get("type", ""))
        if build is None:
            raise InputError(ctx.path, gfx.sourceline, f"QEMU has no '{gfx.get('type')}' graphics")
        build(ctx, cmd, gfx)
