"""The one writer of -device, -object and -netdev: JSON or key=value by the capabilities, as virqemu.c writes them."""

from __future__ import annotations

import pytest
from emit9 import ctx_for, domain

from domlint.cmdline.command import Command
from domlint.cmdline9 import props as P

pytestmark = pytest.mark.libvirt("9.0")

NS = "xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'"


def test_qemu_override_replaces_device_properties_at_the_end() -> None:
    top = ("<qemu:override><qemu:device alias='ua-x'><qemu:frontend>"
           "<qemu:property name='a' type='unsigned' value='7'/><qemu:property name='b' type='remove'/>"
           "</qemu:frontend></qemu:device></qemu:override>")
    ctx = ctx_for(domain(top=top).replace("<domain ", f"<domain {NS} "))
    given = {"driver": "d", "id": "ua-x", "a": 1, "b": True, "c": 2}
    props = P.apply_overrides(ctx, given)
    # Each overridden property is removed, then appended (qemuBuildDeviceCommandlineHandleOverrides).
    assert list(props.items()) == [("driver", "d"), ("id", "ua-x"), ("c", 2), ("a", 7)]
    assert given["b"] is True, "the caller's properties are left alone"
    # The -device writer applies them, in both forms.
    assert P.device_arg(ctx, given) == "d,id=ua-x,c=2,a=7"
    json_ctx = ctx_for(domain(top=top).replace("<domain ", f"<domain {NS} "), caps=("device.json+hotplug",))
    assert P.device_arg(json_ctx, given) == '{"driver":"d","id":"ua-x","c":2,"a":7}'


def test_object_keyval_writes_number_arrays_as_ranges_and_json_keeps_them() -> None:
    props = {"qom-type": "memory-backend-ram", "id": "ram-node0", "size": 1024, "host-nodes": [3, 0, 1, 2, 5],
             "policy": "bind", "unset": None}
    # virQEMUBuildCommandLineJSONArrayBitmap: a bitmap of the numbers, each run as first-last.
    assert P.object_arg(ctx_for(domain()), props) == \
        "memory-backend-ram,id=ram-node0,size=1024,host-nodes=0-3,host-nodes=5,policy=bind"
    assert P.object_arg(ctx_for(domain(), caps=("object.qapified",)), props) == \
        '{"qom-type":"memory-backend-ram","id":"ram-node0","size":1024,"host-nodes":[3,0,1,2,5],"policy":"bind"}'


def test_object_keyval_falls_back_to_one_key_per_member_for_other_arrays() -> None:
    assert P.object_arg(ctx_for(domain()), {"qom-type": "t", "id": "o", "names": ["a", "b,c"]}) == \
        "t,id=o,names=a,names=b,,c"


def test_netdev_keyval_flattens_str_objects_and_json_keeps_them() -> None:
    props = {"type": "user", "guestfwd": [{"str": "tcp:10.0.2.1:4600-chardev:charchannel0"}], "id": "hostnet0"}
    assert P.netdev_arg(ctx_for(domain()), props) == \
        "user,guestfwd=tcp:10.0.2.1:4600-chardev:charchannel0,id=hostnet0"
    assert P.netdev_arg(ctx_for(domain(), caps=("netdev.json",)), props) == \
        '{"type":"user","guestfwd":[{"str":"tcp:10.0.2.1:4600-chardev:charchannel0"}],"id":"hostnet0"}'


def test_add_device_puts_the_zpci_device_of_an_s390_pci_address_first() -> None:
    ctx = ctx_for(domain())
    el = ctx.devices.makeelement("rng", {})
    el.append(el.makeelement("alias", {"name": "rng0"}))
    addr = el.makeelement("address", {"type": "pci", "bus": "0x00", "slot": "0x01"})
    addr.append(addr.makeelement("zpci", {"uid": "0x0002", "fid": "0x00000005"}))
    el.append(addr)
    cmd = Command(env=[], emulator="/q", args=[])
    P.add_device(ctx, cmd, {"driver": "virtio-rng-pci", "id": "rng0"}, el)
    assert cmd.args == ["-device", "zpci,uid=2,fid=5,target=rng0,id=zpci2", "-device", "virtio-rng-pci,id=rng0"]
    cmd = Command(env=[], emulator="/q", args=[])
    P.add_device(ctx, cmd, {"driver": "e1000", "id": "net0"}, ctx.devices.makeelement("interface", {}))
    assert cmd.args == ["-device", "e1000,id=net0"]
