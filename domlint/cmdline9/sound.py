"""Sound devices as libvirt 9.0 builds them (qemuBuildSoundCommandLine): controllers, HDA codecs, the PC speaker."""

from __future__ import annotations

from lxml import etree

from ..cmdline.command import Command
from ..cmdline.context import Ctx
from ..errors import InputError
from . import address as A
from . import devutil
from . import props as P
from .audio import audio_id

Element = etree._Element

SOUND_DEVICES = {"es1370": "ES1370", "ac97": "AC97", "ich6": "intel-hda", "usb": "usb-audio",
                 "ich9": "ich9-intel-hda", "sb16": "sb16"}
# Models whose codecs are separate devices on the controller's HDA bus.
WITH_CODECS = ("ich6", "ich9")
CODECS = {"duplex": "hda-duplex", "micro": "hda-micro", "output": "hda-output"}


def _audio_id(ctx: Ctx, sound: Element) -> str:
    return audio_id(ctx, devutil.uint(ctx, sound.find("audio"), "id", 0), sound)


def sound_props(ctx: Ctx, sound: Element) -> P.Props:
    """The -device properties of a sound controller."""
    model = sound.get("model", "")
    driver = SOUND_DEVICES.get(model)
    if driver is None:
        raise InputError(ctx.path, sound.sourceline, f"QEMU has no sound device of model '{model}'")
    audiodev = None if model in WITH_CODECS else _audio_id(ctx, sound)
    return {"driver": driver, "id": devutil.alias(sound), "audiodev": audiodev, **A.props(ctx, sound)}


def codec_props(ctx: Ctx, sound: Element, ctype: str, cad: int) -> P.Props:
    """The -device properties of one HDA codec on a controller's bus."""
    alias = devutil.alias(sound)
    return {"driver": CODECS.get(ctype, ctype), "id": f"{alias}-codec{cad}", "bus": f"{alias}.0", "cad": cad,
            "audiodev": _audio_id(ctx, sound)}


def sounds(ctx: Ctx, cmd: Command) -> None:
    """-soundhw pcspk, or the controller's -device and its codecs (a duplex one when none is given)."""
    for sound in ctx.devices.iterfind("sound"):
        model = sound.get("model", "")
        if model == "pcspk":
            cmd.add("-soundhw", "pcspk")
            continue
        P.add_device(ctx, cmd, sound_props(ctx, sound), sound)
        if model not in WITH_CODECS:
            continue
        codecs = [c.get("type", "duplex") for c in sound.iterfind("codec")] or ["duplex"]
        for cad, ctype in enumerate(codecs):
            P.add_device(ctx, cmd, codec_props(ctx, sound, ctype, cad))
