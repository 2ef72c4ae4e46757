"""Character devices: source parsing, -chardev and legacy spellings, serial/parallel/channel/console stages."""

from __future__ import annotations

import pytest
from emit_helpers import after, domain, emit_words
from lxml import etree

from domlint.cmdline.chardev import ChrSource, chardev_str, chr_arg_str, source
from domlint.errors import InputError, Refused

CHARDEV = ["chardev", "device", "nodefconfig"]


def _el(xml: str) -> etree._Element:
    return etree.fromstring(xml)


def test_tcp_source_keeps_the_first_mode_it_sees() -> None:
    # The first mode given decides for every <source>: a later bind one is read as connect.
    src = source(_el("<serial type='tcp'><source mode='connect' host='a' service='1'/>"
                     "<source mode='bind' host='b' service='2'/><protocol type='telnet'/></serial>"))
    assert (src.host, src.service, src.listen, src.protocol) == ("a", "1", False, "telnet")
    # A <source> without a mode does not decide: the next one's bind mode does.
    late = source(_el("<serial type='tcp'><source host='a' service='1'/>"
                      "<source mode='bind' host='b' service='2'/></serial>"))
    assert (late.host, late.service, late.listen, late.protocol) == ("b", "2", True, "raw")


def test_udp_source_reads_each_side_on_its_own() -> None:
    src = source(_el("<serial type='udp'><source mode='bind' host='127.0.0.1' service='9999'/>"
                     "<source mode='connect' host='127.0.0.1' service='9998'/></serial>"))
    assert (src.bind_host, src.bind_service, src.connect_host, src.connect_service) == (
        "127.0.0.1", "9999", "127.0.0.1", "9998")


@pytest.mark.parametrize(("tag", "name"), [("channel", "vdagent"), ("smartcard", "smartcard"),
                                           ("redirdev", "usbredir")])
def test_spicevmc_name_follows_the_device_kind(tag: str, name: str) -> None:
    assert source(_el(f"<{tag} type='spicevmc'/>")).spicevmc == name


@pytest.mark.parametrize(("src", "chardev", "legacy"), [
    (ChrSource("null"), "null,id=charserial0", "null"),
    (ChrSource("pty"), "pty,id=charserial0", "pty"),
    (ChrSource("dev", path="/dev/ttyS2"), "tty,id=charserial0,path=/dev/ttyS2", "/dev/ttyS2"),
    (ChrSource("file", path="/tmp/log"), "file,id=charserial0,path=/tmp/log", "file:/tmp/log"),
    (ChrSource("pipe", path="/tmp/p"), "pipe,id=charserial0,path=/tmp/p", "pipe:/tmp/p"),
    (ChrSource("udp", connect_service="9999"),
     "udp,id=charserial0,host=,port=9999,localaddr=,localport=0", "udp::9999@:0"),
    (ChrSource("tcp", host="h", service="7", listen=True, protocol="telnet"),
     "socket,id=charserial0,host=h,port=7,telnet,server,nowait", "telnet:h:7,server,nowait"),
    (ChrSource("tcp", host="h", service="7", protocol="tls"), "socket,id=charserial0,host=h,port=7", "tcp:h:7"),
    (ChrSource("unix", path="/s", listen=True), "socket,id=charserial0,path=/s,server,nowait",
     "unix:/s,server,nowait"),
    (ChrSource("spiceport", channel="org.x"), "spiceport,id=charserial0,name=org.x", ""),
])
def test_chardev_and_legacy_spellings(src: ChrSource, chardev: str, legacy: str) -> None:
    assert chardev_str(None, src, "serial0") == chardev  # type: ignore[arg-type]
    assert chr_arg_str(None, src) == legacy  # type: ignore[arg-type]


def test_host_device_on_a_parallel_port_is_a_parport() -> None:
    assert chardev_str(None, ChrSource("dev", path="/dev/parport0"), "parallel0") == (  # type: ignore[arg-type]
        "parport,id=charparallel0,path=/dev/parport0")
    assert chr_arg_str(None, ChrSource("unix", path="/m", listen=True), "unix-") == (  # type: ignore[arg-type]
        "unix-unix:/m,server,nowait")


def test_serial_without_chardev_uses_the_legacy_option_and_none_fills_gaps() -> None:
    words = emit_words(domain("<serial type='pty'/><serial type='file'><source path='/l'/></serial>"))
    assert after(words, "-serial") == ["pty", "file:/l"]
    assert after(words, "-parallel") == ["none"]
    assert after(emit_words(domain()), "-serial") == ["none"]
    # With -device libvirt passes -nodefaults instead of naming every absent port.
    assert "-serial" not in emit_words(domain(), ["device"])


