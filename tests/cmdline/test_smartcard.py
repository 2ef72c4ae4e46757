"""Smartcards on the CCID bus: NSS host mode, certificates, passthrough over a chardev."""

from __future__ import annotations

from emit_helpers import after, domain, emit_words

CAPS = ["device", "nodefconfig", "chardev", "usb-ccid", "ccid-emulated", "ccid-passthru"]


def test_host_mode() -> None:
    words = emit_words(domain("<smartcard mode='host'/>"), CAPS)
    assert "ccid-card-emulated,backend=nss-emulated,id=smartcard0,bus=ccid0.0" in after(words, "-device")


def test_certificates_with_the_default_database() -> None:
    card = ("<smartcard mode='host-certificates'><certificate>cert1</certificate>"
            "<certificate>cert2</certificate><certificate>cert3</certificate></smartcard>")
    dev = after(emit_words(domain(card), CAPS), "-device")
    assert ("ccid-card-emulated,backend=certificates,cert1=cert1,cert2=cert2,cert3=cert3,"
            "db=/etc/pki/nssdb,id=smartcard0,bus=ccid0.0") in dev
    named = card.replace("</smartcard>", "<database>/etc/pki/mine</database></smartcard>")
    assert any(",db=/etc/pki/mine," in d for d in after(emit_words(domain(named), CAPS), "-device"))


def test_passthrough_goes_through_a_chardev() -> None:
    card = ("<smartcard mode='passthrough' type='tcp'><source mode='connect' host='127.0.0.1' service='2001'/>"
            "<protocol type='raw'/></smartcard>")
    words = emit_words(domain(card), CAPS)
    assert "socket,id=charsmartcard0,host=127.0.0.1,port=2001" in after(words, "-chardev")
    assert "ccid-card-passthru,chardev=charsmartcard0,id=smartcard0,bus=ccid0.0" in after(words, "-device")
    spice = emit_words(domain("<smartcard mode='passthrough' type='spicevmc'/>"), [*CAPS, "chardev-spicevmc"])
    assert "spicevmc,id=charsmartcard0,name=smartcard" in after(spice, "-chardev")
