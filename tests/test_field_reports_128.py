"""Field reports on libvirt 1.2.8's command line, each worked out from 1.2.8's source (commit 2097f7df5)."""

from __future__ import annotations

from emit_helpers import after, domain, emit_words

import domlint
from domlint.cmdline.command import c_str

DEVICE = ["device", "netdev", "nodefconfig", "chardev"]


def test_a_kvm_domain_gets_the_machine_its_emulator_knows_pc_as() -> None:
    # qemuCanonicalizeMachine asks the capabilities of def->emulator, whatever the domain type:
    # on the test host /usr/bin/qemu-system-x86_64 knows 'pc' as an alias of pc-0.11.
    kvm = emit_words(domain(vtype="kvm"), ["machine-opt", "kvm", "enable-kvm"])
    assert after(kvm, "-machine")[0].startswith("pc-0.11,accel=kvm")
    # /usr/bin/kvm has no such alias: 'pc' stays 'pc'.
    plain = emit_words(domain(vtype="kvm", emulator="/usr/bin/kvm"), ["machine-opt", "kvm", "enable-kvm"])
    assert after(plain, "-machine")[0].startswith("pc,accel=kvm")


def test_a_missing_string_prints_as_glibc_prints_null() -> None:
    assert c_str(None) == "(null)" and c_str("") == "" and c_str("x") == "x"
    # qemuBuildHostNetStr: "socket,listen=%s:%d" with the optional address of a server socket left NULL.
    words = emit_words(domain("<interface type='server'><source port='5558'/><model type='e1000'/></interface>"))
    assert "socket,listen=(null):5558,vlan=0" in after(words, "-net")
    # qemuBuildDeviceAddressStr: ".0,port=%s" with a USB address that names no port.
    hub = emit_words(domain("<controller type='usb' index='0'/><hub type='usb'><address type='usb' bus='0'/></hub>"),
                     ["device", "usb-hub"])
    assert any(d.startswith("usb-hub,id=hub0,bus=usb.0,port=(null)") for d in after(hub, "-device"))


def test_an_inactive_virtio_channel_without_a_path_gets_one_made_up() -> None:
    # qemuDomainDeviceDefPostParse makes LIBDIR/channel/target/NAME.TARGET and listens on it;
    # only a virtio channel may leave its path out (virDomainChrSourceDefParseXML).
    xml = domain("<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>")
    assert not domlint.check(xml, libvirt="1.2.8")
    words = emit_words(xml, [*DEVICE, "virtio-serial"])
    chardevs = after(words, "-chardev")
    assert any(c.startswith("socket,id=charchannel0,path=") and c.endswith(
        "/channel/target/guest.org.qemu.guest_agent.0,server,nowait") for c in chardevs), chardevs
