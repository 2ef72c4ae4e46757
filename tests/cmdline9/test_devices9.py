"""libvirt 9.0's remaining devices (qemuBuildMemballoonCommandLine, qemuBuildRNGCommandLine,
qemuBuildTPMsCommandLine, qemuBuildInputCommandLine, qemuBuildWatchdogCommandLine,
qemuBuildHostdevCommandLine, qemuBuildIOMMUCommandLine, qemuBuildVMGenIDCommandLine,
qemuBuildShmemCommandLine, qemuBuildVsockCommandLine...): expected values worked out from
those functions' rules."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from emit9 import HOST, domain, stage_command

from domlint import host as hostmod
from domlint.cmdline.command import Command
from domlint.cmdline.context import Ctx
from domlint.cmdline9 import devices
from domlint.errors import InputError
from domlint.host import Host

pytestmark = pytest.mark.libvirt("9.0")

JSON_CAPS = ("device.json+hotplug", "object.qapified")
PCI = "<address type='pci' domain='0x0000' bus='0x00' slot='0x0{}' function='0x0'/>"
FDS_HOST = hostmod.from_dict(HOST.name, {**HOST.raw, "fds": {"tpm_device": 1730, "tpm_cancel": 1731, "vsock": 6789,
                                                             "vsock_cid": 42, "vhost_scsi": 3},
                                         "swtpm_socket": "/run/swtpm.sock"})


def args(stage: Callable[[Ctx, Command], None], xml: str, caps: tuple[str, ...] = (), host: Host = FDS_HOST,
         **settings: object) -> list[str]:
    """One stage's arguments for a domain, after addresses and aliases."""
    return stage_command(stage, xml, caps, host, **settings).args


# ---------------------------------------------------------------------------- balloon, RNG


def test_balloon_options_and_virtio_driver_options() -> None:
    xml = domain("<memballoon model='virtio' autodeflate='on' freePageReporting='off'>"
                 "<driver iommu='on'/>" + PCI.format(6) + "</memballoon>")
    assert args(devices.memballoon, xml) == \
        ["-device", "virtio-balloon-pci,iommu_platform=on,id=balloon0,deflate-on-oom=on,free-page-reporting=off,"
                    "bus=pci.0,addr=0x6"]
    assert json.loads(args(devices.memballoon, xml, JSON_CAPS)[1])["deflate-on-oom"] is True


def test_balloon_none_and_transitional_models() -> None:
    assert args(devices.memballoon, domain("<memballoon model='none'/>")) == []
    xml = domain("<memballoon model='virtio-transitional'>" + PCI.format(6) + "</memballoon>")
    assert args(devices.memballoon, xml, ("virtio-pci-non-transitional",))[1].startswith(
        "virtio-balloon-pci-transitional,id=balloon0")
    # Without the capability a transitional device is a plain one (on a conventional PCI bus).
    assert args(devices.memballoon, xml)[1].startswith("virtio-balloon-pci,id=balloon0")


def test_rng_random_backend_defaults_to_dev_random_and_rate_period_defaults_to_1000() -> None:
    xml = domain("<rng model='virtio'><rate bytes='123'/><backend model='random'/>" + PCI.format(7) + "</rng>")
    assert args(devices.rngs, xml) == [
        "-object", "rng-random,id=objrng0,filename=/dev/random",
        "-device", "virtio-rng-pci,rng=objrng0,id=rng0,max-bytes=123,period=1000,bus=pci.0,addr=0x7"]


def test_rng_builtin_and_egd_backends() -> None:
    builtin = domain("<rng model='virtio'><backend model='builtin'/>" + PCI.format(7) + "</rng>")
    assert args(devices.rngs, builtin, JSON_CAPS)[1] == '{"qom-type":"rng-builtin","id":"objrng0"}'
    egd = domain("<rng model='virtio'><backend model='egd' type='tcp'><source mode='connect' host='1.2.3.4' "
                 "service='1234'/><protocol type='raw'/></backend>" + PCI.format(7) + "</rng>")
    assert args(devices.rngs, egd)[:4] == ["-chardev", "socket,id=charrng0,host=1.2.3.4,port=1234",
                                           "-object", "rng-egd,id=objrng0,chardev=charrng0"]