def test_serial_with_chardev_gets_a_device() -> None:
    words = emit_words(domain("<serial type='tcp'><source mode='connect' host='h' service='5'/></serial>"),
                       CHARDEV)
    assert after(words, "-chardev")[-1] == "socket,id=charserial0,host=h,port=5"
    assert after(words, "-device")[0] == "isa-serial,chardev=charserial0,id=serial0"


def test_lone_console_of_an_hvm_guest_is_the_first_serial_port() -> None:
    words = emit_words(domain("<console type='pty'/>"), CHARDEV)
    assert "pty,id=charserial0" in after(words, "-chardev")
    assert "isa-serial,chardev=charserial0,id=serial0" in after(words, "-device")
    assert not any("console" in w for w in words)


def test_spiceport_serial_needs_spice() -> None:
    serial = "<serial type='spiceport'><source channel='org.qemu.console.serial.0'/></serial>"
    assert after(emit_words(domain(serial), [*CHARDEV, "spiceport"]), "-chardev") == [
        "socket,id=charmonitor,path=/tmp/test-monitor,server,nowait"]
    spice = serial + "<graphics type='spice' port='5900'/>"
    chardevs = after(emit_words(domain(spice), [*CHARDEV, "spiceport", "spice"]), "-chardev")
    assert "spiceport,id=charserial0,name=org.qemu.console.serial.0" in chardevs


def test_virtio_channels_number_their_ports() -> None:
    chans = ("<channel type='pty'><target type='virtio' name='a'/></channel>"
             "<channel type='pty'><target type='virtio' name='b'/>"
             "<address type='virtio-serial' controller='0' bus='0' port='5'/></channel>"
             "<channel type='pty'><target type='virtio'/></channel>")
    devs = [d for d in after(emit_words(domain(chans), CHARDEV), "-device") if "virtserialport" in d]
    assert devs == [
        "virtserialport,bus=virtio-serial0.0,nr=1,chardev=charchannel0,id=channel0,name=a",
        "virtserialport,bus=virtio-serial0.0,nr=5,chardev=charchannel1,id=channel1,name=b",
        "virtserialport,bus=virtio-serial0.0,nr=6,chardev=charchannel2,id=channel2,name=com.redhat.spice.0"]


def test_port_numbers_count_per_controller_and_bus() -> None:
    def chan(name: str, addr: str = "") -> str:
        return f"<channel type='pty'><target type='virtio' name='{name}'/>{addr}</channel>"

    def on(ctrl: int, port: str = "") -> str:
        nr = f" port='{port}'" if port else ""
        return f"<address type='virtio-serial' controller='{ctrl}' bus='0'{nr}/>"

    chans = (chan("p0") + chan("foo", on(1)) + chan("bar", on(1, "3")) + chan("wizz", on(0, "4"))
             + chan("ooh", on(0)))
    ctrls = "<controller type='virtio-serial' index='0'/><controller type='virtio-serial' index='1'/>"
    devs = [d.split(",chardev")[0] for d in after(emit_words(domain(ctrls + chans), CHARDEV), "-device")
            if d.startswith("virtserialport")]
    assert devs == ["virtserialport,bus=virtio-serial0.0,nr=1", "virtserialport,bus=virtio-serial1.0,nr=1",
                    "virtserialport,bus=virtio-serial1.0,nr=3", "virtserialport,bus=virtio-serial0.0,nr=4",
                    "virtserialport,bus=virtio-serial0.0,nr=5"]


def test_console_ports_also_see_later_consoles() -> None:
    cons = ("<console type='pty'><target type='virtio'/>"
            "<address type='virtio-serial' controller='0' bus='0'/></console>"
            "<console type='pty'><target type='virtio'/>"
            "<address type='virtio-serial' controller='0' bus='0' port='2'/></console>")
    devs = [d for d in after(emit_words(domain(cons), CHARDEV), "-device") if d.startswith("virtconsole")]
    assert devs == ["virtconsole,bus=virtio-serial0.0,nr=3,chardev=charconsole0,id=console0",
                    "virtconsole,bus=virtio-serial0.0,nr=2,chardev=charconsole1,id=console1"]


