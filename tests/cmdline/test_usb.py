"""USB hubs."""

from __future__ import annotations

from emit_helpers import after, domain, emit_words


def test_hubs_follow_the_usb_controller_in_order() -> None:
    words = emit_words(domain("<hub type='usb'><address type='usb' bus='0' port='1'/></hub><hub type='usb'/>"),
                       ["device", "usb-hub"])
    assert words.index("-usb") < words.index("-device")
    assert after(words, "-device")[:2] == ["usb-hub,id=hub0,bus=usb.0,port=1", "usb-hub,id=hub1"]
