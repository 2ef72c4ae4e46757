"""Sound cards: -device per card (intel-hda and ich9-intel-hda with their codecs), or one -soundhw list."""

from __future__ import annotations

from lxml import etree

from ..errors import InputError
from . import address, alias
from .command import Command
from .context import Ctx

# libvirt's sound models as QEMU's device names (pcspk is no -device: it keeps -soundhw).
_DEVICE = {"es1370": "ES1370", "ac97": "AC97", "ich6": "intel-hda", "ich9": "ich9-intel-hda",
           "sb16": "sb16", "usb": "usb-audio"}
_HDA = ("ich6", "ich9")
_CODEC = {"duplex": "hda-duplex", "micro": "hda-micro"}


def sound_dev_str(ctx: Ctx, sound: etree._Element) -> str:
    """The -device argument of a sound card."""
    model = sound.get("model", "")
    if model not in _DEVICE:
        raise InputError(ctx.path, sound.sourceline, f"QEMU has no -device for sound model '{model}'")
    return f"{_DEVICE[model]},id={alias.name(sound) or ''}" + address.suffix(ctx, sound)


def codec_strs(sound: etree._Element) -> list[str]:
    """The -device arguments of an HDA card's codecs; a card that lists none gets one duplex codec."""
    name = alias.name(sound) or ""
    types = [c.get("type", "") for c in sound.iterfind("codec")] or ["duplex"]
    # Codec addresses (cad) are the codecs' positions on the card.
    return [f"{_CODEC.get(t, t)},id={name}-codec{cad},bus={name}.0,cad={cad}" for cad, t in enumerate(types)]


def sounds(ctx: Ctx, cmd: Command) -> None:
    """Append the sound cards in document order."""
    cards = list(ctx.devices.iterfind("sound"))
    if not cards:
        return
    if not ctx.has("device"):
        for card in cards:
            if card.get("model") in _HDA:
                raise InputError(ctx.path, card.sourceline, "an HDA sound card needs a QEMU with -device")
        cmd.add("-soundhw", ",".join(c.get("model", "") for c in cards))
        return
    for card in cards:
        if card.get("model") == "pcspk":
            cmd.add("-soundhw", "pcspk")
            continue
        cmd.add("-device", sound_dev_str(ctx, card))
        if card.get("model") in _HDA:
            for codec in codec_strs(card):
                cmd.add("-device", codec)
