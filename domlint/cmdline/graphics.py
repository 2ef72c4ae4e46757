"""Graphics: -nographic, -sdl, -vnc and -spice, with the environment each sets."""

from __future__ import annotations

from lxml import etree

from ..errors import InputError
from .command import Command
from .context import Ctx

# SPICE channel names in the order libvirt writes their modes.
SPICE_CHANNELS = ("main", "display", "inputs", "cursor", "playback", "record", "smartcard", "usbredir")
# The spice sub-elements that tune it, as (element, attribute, -spice option); 9.0's emitter reads the same.
SPICE_TUNING = (("image", "compression", "image-compression"), ("jpeg", "compression", "jpeg-wan-compression"),
                ("zlib", "compression", "zlib-glz-wan-compression"),
                ("playback", "compression", "playback-compression"), ("streaming", "mode", "streaming-video"))
_VNC_BASE_PORT = 5900


def _graphics(ctx: Ctx) -> list[etree._Element]:
    return list(ctx.devices.iterfind("graphics"))


def _pass_env(ctx: Ctx, cmd: Command, name: str) -> None:
    """Pass a variable through from the host's environment, when the host has it set."""
    value = (ctx.host.raw.get("environment") or {}).get(name)
    if value is not None:
        cmd.setenv(name, str(value))


def _int(text: str | None, default: int = 0) -> int:
    try:
        return int(text, 10) if text is not None else default
    except ValueError:
        return default


def nographic(ctx: Ctx, cmd: Command) -> None:
    """-nographic and a silent audio backend when the domain has no graphics at all."""
    if _graphics(ctx):
        return
    cmd.add("-nographic")
    if ctx.setting("nogfx_allow_host_audio"):
        _pass_env(ctx, cmd, "QEMU_AUDIO_DRV")
    else:
        cmd.setenv("QEMU_AUDIO_DRV", "none")


def listen_address(ctx: Ctx, gfx: etree._Element) -> str | None:
    """The address a VNC or SPICE server listens on, from <listen> or the listen attribute, else None."""
    listens = list(gfx.iterfind("listen"))
    if not listens:
        return gfx.get("listen") or None
    first = listens[0]
    ltype = first.get("type")
    if ltype == "address":
        return first.get("address") or None
    if ltype == "network" and first.get("network"):
        net = first.get("network")
        known = (ctx.host.raw.get("networks") or {}).get(net) or {}
        if not known.get("address"):
            raise InputError(ctx.path, first.sourceline,
                             f"graphics listen network '{net}': the host profile gives it no address")
        return str(known["address"])
    return None


def vnc_port(gfx: etree._Element) -> int:
    """The VNC port a domain definition asks for (0 when libvirt picks one at start)."""
    port = gfx.get("port")
    if port is None or gfx.get("autoport") == "yes":
        return 0
    value = _int(port)
    return 0 if value == -1 else value


def vnc_str(ctx: Ctx, gfx: etree._Element, cmd: Command | None = None) -> str:
    """The -vnc value; adds SASL_CONF_PATH to `cmd` when SASL has a configuration directory."""
    socket = gfx.get("socket")
    if not socket and ctx.setting("vnc_auto_unix_socket"):
        lib_dir = ctx.setting("lib_dir", "/var/lib/libvirt/qemu")
        socket = f"{lib_dir}/{ctx.root.findtext('name') or ''}.vnc"
    display = vnc_port(gfx) - _VNC_BASE_PORT
    colon = ctx.has("vnc-colon")
    if socket:
        opt = f"unix:{socket}"
    elif colon:
        addr = listen_address(ctx, gfx) or ctx.setting("vnc_listen") or ""
        opt = f"[{addr}]:{display}" if ":" in addr else f"{addr}:{display}"
    else:
        opt = str(display)
    if not colon:
        return opt
    websocket = gfx.get("websocket")
    if not socket and websocket and _int(websocket):
        opt += f",websocket={_int(websocket)}"
    share = gfx.get("sharePolicy")
    if share and share != "default":
        opt += f",share={share}"
    if gfx.get("passwd") is not None or ctx.setting("vnc_password"):
        opt += ",password"
    if ctx.setting("vnc_tls"):
        cert_dir = ctx.setting("vnc_tls_x509_cert_dir")
        key = "x509verify" if ctx.setting("vnc_tls_x509_verify") else "x509"
        opt += f",tls,{key}={cert_dir}"
    if ctx.setting("vnc_sasl"):
        opt += ",sasl"
        if ctx.setting("vnc_sasl_dir") and cmd is not None:
            cmd.setenv("SASL_CONF_PATH", str(ctx.setting("vnc_sasl_dir")))
    return opt


def _spice_ports(gfx: etree._Element) -> tuple[int, int]:
    port, tls_port = _int(gfx.get("port")), _int(gfx.get("tlsPort"))
    if gfx.get("autoport") == "yes" or (port == -1 and tls_port == -1):
        return 0, 0
    return port, tls_port


