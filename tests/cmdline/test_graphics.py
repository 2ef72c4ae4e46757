"""Graphics: -nographic, VNC, SPICE and SDL options and the environment they set."""

from __future__ import annotations

from emit_helpers import after, domain, emit_words

VNC = ["vnc", "vnc-colon"]


def _env(words: list[str]) -> dict[str, str]:
    return dict(w.split("=", 1) for w in words[:words.index("/usr/bin/qemu-system-x86_64")])


def _env_order(words: list[str]) -> list[str]:
    return [w.split("=", 1)[0] for w in words[:words.index("/usr/bin/qemu-system-x86_64")]]


def test_no_graphics_means_nographic_and_no_audio() -> None:
    words = emit_words(domain())
    assert "-nographic" in words and _env(words)["QEMU_AUDIO_DRV"] == "none"
    assert words.index("-nographic") < words.index("-monitor")
    vnc = emit_words(domain("<graphics type='vnc' port='5901'/>"), ["vnc"])
    assert "-nographic" not in vnc


def test_vnc_display_is_the_port_less_5900_and_ipv6_gets_brackets() -> None:
    words = emit_words(domain("<graphics type='vnc' port='5903' autoport='no' listen='::1'/>"), VNC)
    assert after(words, "-vnc") == ["[::1]:3"]
    assert _env(words)["QEMU_AUDIO_DRV"] == "none"
    # A port libvirt picks at start is 0 in a stored definition.
    auto = emit_words(domain("<graphics type='vnc' port='5907' autoport='yes' listen='10.1.1.1'/>"), VNC)
    assert after(auto, "-vnc") == ["10.1.1.1:-5900"]


def test_vnc_listen_element_websocket_share_and_keymap() -> None:
    gfx = ("<graphics type='vnc' port='5900' websocket='5700' sharePolicy='force-shared' keymap='de'>"
           "<listen type='address' address='127.0.0.1'/></graphics>")
    words = emit_words(domain(gfx), [*VNC, "vnc-websocket", "vnc-share-policy"])
    assert after(words, "-vnc") == ["127.0.0.1:0,websocket=5700,share=force-shared"]
    assert after(words, "-k") == ["de"]


def test_vnc_socket_and_old_qemu_spelling() -> None:
    assert after(emit_words(domain("<graphics type='vnc' socket='/tmp/s'/>"), VNC), "-vnc") == ["unix:/tmp/s"]
    # Without vnc-colon QEMU only takes the display number, and none of the options.
    gfx = "<graphics type='vnc' port='5902' listen='127.0.0.1' passwd='x'/>"
    assert after(emit_words(domain(gfx), ["vnc"], driver={"vnc_tls": True}), "-vnc") == ["2"]
    new = emit_words(domain(gfx), VNC, driver={"vnc_tls": True})
    assert after(new, "-vnc") == ["127.0.0.1:2,password,tls,x509=/etc/pki/libvirt-vnc"]


def test_vnc_tls_and_sasl_come_from_the_driver() -> None:
    gfx = "<graphics type='vnc' port='5903' listen='127.0.0.1'/>"
    words = emit_words(domain(gfx), VNC, driver={"vnc_tls": True, "vnc_tls_x509_verify": True,
                                                     "vnc_sasl": True, "vnc_sasl_dir": "/root/.sasl2"})
    assert after(words, "-vnc") == ["127.0.0.1:3,tls,x509verify=/etc/pki/libvirt-vnc,sasl"]
    # SASL's directory is set while the option is built, before the audio driver.
    order = _env_order(words)
    assert order.index("SASL_CONF_PATH") < order.index("QEMU_AUDIO_DRV")
    assert _env(words)["SASL_CONF_PATH"] == "/root/.sasl2"


def test_spice_channels_follow_libvirts_channel_order() -> None:
    gfx = ("<graphics type='spice' port='5903' tlsPort='5904' listen='127.0.0.1' defaultMode='secure'>"
           "<channel name='usbredir' mode='insecure'/><channel name='main' mode='secure'/>"
           "<channel name='inputs' mode='any'/><mouse mode='client'/>"
           "<image compression='glz'/><streaming mode='all'/><clipboard copypaste='no'/></graphics>")
    words = emit_words(domain(gfx), ["spice", "seamless-migration"])
    assert after(words, "-spice") == [
        "port=5903,tls-port=5904,addr=127.0.0.1,agent-mouse=on,x509-dir=/etc/pki/libvirt-spice,"
        "tls-channel=default,tls-channel=main,plaintext-channel=usbredir,image-compression=glz,"
        "streaming-video=all,disable-copy-paste,seamless-migration=on"]
    assert _env(words)["QEMU_AUDIO_DRV"] == "spice"


def test_spice_ports_and_ticketing() -> None:
    # Only a TLS port: no plain port= at all; no password anywhere: ticketing is off.
    gfx = "<graphics type='spice' tlsPort='5904'/>"
    words = emit_words(domain(gfx), ["spice"], driver={"spice_password": None})
    assert after(words, "-spice") == ["tls-port=5904,disable-ticketing,x509-dir=/etc/pki/libvirt-spice"]
    auto = emit_words(domain("<graphics type='spice' port='5900' autoport='yes' passwd='s'/>"), ["spice"],
                      driver={"spice_password": None})
    assert after(auto, "-spice") == ["port=0"]


def test_sdl_sets_display_environment() -> None:
    gfx = "<graphics type='sdl' display=':0.1' xauth='/root/.Xauthority' fullscreen='yes'/>"
    words = emit_words(domain(gfx), ["sdl"])
    env = _env(words)
    assert env["XAUTHORITY"] == "/root/.Xauthority" and env["DISPLAY"] == ":0.1"
    assert "QEMU_AUDIO_DRV" not in env
    assert words.index("-full-screen") + 1 == words.index("-sdl")
    assert "-sdl" not in emit_words(domain(gfx))
