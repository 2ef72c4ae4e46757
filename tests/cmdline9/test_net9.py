"""libvirt 9.0's network interfaces (qemuBuildInterfaceCommandLine, qemuBuildHostNetProps,
qemuBuildNicDevProps): expected values worked out from those functions' rules."""

from __future__ import annotations

import json

import pytest
from emit9 import HOST, ctx_for, domain

from domlint import host as hostmod
from domlint.cmdline.command import Command
from domlint.cmdline9 import net, prepare
from domlint.host import Host

pytestmark = pytest.mark.libvirt("9.0")

JSON_CAPS = ("device.json+hotplug", "netdev.json", "object.qapified")
PCI = "<address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>"


def run(xml: str, caps: tuple[str, ...] = (), host: Host = HOST, **opts: object) -> list[str]:
    """The arguments of the interfaces stage for a domain, after addresses and aliases."""
    ctx = ctx_for(xml, caps, host)
    ctx.opts.driver.update(opts)
    prepare.prepare(ctx)
    cmd = Command()
    net.interfaces(ctx, cmd)
    return cmd.args


def iface(body: str, ntype: str = "user", mac: str = "52:54:00:00:00:01") -> str:
    return f"<interface type='{ntype}'><mac address='{mac}'/>{body}</interface>"


def with_fds(**fds: object) -> Host:
    """The test host with a `fds` section."""
    return hostmod.from_dict(HOST.name, {**HOST.raw, "fds": fds})


def test_user_netdev_and_nic_as_key_value_and_as_json() -> None:
    xml = domain(iface("<model type='rtl8139'/>" + PCI))
    assert run(xml) == ["-netdev", "user,id=hostnet0",
                        "-device", "rtl8139,netdev=hostnet0,id=net0,mac=52:54:00:00:00:01,bus=pci.0,addr=0x3"]
    args = run(xml, JSON_CAPS)
    assert json.loads(args[1]) == {"type": "user", "id": "hostnet0"}
    assert json.loads(args[3]) == {"driver": "rtl8139", "netdev": "hostnet0", "id": "net0",
                                   "mac": "52:54:00:00:00:01", "bus": "pci.0", "addr": "0x3"}


def test_user_netdev_carries_guest_addresses() -> None:
    xml = domain(iface("<ip address='172.17.2.0' family='ipv4' prefix='24'/>"
                       "<ip address='2001:0db8:0:0::feed' family='ipv6' prefix='64'/><model type='rtl8139'/>" + PCI))
    assert run(xml)[1] == "user,net=172.17.2.0/24,ipv6-prefix=2001:db8::feed,ipv6-prefixlen=64,id=hostnet0"


def test_ethernet_is_a_tap_fd_and_plain_qemu_gets_no_vhost() -> None:
    xml = domain(iface("<model type='virtio'/>" + PCI, "ethernet"))
    # (The test host opens vhost-net for any guest, as libvirt's harness does; a real host does not.)
    assert run(xml, vhost_net_any_guest=False)[1] == "tap,fd=3,id=hostnet0"


def test_kvm_virtio_tap_gets_vhost_net_per_queue() -> None:
    xml = domain(iface("<model type='virtio'/><driver queues='2'/>" + PCI, "ethernet"), vtype="kvm")
    args = run(xml)
    assert args[1] == "tap,fds=3:4,vhost=on,vhostfds=44:45,id=hostnet0"
    # Two MSI-X vectors per queue pair, plus two.
    assert args[3].startswith("virtio-net-pci,mq=on,vectors=6,netdev=hostnet0,")


def test_vhost_net_fds_come_from_the_host_profile() -> None:
    xml = domain(iface("<model type='virtio'/>" + PCI, "ethernet"), vtype="kvm")
    args = run(xml, host=with_fds(tap_first=10, vhost_first=20))
    assert args[1] == "tap,fd=10,vhost=on,vhostfd=20,id=hostnet0"


def test_a_host_may_open_vhost_net_for_plain_qemu_guests_too() -> None:
    xml = domain(iface("<model type='virtio'/>" + PCI, "ethernet"))
    assert run(xml, vhost_net_any_guest=True)[1] == "tap,fd=3,vhost=on,vhostfd=44,id=hostnet0"


def test_vhost_net_setting_off_means_no_vhost() -> None:
    xml = domain(iface("<model type='virtio'/>" + PCI, "ethernet"), vtype="kvm")
    assert run(xml, vhost_net=False)[1] == "tap,fd=3,id=hostnet0"


def test_driver_name_qemu_turns_vhost_off() -> None:
    xml = domain(iface("<model type='virtio'/><driver name='qemu'/>" + PCI, "bridge").replace(
        "<mac", "<source bridge='br0'/><mac"), vtype="kvm")
    assert run(xml)[1] == "tap,fd=3,id=hostnet0"


def test_socket_types() -> None:
    server = domain(iface("<source port='2015'/><model type='rtl8139'/>" + PCI, "server"))
    assert run(server)[1] == "socket,listen=:2015,id=hostnet0"
    client = domain(iface("<source address='192.168.0.1' port='5558'/><model type='rtl8139'/>" + PCI, "client"))
    assert run(client)[1] == "socket,connect=192.168.0.1:5558,id=hostnet0"
    udp = domain(iface("<source address='192.168.10.1' port='5555'><local address='192.168.10.1' port='5556'/>"
                       "</source><model type='rtl8139'/>" + PCI, "udp"))
    assert run(udp)[1] == "socket,udp=192.168.10.1:5555,localaddr=192.168.10.1:5556,id=hostnet0"