# ---------------------------------------------------------------------------- TPM


def test_tpm_emulator_talks_to_swtpm_through_chrtpm() -> None:
    xml = domain("<tpm model='tpm-tis'><backend type='emulator' version='2.0'/></tpm>")
    assert args(devices.tpms, xml, JSON_CAPS) == [
        "-chardev", "socket,id=chrtpm,path=/run/swtpm.sock",
        "-tpmdev", "emulator,id=tpm-tpm0,chardev=chrtpm",
        "-device", '{"driver":"tpm-tis","tpmdev":"tpm-tpm0","id":"tpm0"}']


def test_tpm_passthrough_passes_device_and_cancel_as_fd_sets() -> None:
    xml = domain("<tpm model='tpm-crb'><backend type='passthrough'><device path='/dev/tpm0'/></backend></tpm>")
    assert args(devices.tpms, xml) == [
        "-add-fd", "set=0,fd=1730,opaque=tpm0-tpm", "-add-fd", "set=1,fd=1731,opaque=tpm0-cancel",
        "-tpmdev", "passthrough,id=tpm-tpm0,path=/dev/fdset/0,cancel-path=/dev/fdset/1",
        "-device", "tpm-crb,tpmdev=tpm-tpm0,id=tpm0"]


def test_tis_tpm_off_x86_is_the_sysbus_device() -> None:
    xml = domain("<tpm model='tpm-tis'><backend type='emulator' version='2.0'/></tpm>", arch="aarch64",
                 machine="virt", emulator="/usr/bin/qemu-system-aarch64")
    assert args(devices.tpms, xml)[-1] == "tpm-tis-device,tpmdev=tpm-tpm0,id=tpm0"


# ---------------------------------------------------------------------------- input


def test_usb_and_virtio_inputs_and_ps2_ones_are_not_devices() -> None:
    xml = domain("<input type='tablet' bus='usb'><address type='usb' bus='0' port='1'/></input>"
                 "<input type='keyboard' bus='virtio'>" + PCI.format(5) + "</input>"
                 "<input type='passthrough' bus='virtio'><source evdev='/dev/input//event1/'/>" + PCI.format(6) +
                 "</input><input type='mouse' bus='ps2'/>"
                 "<controller type='usb' index='0' model='piix3-uhci'/>")
    out = args(devices.inputs, xml)
    assert out == ["-device", "usb-tablet,id=input0,bus=usb.0,port=1",
                   "-device", "virtio-keyboard-pci,id=input1,bus=pci.0,addr=0x5",
                   "-device", "virtio-input-host-pci,id=input2,evdev=/dev/input/event1,bus=pci.0,addr=0x6"]


def test_evdev_input_is_an_input_linux_object() -> None:
    xml = domain("<input type='evdev'><source dev='/dev/input/event1234' grab='all' repeat='on' "
                 "grabToggle='alt-alt'/></input>")
    assert args(devices.inputs, xml, JSON_CAPS) == [
        "-object", '{"qom-type":"input-linux","id":"input0","evdev":"/dev/input/event1234","repeat":true,'
                   '"grab_all":true,"grab-toggle":"alt-alt"}']


# ---------------------------------------------------------------------------- watchdog, iommu, genid, ...


def test_watchdog_device_and_action_with_dump_as_pause() -> None:
    xml = domain("<watchdog model='i6300esb' action='dump'>" + PCI.format(4) + "</watchdog>")
    assert args(devices.watchdogs, xml) == ["-device", "i6300esb,id=watchdog0,bus=pci.0,addr=0x4",
                                            "-watchdog-action", "pause"]
    assert args(devices.watchdogs, domain("<watchdog model='ib700'/>"))[-1] == "reset"


def test_intel_iommu_options() -> None:
    xml = domain("<iommu model='intel'><driver intremap='on' caching_mode='on' iotlb='off' aw_bits='48'/></iommu>",
                 machine="q35")
    assert args(devices.iommu, xml, JSON_CAPS) == [
        "-device", '{"driver":"intel-iommu","id":"iommu0","intremap":"on","caching-mode":true,'
                   '"device-iotlb":false,"aw-bits":48}']