def test_virtio_serial_port_numbers_read_like_other_address_numbers() -> None:
    # Base 0 as address.c_uint reads them: a leading zero is octal, not an unset port.
    chan = ("<channel type='pty'><target type='virtio' name='a'/>"
            "<address type='virtio-serial' controller='0' bus='0' port='05'/></channel>")
    devs = [d for d in after(emit_words(domain(chan), CHARDEV), "-device") if d.startswith("virtserialport")]
    assert devs == ["virtserialport,bus=virtio-serial0.0,nr=5,chardev=charchannel0,id=channel0,name=a"]


def test_old_spicevmc_device_carries_the_agent_itself() -> None:
    chan = ("<channel type='spicevmc'><target type='virtio' name='com.redhat.spice.0'/></channel>"
            "<graphics type='spice' port='5900'/>")
    old = emit_words(domain(chan), ["device", "nodefconfig", "spice", "device-spicevmc"])
    assert "spicevmc,bus=virtio-serial0.0,nr=1,id=channel0" in after(old, "-device")
    new = emit_words(domain(chan), [*CHARDEV, "spice", "chardev-spicevmc"])
    assert "spicevmc,id=charchannel0,name=vdagent" in after(new, "-chardev")


def test_guestfwd_channel_is_a_user_netdev() -> None:
    chan = ("<channel type='pipe'><source path='/tmp/g'/>"
            "<target type='guestfwd' address='10.0.2.1' port='4600'/></channel>")
    words = emit_words(domain(chan), CHARDEV)
    assert after(words, "-netdev") == ["user,guestfwd=tcp:10.0.2.1:4600-chardev:charchannel0,id=user-channel0"]
    assert "pipe,id=charchannel0,path=/tmp/g" in after(words, "-chardev")


def test_unreadable_guestfwd_port_is_an_input_error() -> None:
    chan = ("<channel type='pipe'><source path='/tmp/g'/>"
            "<target type='guestfwd' address='10.0.2.1' port='http'/></channel>")
    with pytest.raises(InputError, match=r"guestfwd target port 'http' is not a decimal integer"):
        emit_words(domain(chan), CHARDEV)


def test_virtio_consoles_after_the_serial_one() -> None:
    devs = ("<serial type='pty'/><console type='pty'><target type='serial'/></console>"
            "<console type='pty'><target type='virtio'/></console>")
    words = emit_words(domain(devs), CHARDEV)
    assert "virtconsole,chardev=charconsole1,id=console1" in after(words, "-device")
    assert "pty,id=charconsole0" not in after(words, "-chardev")


def test_parallel_ports() -> None:
    par = "<parallel type='tcp'><source mode='bind' host='127.0.0.1' service='9999'/></parallel>"
    assert after(emit_words(domain(par)), "-parallel") == ["tcp:127.0.0.1:9999,server,nowait"]
    words = emit_words(domain(par), CHARDEV)
    assert "isa-parallel,chardev=charparallel0,id=parallel0" in after(words, "-device")


def test_pseries_serial_is_a_spapr_vty() -> None:
    xml = domain("<serial type='pty'><address type='spapr-vio'/></serial>", arch="ppc64", machine="pseries",
                 emulator="/usr/bin/qemu-system-ppc64")
    assert "spapr-vty,chardev=charserial0,reg=0x30000000" in after(emit_words(xml, CHARDEV), "-device")


def test_arm_board_serial_stays_legacy_but_virtio_console_does_not() -> None:
    # The virtio console is the first console, so it is not the serial port's alias.
    xml = domain("<serial type='pty'/><console type='pty'><target type='virtio'/></console>", arch="armv7l",
                 machine="vexpress-a9", emulator="/usr/bin/qemu-system-arm", os="")
    words = emit_words(xml, CHARDEV)
    assert after(words, "-serial") == ["pty"]
    assert "virtconsole,chardev=charconsole0,id=console0" in after(words, "-device")


def test_a_source_missing_what_its_type_needs_is_refused_with_its_line() -> None:
    # 1.2.8's parser refuses it (a rule finds it), so argv never reaches the emitter's own refusal.
    xml = domain("<serial type='tcp'>\n<source mode='bind'/></serial>")
    with pytest.raises(Refused) as err:
        emit_words(xml, CHARDEV)
    (finding,) = err.value.findings
    assert finding.rule_id == "chardev-source-endpoint-absent"
    assert finding.line == next(i for i, ln in enumerate(xml.splitlines(), 1) if "<serial" in ln)
