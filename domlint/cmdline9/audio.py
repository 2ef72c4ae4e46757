"""Audio backends as libvirt 9.0 builds them: -audiodev, and the default one libvirt adds (qemu_domain.c)."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from ..cmdline.command import Command
from ..cmdline.context import Ctx
from ..errors import InputError
from . import devutil, props

Element = etree._Element


# libvirt's audio types and QEMU's name for each backend driver.
AUDIO_DRIVERS = {"none": "none", "alsa": "alsa", "coreaudio": "coreaudio", "jack": "jack", "oss": "oss",
                 "pulseaudio": "pa", "sdl": "sdl", "spice": "spice", "file": "wav", "dbus": "dbus"}
_QEMU_TO_TYPE = {v: k for k, v in AUDIO_DRIVERS.items()}
SDL_AUDIO_DRIVERS = ("esd", "alsa", "arts", "pulseaudio")


@dataclass(frozen=True)
class Audio:
    """One audio backend: its id, libvirt type and element (None for the default libvirt adds)."""

    id: int
    type: str
    el: Element | None = None
    sdl_driver: str | None = None


def _env(ctx: Ctx, name: str) -> str | None:
    """A variable of libvirtd's environment: the run's settings.env, else the host profile's environment."""
    env = ctx.setting("env") or {}
    if name in env:
        return None if env[name] is None else str(env[name])
    value = (ctx.host.raw.get("environment") or {}).get(name)
    return None if value is None else str(value)


def default_audio(ctx: Ctx) -> Audio | None:
    """The backend libvirt adds to a domain without <audio> (qemuDomainDefSuggestDefaultAudioBackend)."""
    add, passthrough, backend = False, False, "none"
    gfx = list(ctx.devices.iterfind("graphics"))
    for g in gfx:
        gtype = g.get("type")
        if gtype == "vnc":
            passthrough = bool(ctx.setting("vnc_allow_host_audio"))
            if not passthrough:
                backend = "none"
            add = True
        elif gtype == "spice":
            passthrough, backend, add = False, "spice", True
        elif gtype == "sdl":
            passthrough, add = True, True
    if not gfx:
        passthrough = bool(ctx.setting("nogfx_allow_host_audio"))
        if not passthrough:
            backend = "none"
        add = True
    if add and passthrough:
        wanted = _env(ctx, "QEMU_AUDIO_DRV")
        if wanted is None:
            return None
        if wanted not in _QEMU_TO_TYPE and wanted not in AUDIO_DRIVERS:
            raise InputError(ctx.path, None, f"unknown QEMU_AUDIO_DRV setting {wanted}")
        backend = _QEMU_TO_TYPE.get(wanted, wanted)
    if not add:
        return None
    sdl = None
    if backend == "sdl":
        sdl = _env(ctx, "SDL_AUDIODRIVER")
        if sdl is not None and sdl not in SDL_AUDIO_DRIVERS:
            raise InputError(ctx.path, None, f"unknown SDL_AUDIODRIVER setting {sdl}")
    return Audio(1, backend, None, sdl)


def audios(ctx: Ctx) -> list[Audio]:
    """The domain's audio backends: its <audio> elements, else the one libvirt adds."""
    if "audios" in ctx.state:
        return ctx.state["audios"]
    found = [Audio(devutil.uint(ctx, el, "id", 0), el.get("type", "none"), el, el.get("driver"))
             for el in ctx.devices.iterfind("audio")]
    if not found:
        default = default_audio(ctx)
        found = [default] if default else []
    ctx.state["audios"] = found
    return found


def audio_id(ctx: Ctx, wanted: int, el: Element) -> str:
    """The -audiodev id a device refers to: audio<id> of that backend, the first one for id 0."""
    backends = audios(ctx)
    match = next((a for a in backends if a.id == wanted), None) if wanted else (backends[0] if backends else None)
    if match is None:
        raise InputError(ctx.path, el.sourceline, "unable to find audio backend for sound device")
    return f"audio{match.id}"


def _audio_common(ctx: Ctx, io: Element | None) -> props.Props:
    if io is None:
        return {}
    fixed = devutil.onoff(io, "fixedSettings")
    settings = io.find("settings")
    freq = chans = 0
    fmt = None
    if fixed and settings is not None:
        freq, chans = devutil.uint(ctx, settings, "frequency"), devutil.uint(ctx, settings, "channels")
        fmt = settings.get("format") or None
    return {"mixing-engine": devutil.onoff(io, "mixingEngine"), "fixed-settings": fixed,
            "voices": devutil.uint(ctx, io, "voices") or None, "buffer-length": devutil.uint(ctx, io, "bufferLength") or None,
            "frequency": freq or None, "channels": chans or None, "format": fmt}


def _audio_backend_io(ctx: Ctx, atype: str, io: Element | None) -> props.Props:
    """The per-direction properties of one backend type."""
    if io is None:
        return {}
    if atype == "alsa":
        return {"dev": io.get("dev")}
    if atype in ("coreaudio", "sdl"):
        return {"buffer-count": devutil.uint(ctx, io, "bufferCount") or None}
    if atype == "jack":
        return {"server-name": io.get("serverName"), "client-name": io.get("clientName"),
                "connect-ports": io.get("connectPorts"), "exact-name": devutil.onoff(io, "exactName")}
    if atype == "oss":
        return {"dev": io.get("dev"), "buffer-count": devutil.uint(ctx, io, "bufferCount") or None,
                "try-poll": devutil.onoff(io, "tryPoll")}
    if atype == "pulseaudio":
        return {"name": io.get("name"), "stream-name": io.get("streamName"),
                "latency": devutil.uint(ctx, io, "latency") or None}
    return {}


def audiodev_props(ctx: Ctx, backend: Audio) -> props.Props:
    """The -audiodev JSON of one backend (qemuBuildAudioCommandLineArg)."""
    el = backend.el
    out: props.Props = {"id": f"audio{backend.id}", "driver": AUDIO_DRIVERS.get(backend.type, backend.type)}
    if el is None:
        return out
    out["timer-period"] = devutil.uint(ctx, el, "timerPeriod") or None
    sides = {}
    for name in ("input", "output"):
        io = el.find(name)
        sides[name] = props.compact({**_audio_common(ctx, io), **_audio_backend_io(ctx, backend.type, io)})
    if backend.type == "oss":
        policy = el.get("dspPolicy")
        out.update({"try-mmap": devutil.onoff(el, "tryMMap"), "exclusive": devutil.onoff(el, "exclusive"),
                    "dsp-policy": int(policy) if policy is not None else None})
    elif backend.type == "pulseaudio":
        out["server"] = el.get("serverName")
    elif backend.type == "file":
        out["path"] = el.get("path")
    out["in"] = sides["input"] or None
    out["out"] = sides["output"] or None
    return props.compact(out)


def audio(ctx: Ctx, cmd: Command) -> None:
    """-audiodev for every backend (always JSON in 9.0), and SDL_AUDIODRIVER for an SDL one naming a driver."""
    for backend in audios(ctx):
        if backend.type == "sdl" and backend.sdl_driver:
            cmd.setenv("SDL_AUDIODRIVER", backend.sdl_driver)
        cmd.add("-audiodev", props.to_json(audiodev_props(ctx, backend)))