def test_genid_given_or_generated_from_the_hosts_random_bytes() -> None:
    given = domain(top="<genid>e9392370-2917-565e-692b-d057f46512d6</genid>")
    assert args(devices.vmgenid, given) == ["-device", "vmgenid,guid=e9392370-2917-565e-692b-d057f46512d6,id=vmgenid0"]
    counting = hostmod.from_dict(HOST.name, {**HOST.raw, "randomness": "counting"})
    # Bytes 0..15 with the version 4 and variant bits set.
    assert args(devices.vmgenid, domain(top="<genid/>"), host=counting) == \
        ["-device", "vmgenid,guid=00010203-0405-4607-8809-0a0b0c0d0e0f,id=vmgenid0"]


def test_vmcoreinfo_nvram_and_isa_panic() -> None:
    assert args(devices.vmcoreinfo, domain(top="<features><vmcoreinfo state='on'/></features>")) == \
        ["-device", "vmcoreinfo"]
    nvram = domain("<nvram><address type='spapr-vio' reg='0x4000'/></nvram>", arch="ppc64", machine="pseries",
                   emulator="/usr/bin/qemu-system-ppc64")
    assert args(devices.nvram, nvram) == ["-global", "spapr-nvram.reg=0x4000"]
    panic = domain("<panic model='isa'><address type='isa' iobase='0x505'/></panic>")
    assert args(devices.panics, panic) == ["-device", "pvpanic,ioport=1285"]
    assert args(devices.panics, domain("<panic model='hyperv'/>")) == []


# ---------------------------------------------------------------------------- host devices


def test_pci_hostdev_with_boot_order_and_rom() -> None:
    xml = domain("<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x06' "
                 "slot='0x12' function='0x5'/></source><boot order='1'/><rom bar='off' file='/r.bin'/>" +
                 PCI.format(2) + "</hostdev>", os="")
    assert args(devices.hostdevs, xml) == [
        "-device", "vfio-pci,host=0000:06:12.5,id=hostdev0,bootindex=1,bus=pci.0,addr=0x2,rombar=0,romfile=/r.bin"]


def test_usb_hostdev_by_path_when_qemu_takes_one_with_guest_reset() -> None:
    xml = domain("<hostdev mode='subsystem' type='usb'><source guestReset='uninitialized'>"
                 "<address bus='14' device='6'/></source><address type='usb' bus='0' port='1'/></hostdev>"
                 "<controller type='usb' index='0' model='piix3-uhci'/>")
    assert args(devices.hostdevs, xml, ("usb-host.hostdevice",)) == [
        "-device", "usb-host,hostdevice=/dev/bus/usb/014/006,id=hostdev0,guest-reset=on,guest-resets-all=off,"
                   "bus=usb.0,port=1"]
    assert args(devices.hostdevs, xml)[1].startswith("usb-host,hostbus=14,hostaddr=6,id=hostdev0,")


def test_mdev_with_ramfb_is_the_nohotplug_variant() -> None:
    xml = domain("<hostdev mode='subsystem' type='mdev' model='vfio-pci' display='on' ramfb='on'><source>"
                 "<address uuid='53764d0e-85a0-42b4-af5c-2046b460b1dc'/></source>" + PCI.format(3) + "</hostdev>")
    assert json.loads(args(devices.hostdevs, xml, JSON_CAPS)[1]) == {
        "driver": "vfio-pci-nohotplug", "id": "hostdev0",
        "sysfsdev": "/sys/bus/mdev/devices/53764d0e-85a0-42b4-af5c-2046b460b1dc", "display": "on", "ramfb": True,
        "bus": "pci.0", "addr": "0x3"}


def test_scsi_hostdev_is_a_host_device_blockdev_and_scsi_generic() -> None:
    xml = domain("<controller type='scsi' index='0' model='virtio-scsi'>" + PCI.format(4) + "</controller>"
                 "<hostdev mode='subsystem' type='scsi'><source><adapter name='scsi_host0'/>"
                 "<address bus='0' target='0' unit='0'/></source><readonly/>"
                 "<address type='drive' controller='0' bus='0' target='1' unit='2'/></hostdev>")
    assert args(devices.hostdevs, xml, JSON_CAPS) == [
        "-blockdev", '{"driver":"host_device","filename":"/dev/sg0","node-name":"libvirt-1-backend",'
                     '"read-only":true}',
        "-device", '{"driver":"scsi-generic","drive":"libvirt-1-backend","id":"hostdev0","bus":"scsi0.0",'
                   '"channel":0,"scsi-id":1,"lun":2}']