def spice_channel_modes(gfx: etree._Element) -> dict[str, str]:
    """Channel name to its mode (secure / insecure / any); the last <channel> for a name wins."""
    modes: dict[str, str] = {}
    for ch in gfx.iterfind("channel"):
        name, mode = ch.get("name"), ch.get("mode")
        if name in SPICE_CHANNELS and mode:
            modes[name] = mode
    return modes


def _last_attr(gfx: etree._Element, tag: str, attr: str) -> str | None:
    value = None
    for el in gfx.iterfind(tag):
        if el.get(attr) is not None:
            value = el.get(attr)
    return value


def spice_str(ctx: Ctx, gfx: etree._Element, cmd: Command | None = None) -> str:
    """The -spice value; adds SASL_CONF_PATH to `cmd` when SASL has a configuration directory."""
    port, tls_port = _spice_ports(gfx)
    parts: list[str] = []
    if port > 0 or tls_port <= 0:
        parts.append(f"port={port}")
    if tls_port > 0:
        parts.append(f"tls-port={tls_port}")
    if ctx.setting("spice_sasl"):
        parts.append("sasl")
        if ctx.setting("spice_sasl_dir") and cmd is not None:
            cmd.setenv("SASL_CONF_PATH", str(ctx.setting("spice_sasl_dir")))
    addr = listen_address(ctx, gfx) or ctx.setting("spice_listen")
    if addr:
        parts.append(f"addr={addr}")
    mouse = _last_attr(gfx, "mouse", "mode")
    if mouse in ("server", "client"):
        parts.append(f"agent-mouse={'off' if mouse == 'server' else 'on'}")
    # A password is set over the monitor, never on the command line.
    if gfx.get("passwd") is None and not ctx.setting("spice_password"):
        parts.append("disable-ticketing")
    if tls_port > 0:
        parts.append(f"x509-dir={ctx.setting('spice_tls_x509_cert_dir')}")
    default_mode = gfx.get("defaultMode")
    if default_mode == "secure":
        parts.append("tls-channel=default")
    elif default_mode == "insecure":
        parts.append("plaintext-channel=default")
    modes = spice_channel_modes(gfx)
    for name in SPICE_CHANNELS:
        if modes.get(name) == "secure":
            parts.append(f"tls-channel={name}")
        elif modes.get(name) == "insecure":
            parts.append(f"plaintext-channel={name}")
    for tag, attr, key in SPICE_TUNING:
        value = _last_attr(gfx, tag, attr)
        if value and value != "default":
            parts.append(f"{key}={value}")
    if _last_attr(gfx, "clipboard", "copypaste") == "no":
        parts.append("disable-copy-paste")
    if _last_attr(gfx, "filetransfer", "enable") == "no":
        parts.append("disable-agent-file-xfer")
    if ctx.has("seamless-migration"):
        parts.append("seamless-migration=on")
    return ",".join(parts)


def _sdl(ctx: Ctx, gfx: etree._Element, cmd: Command) -> None:
    if gfx.get("xauth"):
        cmd.setenv("XAUTHORITY", gfx.get("xauth", ""))
    if gfx.get("display"):
        cmd.setenv("DISPLAY", gfx.get("display", ""))
    if gfx.get("fullscreen") == "yes":
        cmd.add("-full-screen")
    # SDL plays sound through the host, so libvirt passes its own audio settings on.
    _pass_env(ctx, cmd, "QEMU_AUDIO_DRV")
    _pass_env(ctx, cmd, "SDL_AUDIODRIVER")
    if ctx.has("sdl"):
        cmd.add("-sdl")


def graphics(ctx: Ctx, cmd: Command) -> None:
    """-sdl (with XAUTHORITY, DISPLAY), -vnc and -spice (with -k and QEMU_AUDIO_DRV), in domain order."""
    for gfx in _graphics(ctx):
        gtype = gfx.get("type")
        if gtype == "sdl":
            _sdl(ctx, gfx, cmd)
        elif gtype == "vnc":
            cmd.add("-vnc", vnc_str(ctx, gfx, cmd))
            if gfx.get("keymap"):
                cmd.add("-k", gfx.get("keymap", ""))
            # VNC clients get no sound; keep QEMU away from the host's audio devices.
            if ctx.setting("vnc_allow_host_audio"):
                _pass_env(ctx, cmd, "QEMU_AUDIO_DRV")
            else:
                cmd.setenv("QEMU_AUDIO_DRV", "none")
        elif gtype == "spice":
            cmd.add("-spice", spice_str(ctx, gfx, cmd))
            if gfx.get("keymap"):
                cmd.add("-k", gfx.get("keymap", ""))
            cmd.setenv("QEMU_AUDIO_DRV", "spice")
        else:
            raise InputError(ctx.path, gfx.sourceline, f"QEMU has no '{gtype}' graphics")
