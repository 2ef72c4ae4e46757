"""Network interfaces: -net pairs, -netdev + -device, tap and vhost descriptors, vhost-user."""

from __future__ import annotations

import pytest
from emit_helpers import after, domain, emit_unchecked, emit_words

from domlint.errors import InputError

NETDEV = ["device", "netdev", "nodefconfig"]


def _iface(kind: str = "user", mac: str = "52:54:00:AB:CD:01", body: str = "") -> str:
    return f"<interface type='{kind}'><mac address='{mac}'/>{body}</interface>"


def test_without_device_each_nic_pairs_with_a_host_side_on_its_vlan() -> None:
    xml = domain(_iface("user") + _iface("mcast", "52:54:00:00:00:02",
                                         "<source address='230.0.0.1' port='5558'/><model type='e1000'/>"))
    assert after(emit_words(xml), "-net") == [
        "nic,macaddr=52:54:00:ab:cd:01,vlan=0,model=rtl8139", "user,vlan=0",
        "nic,macaddr=52:54:00:00:00:02,vlan=1,model=e1000", "socket,mcast=230.0.0.1:5558,vlan=1"]


def test_net_names_come_with_device_names() -> None:
    # QEMU 0.10 named -net parts; the names follow the interface aliases.
    words = emit_words(domain(_iface("user")), ["0.10"])
    assert after(words, "-net") == ["nic,macaddr=52:54:00:ab:cd:01,vlan=0,model=rtl8139,name=net0",
                                    "user,vlan=0,name=hostnet0"]


def test_no_interfaces() -> None:
    assert after(emit_words(domain()), "-net") == ["none"]
    assert "-net" not in emit_words(domain(), ["device"])


def test_device_without_netdev_keeps_the_vlan() -> None:
    words = emit_words(domain(_iface("user", body="<model type='virtio'/><driver txmode='iothread'/>")),
                       ["device", "virtio-tx-alg"])
    dev = [d for d in after(words, "-device") if d.startswith("virtio-net")]
    assert dev == ["virtio-net-pci,tx=bh,vlan=0,id=net0,mac=52:54:00:ab:cd:01,bus=pci.0,addr=0x3"]
    assert after(words, "-net") == ["user,vlan=0,name=hostnet0"]


def test_netdev_and_device() -> None:
    words = emit_words(domain(_iface("server", body="<source address='10.0.0.1' port='99'/>"
                                              "<model type='e1000'/>")), NETDEV)
    assert after(words, "-netdev") == ["socket,listen=10.0.0.1:99,id=hostnet0"]
    assert "e1000,netdev=hostnet0,id=net0,mac=52:54:00:ab:cd:01,bus=pci.0,addr=0x3" in after(words, "-device")
    assert "-net" not in words


def test_ethernet_script_and_ifname_but_not_a_generated_one() -> None:
    body = "<script path='/etc/qemu-ifup'/><target dev='{}'/>"
    named = emit_words(domain(_iface("ethernet", body=body.format("tap7"))))
    assert after(named, "-net")[1] == "tap,ifname=tap7,script=/etc/qemu-ifup,vlan=0"
    generated = emit_words(domain(_iface("ethernet", body=body.format("vnet3"))))
    assert after(generated, "-net")[1] == "tap,script=/etc/qemu-ifup,vlan=0"


def test_bridge_multiqueue_with_vhost_on_kvm() -> None:
    body = "<source bridge='br0'/><model type='virtio'/><driver queues='2'/><tune><sndbuf>1600</sndbuf></tune>"
    words = emit_words(domain(_iface("bridge", body=body), vtype="kvm", emulator="/usr/bin/kvm"),
                       [*NETDEV, "kvm", "vhost-net"])
    # Two taps, then two vhost-net devices, numbered as libvirt opens them.
    assert after(words, "-netdev") == ["tap,fds=3:4,id=hostnet0,vhost=on,vhostfds=5:6,sndbuf=1600"]
    nic = next(d for d in after(words, "-device") if d.startswith("virtio-net-pci"))
    assert nic.startswith("virtio-net-pci,mq=on,vectors=6,netdev=hostnet0,id=net0,")


def test_vhost_is_skipped_for_plain_qemu_and_when_asked() -> None:
    body = "<source bridge='br0'/><model type='virtio'/>"
    tcg = emit_words(domain(_iface("bridge", body=body)), [*NETDEV, "vhost-net"])
    assert after(tcg, "-netdev") == ["tap,fd=3,id=hostnet0"]
    off = emit_words(domain(_iface("bridge", body=body + "<driver name='qemu'/>"), vtype="kvm",
                            emulator="/usr/bin/kvm"), [*NETDEV, "kvm", "vhost-net"])
    assert after(off, "-netdev") == ["tap,fd=3,id=hostnet0"]


def test_vhost_user() -> None:
    body = "<source type='unix' path='/tmp/vhost.sock' mode='server'/><model type='virtio'/>"
    words = emit_words(domain(_iface("vhostuser", body=body)), NETDEV)
    assert "socket,id=charnet0,path=/tmp/vhost.sock,server" in after(words, "-chardev")
    assert after(words, "-netdev") == ["type=vhost-user,id=hostnet0,chardev=charnet0"]
    assert "virtio-net-pci,netdev=hostnet0,id=net0,mac=52:54:00:ab:cd:01,bus=pci.0,addr=0x3" in after(
        words, "-device")


def test_boot_from_network_puts_a_bootindex_on_the_first_nic() -> None:
    xml = domain(_iface("user") + _iface("user", "52:54:00:00:00:02"),
                 os="<boot dev='hd'/><boot dev='network'/>")
    nics = [d for d in after(emit_words(xml, [*NETDEV, "boot-index"]), "-device") if d.startswith("rtl8139")]
    assert nics[0].endswith(",bootindex=2")
    assert "bootindex" not in nics[1]


def test_per_interface_boot_order_and_rom() -> None:
    body = "<boot order='1'/><rom bar='off' file='/pxe.rom'/>"
    nic = after(emit_words(domain(_iface("user", body=body), os=""), [*NETDEV, "boot-index", "rombar"]),
                "-device")[0]
    assert nic.endswith(",addr=0x3,rombar=0,romfile=/pxe.rom,bootindex=1")


def test_hostdev_interfaces_keep_their_vlan_slot() -> None:
    hostdev = ("<interface type='hostdev' managed='yes'><mac address='52:54:00:00:00:09'/>"
               "<source><address type='pci' domain='0x0000' bus='0x03' slot='0x07' function='0x1'/></source>"
               "</interface>")
    words = emit_words(domain(hostdev + _iface("user")), ["pci-device"])
    assert after(words, "-net") == ["nic,macaddr=52:54:00:ab:cd:01,vlan=1,model=rtl8139", "user,vlan=1"]


def test_unreadable_boot_order_is_an_input_error() -> None:
    xml = domain(_iface("user", body="<boot order='first'/>"), os="")
    with pytest.raises(InputError, match=r"boot order 'first' is not a decimal integer"):
        emit_words(xml, [*NETDEV, "boot-index"])


@pytest.mark.parametrize("queues", ["two", "²", "-1"])
def test_unreadable_queue_count_is_an_input_error(queues: str) -> None:
    xml = domain(f"<interface type='bridge'><source bridge='br0'/><model type='virtio'/>"
                 f"<driver name='vhost' queues='{queues}'/></interface>")
    with pytest.raises(InputError, match="queues"):
        emit_unchecked(xml, ["device", "netdev", "vhost-net"])