def test_vhost_scsi_uses_the_hosts_descriptor() -> None:
    xml = domain("<hostdev mode='subsystem' type='scsi_host'><source protocol='vhost' wwpn='naa.5123456789abcde0'/>" +
                 PCI.format(2) + "</hostdev>")
    assert args(devices.hostdevs, xml) == [
        "-device", "vhost-scsi-pci,wwpn=naa.5123456789abcde0,vhostfd=3,id=hostdev0,bus=pci.0,addr=0x2"]


def test_unknown_pci_backend_is_refused() -> None:
    xml = domain("<hostdev mode='subsystem' type='pci'><driver name='xen'/><source><address domain='0' bus='6' "
                 "slot='0x12' function='1'/></source>" + PCI.format(2) + "</hostdev>")
    with pytest.raises(InputError, match="passthrough type"):
        args(devices.hostdevs, xml)


# ---------------------------------------------------------------------------- shmem, vsock


def test_shmem_plain_has_a_shared_file_backend() -> None:
    xml = domain("<shmem name='shm1' role='peer'><model type='ivshmem-plain'/><size unit='M'>8</size>" +
                 PCI.format(8) + "</shmem>")
    assert args(devices.shmems, xml) == [
        "-object", "memory-backend-file,id=shmmem-shmem0,mem-path=/dev/shm/shm1,size=8388608,share=on",
        "-device", "ivshmem-plain,id=shmem0,memdev=shmmem-shmem0,master=off,bus=pci.0,addr=0x8"]


def test_shmem_doorbell_talks_to_its_server_and_defaults_ioeventfd_on() -> None:
    xml = domain("<shmem name='shm2'><model type='ivshmem-doorbell'/><server/><msi vectors='32'/>" +
                 PCI.format(8) + "</shmem>")
    assert args(devices.shmems, xml) == [
        "-device", "ivshmem-doorbell,id=shmem0,chardev=charshmem0,vectors=32,ioeventfd=on,bus=pci.0,addr=0x8",
        "-chardev", "socket,id=charshmem0,path=/var/lib/libvirt/shmem-shm2-sock"]


def test_shmem_size_must_be_a_power_of_two() -> None:
    xml = domain("<shmem name='s'><model type='ivshmem-plain'/><size unit='M'>3</size>" + PCI.format(8) + "</shmem>")
    with pytest.raises(InputError, match="power of two"):
        args(devices.shmems, xml)


def test_vsock_automatic_and_given_cid() -> None:
    auto = domain("<vsock model='virtio'><cid auto='yes'/>" + PCI.format(7) + "</vsock>")
    assert args(devices.vsock, auto, JSON_CAPS) == [
        "-device", '{"driver":"vhost-vsock-pci","id":"vsock0","guest-cid":42,"vhostfd":"6789","bus":"pci.0",'
                   '"addr":"0x7"}']
    given = domain("<vsock model='virtio'><cid auto='no' address='4'/>" + PCI.format(7) + "</vsock>")
    assert args(devices.vsock, given)[1] == "vhost-vsock-pci,id=vsock0,guest-cid=4,vhostfd=6789,bus=pci.0,addr=0x7"


def test_network_boot_goes_to_the_first_hostdev_interface() -> None:
    net = ("<interface type='hostdev' managed='yes'><mac address='00:11:22:33:44:55'/><source>"
           "<address type='pci' domain='0x0000' bus='0x06' slot='0x12' function='0x1'/></source>" + PCI.format(2) +
           "</interface>")
    xml = domain(net, os="<boot dev='hd'/><boot dev='network'/>")
    assert args(devices.hostdevs, xml) == ["-device", "vfio-pci,host=0000:06:12.1,id=hostdev0,bootindex=2,"
                                                      "bus=pci.0,addr=0x2"]
