"""USB redirection: chardev, usb-redir device, filter rules, boot index."""

from __future__ import annotations

import pytest
from emit_helpers import after, domain, emit_words

from domlint.cmdline.redirdev import c_int, usb_version
from domlint.errors import InputError

CAPS = ["device", "nodefconfig", "chardev", "usb-redir", "chardev-spicevmc", "spice"]
SPICE = "<graphics type='spice' port='5900'/>"


@pytest.mark.parametrize(("text", "value"), [("0x08", 8), ("010", 8), ("15", 15), ("-1", -1), ("0", 0),
                                             ("zz", None)])
def test_integers_read_like_strtol_base_0(text: str, value: int | None) -> None:
    assert c_int(text) == value


@pytest.mark.parametrize(("text", "bcd"), [("1.10", 0x0110), ("2.0", 0x0200), ("1.1", 0x0110),
                                           ("11.01", 0x1101), ("-1", -1)])
def test_usb_versions_become_bcd(text: str, bcd: int) -> None:
    assert usb_version(text) == bcd


def test_redirected_devices_with_filter_and_boot_order() -> None:
    devs = ("<redirdev bus='usb' type='tcp'><source mode='connect' host='localhost' service='4000'/>"
            "<boot order='1'/></redirdev><redirdev bus='usb' type='spicevmc'/>"
            "<redirfilter><usbdev class='0x08' vendor='0x15E1' product='0x2007' version='1.10' allow='yes'/>"
            "<usbdev allow='no'/></redirfilter>")
    words = emit_words(domain(SPICE + devs, os=""), [*CAPS, "usb-redir.filter", "usb-redir.bootindex", "boot-index"])
    assert after(words, "-chardev")[-2:] == ["socket,id=charredir0,host=localhost,port=4000",
                                            "spicevmc,id=charredir1,name=usbredir"]
    redirs = [d for d in after(words, "-device") if d.startswith("usb-redir")]
    rules = "filter=0x08:0x15E1:0x2007:0x0110:1|-1:-1:-1:-1:0"
    assert redirs[0].startswith(f"usb-redir,chardev=charredir0,id=redir0,{rules},bootindex=1")
    assert redirs[1].startswith(f"usb-redir,chardev=charredir1,id=redir1,{rules}")


def test_unreadable_boot_order_is_an_input_error() -> None:
    xml = domain(SPICE + "<redirdev bus='usb' type='spicevmc'><boot order='first'/></redirdev>", os="")
    with pytest.raises(InputError, match=r"boot order 'first' is not a decimal integer"):
        emit_words(xml, [*CAPS, "usb-redir.bootindex", "boot-index"])