def test_vhost_user_socket_waits_for_its_peer() -> None:
    xml = domain(iface("<source type='unix' path='/tmp/vhost0.sock' mode='server'/><model type='virtio'/>"
                       "<driver queues='4'/>" + PCI, "vhostuser"))
    args = run(xml)
    assert args[:4] == ["-chardev", "socket,id=charnet0,path=/tmp/vhost0.sock,server=on",
                        "-netdev", "vhost-user,chardev=charnet0,queues=4,id=hostnet0"]
    assert "mq=on,vectors=10" in args[5]


def test_vdpa_passes_its_device_through_an_fd_set() -> None:
    xml = domain(iface("<source dev='/dev/vhost-vdpa-0'/><model type='virtio'/>" + PCI, "vdpa"))
    args = run(xml, JSON_CAPS)
    assert args[:2] == ["-add-fd", "set=0,fd=1732,opaque=net0-vdpa"]
    assert json.loads(args[3]) == {"type": "vhost-vdpa", "vhostdev": "/dev/fdset/0", "id": "hostnet0"}


def test_virtio_properties_in_libvirt_order() -> None:
    body = ("<model type='virtio'/><driver txmode='iothread' ioeventfd='off' rx_queue_size='512'"
            " tx_queue_size='1024'><host csum='off' mrg_rxbuf='off'/><guest ecn='off'/></driver>"
            "<mtu size='9000'/><teaming type='persistent'/>" + PCI)
    args = run(domain(iface(body)))
    assert args[3] == ("virtio-net-pci,tx=bh,ioeventfd=off,csum=off,mrg_rxbuf=off,guest_ecn=off,"
                       "rx_queue_size=512,tx_queue_size=1024,host_mtu=9000,failover=on,"
                       "netdev=hostnet0,id=net0,mac=52:54:00:00:00:01,bus=pci.0,addr=0x3")


def test_disabled_rom_is_an_empty_romfile_and_bar_is_a_number() -> None:
    off = run(domain(iface("<model type='rtl8139'/><rom enabled='no'/>" + PCI)))
    assert off[3].endswith(",addr=0x3,romfile=")
    bar = run(domain(iface("<model type='rtl8139'/><rom bar='off' file='/tmp/rom'/>" + PCI)))
    assert bar[3].endswith(",addr=0x3,rombar=0,romfile=/tmp/rom")


def test_network_boot_gives_the_first_nic_a_bootindex() -> None:
    xml = domain(iface("<model type='rtl8139'/>" + PCI), os="<boot dev='hd'/><boot dev='network'/>")
    assert ",mac=52:54:00:00:00:01,bootindex=2,bus=pci.0" in run(xml)[3]


def test_passt_backend_is_a_stream_to_its_socket() -> None:
    xml = domain(iface("<model type='rtl8139'/><backend type='passt'/>" + PCI))
    args = run(xml, JSON_CAPS, passt_state_dir="/run/user/1000/libvirt/qemu/run/passt")
    assert json.loads(args[1]) == {"type": "stream", "addr": {
        "type": "unix", "path": "/run/user/1000/libvirt/qemu/run/passt/-1-guest-net0.socket"},
        "server": False, "id": "hostnet0"}


def test_arm_board_nic_is_a_legacy_net_nic() -> None:
    xml = domain(iface("<model type='lan9118'/>"), arch="armv7l", machine="vexpress-a9",
                 emulator="/usr/bin/qemu-system-arm")
    assert run(xml) == ["-netdev", "user,id=hostnet0",
                        "-net", "nic,macaddr=52:54:00:00:00:01,netdev=hostnet0,model=lan9118,id=net0"]


def test_hostdev_interface_is_left_to_the_host_devices() -> None:
    xml = domain("<interface type='hostdev' managed='yes'><mac address='52:54:00:00:00:01'/><source>"
                 "<address type='pci' domain='0x0000' bus='0x06' slot='0x12' function='0x1'/></source></interface>")
    assert run(xml) == []


def test_a_nic_without_mac_gets_libvirts_prefix_and_the_hosts_random_bytes() -> None:
    xml = domain("<interface type='user'><model type='rtl8139'/>" + PCI + "</interface>")
    # The test host's randomness is libvirt's mock: every 8-bit draw is 0.
    assert ",mac=52:54:00:00:00:00," in run(xml)[3]


def test_s390_pci_nic_gets_its_zpci_device_first() -> None:
    addr = ("<address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0'>"
            "<zpci uid='0x0003' fid='0x00000010'/></address>")
    xml = domain(iface("<model type='virtio'/>" + addr), arch="s390x", machine="s390-ccw-virtio",
                 emulator="/usr/bin/qemu-system-s390x")
    args = run(xml, ("zpci",))
    assert args[2:4] == ["-device", "zpci,uid=3,fid=16,target=net0,id=zpci3"]
    assert args[5].startswith("virtio-net-pci,")


def test_qemu_override_replaces_frontend_properties() -> None:
    xml = domain(iface("<model type='rtl8139'/>" + PCI),
                 top="<qemu:override><qemu:device alias='net0'><qemu:frontend>"
                     "<qemu:property name='mac' type='string' value='00:11:22:33:44:55'/>"
                     "<qemu:property name='bus' type='remove'/>"
                     "</qemu:frontend></qemu:device></qemu:override>")
    xml = xml.replace("<domain type='qemu'>", "<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>")
    args = run(xml, JSON_CAPS)
    assert json.loads(args[3]) == {"driver": "rtl8139", "netdev": "hostnet0", "id": "net0", "addr": "0x3",
                                   "mac": "00:11:22:33:44:55"}


def test_known_models_take_libvirts_spelling() -> None:
    assert run(domain(iface("<model type='VIRTIO'/>" + PCI)))[3].startswith("virtio-net-pci,")
    assert run(domain(iface("<model type='am79c970a'/>" + PCI)))[3].startswith("Am79C970A,")
