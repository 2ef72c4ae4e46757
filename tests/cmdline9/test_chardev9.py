"""libvirt 9.0's chardev backends and character devices (qemuBuildChardevStr, qemuBuildChardevCommand,
qemuBuildSerialCommandLine...): expected values worked out from those functions' rules."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from emit9 import ctx_for, domain, stage_command

from domlint.cmdline.command import Command
from domlint.cmdline.context import Ctx
from domlint.cmdline9 import chardev, prepare
from domlint.cmdline9.chardev import ChrSource, Passed, chardev_str
from domlint.errors import InputError

pytestmark = pytest.mark.libvirt("9.0")

JSON_CAPS = ("device.json+hotplug", "netdev.json", "object.qapified")
# The serial models the tests' QEMU offers.
SERIAL_CAPS = ("isa-serial", "pl011")


def run(stage: Callable[[Ctx, Command], None], xml: str, caps: tuple[str, ...] = (), **opts: object) -> list[str]:
    """The arguments one stage adds for a domain, after addresses and aliases."""
    return stage_command(stage, xml, caps + SERIAL_CAPS, **opts).args


# --- the backend string ------------------------------------------------------------


@pytest.mark.parametrize(("src", "want"), [
    (ChrSource("pty"), "pty,id=charserial0"),
    (ChrSource("null"), "null,id=charserial0"),
    (ChrSource("dev", path="/dev/ttyS2"), "serial,id=charserial0,path=/dev/ttyS2"),
    (ChrSource("file", path="/tmp/a,b"), "file,id=charserial0,path=/tmp/a,,b"),
    (ChrSource("file", path="/tmp/log", append=False), "file,id=charserial0,path=/tmp/log,append=off"),
    (ChrSource("pipe", path="/tmp/p"), "pipe,id=charserial0,path=/tmp/p"),
    # Missing udp hosts print empty, a missing bind port as 0.
    (ChrSource("udp", connect_service="9999"), "udp,id=charserial0,host=,port=9999,localaddr=,localport=0"),
    (ChrSource("tcp", host="127.0.0.1", service="9999", listen=True, protocol="telnet"),
     "socket,id=charserial0,host=127.0.0.1,port=9999,telnet=on,server=on,wait=off"),
    (ChrSource("tcp", host="localhost", service="1234", reconnect=10),
     "socket,id=charserial0,host=localhost,port=1234,reconnect=10"),
    (ChrSource("unix", path="/tmp/s", reconnect=0), "socket,id=charserial0,path=/tmp/s,reconnect=0"),
    (ChrSource("spiceport", channel="org.qemu.console.serial.0"),
     "spiceport,id=charserial0,name=org.qemu.console.serial.0"),
    (ChrSource("qemu-vdagent", clipboard=False, mouse="server"),
     "qemu-vdagent,id=charserial0,name=vdagent,clipboard=off,mouse=off"),
    (ChrSource("dbus", channel="org.qemu.console.serial.0"), "dbus,id=charserial0,name=org.qemu.console.serial.0"),
])
def test_backend_string_per_source_type(src: ChrSource, want: str) -> None:
    assert chardev_str(src, "charserial0") == want


def test_a_parallel_host_device_uses_the_parallel_backend() -> None:
    assert chardev_str(ChrSource("dev", path="/dev/parport0"), "charparallel0") == \
        "parallel,id=charparallel0,path=/dev/parport0"


def test_passed_descriptors_replace_paths_and_force_append() -> None:
    passed = Passed("serial0", source_set=2, log_set=3)
    src = ChrSource("file", path="/tmp/f", logfile="/tmp/l", logappend=False)
    assert chardev_str(src, "charserial0", passed) == \
        "file,id=charserial0,path=/dev/fdset/2,append=on,logfile=/dev/fdset/3,logappend=on"


def test_a_listening_unix_socket_is_passed_as_a_bare_descriptor() -> None:
    src = ChrSource("unix", path="/tmp/s", listen=True)
    assert chardev_str(src, "charchannel0", Passed("channel0", listen_fd=1729)) == \
        "socket,id=charchannel0,fd=1729,server=on,wait=off"
    # Sockets that must wait for their peer (vhost-user NICs) leave wait=off out.
    assert chardev_str(src, "charnet0", wait=True) == "socket,id=charnet0,path=/tmp/s,server=on"


# --- serial ports ------------------------------------------------------------------


def test_x86_serial_is_isa_serial_with_its_port_as_index() -> None:
    args = run(chardev.serials, domain("<serial type='pty'><target port='0'/></serial>"))
    assert args == ["-chardev", "pty,id=charserial0", "-device", "isa-serial,chardev=charserial0,id=serial0,index=0"]


def test_json_device_when_qemu_takes_it() -> None:
    args = run(chardev.serials, domain("<serial type='pty'><target port='0'/></serial>"), JSON_CAPS)
    assert json.loads(args[3]) == {"driver": "isa-serial", "chardev": "charserial0", "id": "serial0", "index": 0}


def test_a_file_serial_gets_an_fd_set() -> None:
    xml = domain("<serial type='file'><source path='/tmp/serial.log'/><target port='0'/></serial>")
    args = run(chardev.serials, xml)
    assert args[:4] == ["-add-fd", "set=0,fd=1750,opaque=serial0-source",
                        "-chardev", "file,id=charserial0,path=/dev/fdset/0,append=on"]


def test_fd_sets_follow_libvirt_device_order_source_before_log() -> None:
    # Channels come after serial ports; a device's file comes before its log.
    xml = domain("<channel type='file'><source path='/tmp/c'/><log file='/tmp/cl'/>"
                 "<target type='virtio' name='x'/></channel>"
                 "<serial type='file'><source path='/tmp/s'/><target port='0'/></serial>")
    ctx = ctx_for(xml)
    prepare.prepare(ctx)
    fds = chardev.prepare_fds(ctx)
    sets = sorted((p.owner, p.source_set, p.log_set) for p in fds.values())
    assert sets == [("channel0", 1, 2), ("serial0", 0, None)]


def test_arm_virt_uart_is_a_platform_serial() -> None:
    xml = domain("<serial type='pty'><target port='0'/></serial>", arch="aarch64", machine="virt",
                 emulator="/usr/bin/qemu-system-aarch64")
    assert run(chardev.serials, xml) == ["-chardev", "pty,id=charserial0", "-serial", "chardev:charserial0"]


def test_spiceport_serial_needs_spice_graphics() -> None:
    xml = domain("<serial type='spiceport'><source channel='org.qemu.console.serial.0'/><target port='0'/></serial>")
    assert run(chardev.serials, xml) == []


# --- channels, consoles ----------------------------------------------------------------


def test_guestfwd_channel_is_a_user_netdev() -> None:
    xml = domain("<channel type='pipe'><source path='/tmp/guestfwd'/>"
                 "<target type='guestfwd' address='10.0.2.1' port='4600'/></channel>")
    assert run(chardev.channels, xml) == [
        "-chardev", "pipe,id=charchannel0,path=/tmp/guestfwd",
        "-netdev", "user,guestfwd=tcp:10.0.2.1:4600-chardev:charchannel0,id=channel0"]
    args = run(chardev.channels, xml, JSON_CAPS)
    assert json.loads(args[3]) == {"type": "user", "guestfwd": [{"str": "tcp:10.0.2.1:4600-chardev:charchannel0"}],
                                   "id": "channel0"}


def test_spicevmc_channel_defaults_to_the_spice_agent_name() -> None:
    xml = domain("<controller type='virtio-serial' index='0'/><channel type='spicevmc'><target type='virtio'/>"
                 "<address type='virtio-serial' controller='0' bus='0' port='1'/></channel>")
    args = run(chardev.channels, xml)
    assert args[:2] == ["-chardev", "spicevmc,id=charchannel0,name=vdagent"]
    assert args[2] == "-device"
    assert args[3].startswith("virtserialport,")
    assert args[3].endswith(",chardev=charchannel0,id=channel0,name=com.redhat.spice.0")


def test_virtio_console_is_virtconsole_and_serial_console_adds_nothing() -> None:
    xml = domain("<console type='pty'><target type='virtio' port='1'/></console>")
    args = run(chardev.consoles, xml)
    assert args[:2] == ["-chardev", "pty,id=charconsole0"]
    assert args[3].startswith("virtconsole,") and "chardev=charconsole0,id=console0" in args[3]
    assert run(chardev.consoles, domain("<console type='pty'><target type='serial' port='0'/></console>")) == []


# --- smartcards, USB redirection, TLS ------------------------------------------------------


def test_smartcard_certificates_default_database() -> None:
    xml = domain("<controller type='ccid' index='0'/><smartcard mode='host-certificates'>"
                 "<certificate>a</certificate><certificate>b</certificate><certificate>c</certificate></smartcard>")
    assert run(chardev.smartcards, xml) == [
        "-device", "ccid-card-emulated,backend=certificates,cert1=a,cert2=b,cert3=c,db=/etc/pki/nssdb,"
                   "id=smartcard0,bus=ccid0.0"]


def test_smartcard_passthrough_has_its_chardev_first() -> None:
    xml = domain("<controller type='ccid' index='0'/><smartcard mode='passthrough' type='spicevmc'/>")
    assert run(chardev.smartcards, xml) == [
        "-chardev", "spicevmc,id=charsmartcard0,name=smartcard",
        "-device", "ccid-card-passthru,chardev=charsmartcard0,id=smartcard0,bus=ccid0.0"]


def test_usb_redirection_filter_is_class_vendor_product_bcd_version_allow() -> None:
    xml = domain("<controller type='usb' index='0'/><redirdev bus='usb' type='spicevmc'/>"
                 "<redirfilter><usbdev class='0x08' vendor='0x15E1' product='0x2007' version='1.1' allow='yes'/>"
                 "<usbdev allow='no'/></redirfilter>")
    args = run(chardev.redirdevs, xml)
    assert args[:2] == ["-chardev", "spicevmc,id=charredir0,name=usbredir"]
    assert "filter=0x08:0x15E1:0x2007:0x0110:1|-1:-1:-1:-1:0" in args[3]


def test_chardev_tls_setting_adds_a_client_credentials_object() -> None:
    xml = domain("<serial type='tcp'><source mode='connect' host='127.0.0.1' service='5555'/>"
                 "<protocol type='raw'/><target port='0'/></serial>")
    args = run(chardev.serials, xml, chardev_tls=True, chardev_tls_x509_cert_dir="/etc/pki/libvirt-chardev")
    assert args[:4] == [
        "-object", "tls-creds-x509,id=objcharserial0_tls0,dir=/etc/pki/libvirt-chardev,endpoint=client,verify-peer=on",
        "-chardev", "socket,id=charserial0,host=127.0.0.1,port=5555,tls-creds=objcharserial0_tls0"]
    # The source's own tls attribute wins over the driver setting.
    xml_off = xml.replace("service='5555'/>", "service='5555' tls='no'/>")
    assert run(chardev.serials, xml_off, chardev_tls=True)[:2] == [
        "-chardev", "socket,id=charserial0,host=127.0.0.1,port=5555"]


def test_chardev_tls_key_password_is_a_secret_named_after_the_chardev() -> None:
    xml = domain("<serial type='tcp'><source mode='connect' host='127.0.0.1' service='5555'/>"
                 "<protocol type='raw'/><target port='0'/></serial>")
    args = run(chardev.serials, xml, chardev_tls=True, chardev_tls_x509_secret_uuid="6fd3f62d-9fe7-4a4e-a869-7acd6376d8ea")
    assert args[0] == "-object" and args[1].startswith("secret,id=charserial0-secret0,data=")
    assert ",keyid=masterKey0," in args[1] and args[1].endswith(",format=base64")
    assert args[3].endswith(",verify-peer=on,passwordid=charserial0-secret0")


def test_a_serial_model_qemu_lacks_is_refused() -> None:
    ctx = ctx_for(domain("<serial type='pty'><target port='0'/></serial>"))
    prepare.prepare(ctx)
    with pytest.raises(InputError, match="'isa-serial' is not supported in this QEMU binary"):
        chardev.serials(ctx, Command())


def test_serial_without_port_takes_one_above_the_highest() -> None:
    xml = domain("<serial type='pty'><target port='2'/></serial><serial type='null'/>")
    args = run(chardev.serials, xml)
    assert args[3] == "isa-serial,chardev=charserial0,id=serial0,index=2"
    assert args[7] == "isa-serial,chardev=charserial1,id=serial1,index=3"
