"""Sound cards: -device per card with HDA codecs, or one -soundhw list."""

from __future__ import annotations

from emit_helpers import domain
from family_ctx import ctx_for

from domlint.cmdline import sound
from domlint.cmdline.command import Command


def cards(*models: str, codecs: str = "") -> str:
    """A domain with sound cards of these models, aliased sound0, sound1..."""
    return domain("".join(f"<sound model='{m}'><alias name='sound{i}'/>{codecs}</sound>"
                          for i, m in enumerate(models)))


def stage(xml: str, caps: tuple[str, ...]) -> list[str]:
    """What the sound stage appends."""
    cmd = Command()
    sound.sounds(ctx_for(xml, caps), cmd)
    return cmd.args


def test_without_device_all_cards_share_one_soundhw() -> None:
    assert stage(cards("pcspk", "es1370", "sb16", "ac97"), ()) == ["-soundhw", "pcspk,es1370,sb16,ac97"]


def test_with_device_pcspk_keeps_soundhw_and_the_rest_are_devices() -> None:
    args = stage(cards("pcspk", "es1370", "ac97", "usb"), ("device",))
    assert args[:2] == ["-soundhw", "pcspk"]
    assert [a.split(",")[0] for a in args[3::2]] == ["ES1370", "AC97", "usb-audio"]
    assert args[3].startswith("ES1370,id=sound1")


def test_hda_card_without_codecs_gets_a_duplex_codec() -> None:
    args = stage(cards("ich6"), ("device",))
    assert args[1].startswith("intel-hda,id=sound0")
    assert args[2:] == ["-device", "hda-duplex,id=sound0-codec0,bus=sound0.0,cad=0"]


def test_hda_codecs_are_numbered_in_order() -> None:
    xml = cards("ich9", codecs="<codec type='micro'/><codec type='duplex'/>")
    args = stage(xml, ("device",))
    assert args[1].startswith("ich9-intel-hda,id=sound0")
    assert args[3::2] == ["hda-micro,id=sound0-codec0,bus=sound0.0,cad=0",
                          "hda-duplex,id=sound0-codec1,bus=sound0.0,cad=1"]
