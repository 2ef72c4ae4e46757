"""Disks: -drive strings, their -device front ends, boot flags and the legacy -hda style."""

from __future__ import annotations

import pytest
from emit_helpers import after, domain, emit_words
from family_ctx import ctx_for

from domlint.cmdline import disk, source
from domlint.cmdline.command import Command
from domlint.cmdline.context import RunOptions

BLOCK = "<disk type='block' device='{device}'><source dev='{path}'/><target dev='{dev}' bus='{bus}'/>{extra}</disk>"


def one_disk(dev: str = "hda", bus: str = "ide", device: str = "disk", path: str = "/dev/vg/a",
             extra: str = "", kind: str = "block") -> str:
    """A domain with one disk."""
    xml = BLOCK.format(dev=dev, bus=bus, device=device, path=path, extra=extra)
    if kind != "block":
        xml = xml.replace("type='block'", f"type='{kind}'").replace("dev='" + path, f"{kind}='" + path)
    return domain(xml)


def drive(xml: str, caps: tuple[str, ...] = ("drive",), bootable: bool = False, with_device: bool = False) -> str:
    """The -drive string of the domain's first disk."""
    ctx = ctx_for(xml, caps)
    el = ctx.devices.find("disk")
    return disk.drive_str(ctx, el, source.of_disk(ctx, el), bootable, with_device)


def device(xml: str, caps: tuple[str, ...] = ("drive", "device"), bootindex: int = 0) -> str:
    """The -device string of the domain's first disk."""
    ctx = ctx_for(xml, caps)
    return disk.drive_dev_str(ctx, ctx.devices.find("disk"), bootindex)


def stage(xml: str, caps: tuple[str, ...], **state: object) -> list[str]:
    """What the disk stage appends."""
    ctx = ctx_for(xml, caps, **state)
    cmd = Command()
    disk.disks(ctx, cmd)
    return cmd.args


def test_ide_drive_without_device_names_bus_and_unit() -> None:
    # hdd is the second unit of the second IDE bus.
    assert drive(one_disk(dev="hdd")) == "file=/dev/vg/a,if=ide,bus=1,unit=1"


def test_commas_in_the_path_are_doubled() -> None:
    assert drive(one_disk(path="/images/a,b")).startswith("file=/images/a,,b,if=ide")


def test_virtio_drive_has_no_index_but_xen_has_one() -> None:
    assert drive(one_disk(dev="vdc", bus="virtio")) == "file=/dev/vg/a,if=virtio"
    assert drive(one_disk(dev="xvdc", bus="xen")) == "file=/dev/vg/a,if=xen,index=2"


def test_floppy_drive_is_if_floppy_with_its_unit() -> None:
    xml = domain("<disk type='file' device='floppy'><source file='/f.img'/><target dev='fdb'/></disk>")
    assert drive(xml) == "file=/f.img,if=floppy,unit=1"


def test_format_defaults_to_raw_for_files_and_devices_only_with_drive_format() -> None:
    assert drive(one_disk(), ("drive", "drive-format")).endswith(",format=raw")
    assert "format=" not in drive(one_disk())
    qcow = one_disk(extra="<driver name='qemu' type='qcow2'/>")
    assert drive(qcow, ("drive", "drive-format")).endswith(",format=qcow2")


def test_with_format_probing_allowed_no_format_is_assumed() -> None:
    ctx = ctx_for(one_disk(), ("drive", "drive-format"))
    ctx.opts = RunOptions(driver={"allow_disk_format_probing": True})
    el = ctx.devices.find("disk")
    assert "format=" not in disk.drive_str(ctx, el, source.of_disk(ctx, el), False, False)


@pytest.mark.parametrize(("caps", "media"), [(("drive",), True), (("drive", "ide-cd"), False)])
def test_ide_cdrom_says_media_unless_qemu_has_ide_cd(caps: tuple[str, ...], media: bool) -> None:
    assert ("media=cdrom" in drive(one_disk(dev="hdc", device="cdrom"), caps)) is media


def test_cdrom_is_read_only_even_without_readonly_element() -> None:
    got = drive(one_disk(dev="hdc", device="cdrom"), ("drive", "drive-readonly"))
    assert got.endswith(",readonly=on")


def test_open_tray_drops_the_medium() -> None:
    xml = domain("<disk type='file' device='cdrom'><source file='/x.iso'/><target dev='hdc' tray='open'/></disk>")
    assert drive(xml) == "if=ide,media=cdrom,bus=1,unit=0"


def test_directory_source_is_a_virtual_fat_disk() -> None:
    xml = domain("<disk type='dir' device='floppy'><source dir='/srv/f'/><target dev='fda'/><readonly/></disk>")
    assert drive(xml, ("drive", "drive-format")) == "file=fat:floppy:/srv/f,if=floppy,unit=0"


def test_boot_on_only_for_bootable_non_ide_disks_with_drive_boot() -> None:
    caps = ("drive", "drive-boot")
    assert drive(one_disk(dev="vda", bus="virtio"), caps, bootable=True).endswith(",boot=on")
    assert "boot=on" not in drive(one_disk(), caps, bootable=True)
    assert "boot=on" not in drive(one_disk(dev="vda", bus="virtio"), ("drive",), bootable=True)


@pytest.mark.parametrize(("cache", "caps", "want"), [
    ("writeback", ("drive", "drive-cache-v2"), "cache=writeback"),
    ("writeback", ("drive",), "cache=on"),
    ("writethrough", ("drive",), "cache=off"),
    ("none", ("drive", "drive-cache-v2"), "cache=none"),
])
def test_cache_mode_spelling_follows_qemu(cache: str, caps: tuple[str, ...], want: str) -> None:
    got = drive(one_disk(extra=f"<driver name='qemu' cache='{cache}'/>"), caps)
    assert got.endswith("," + want)


def test_shared_writable_disk_turns_the_cache_off() -> None:
    assert drive(one_disk(dev="vda", bus="virtio", extra="<shareable/>")).endswith(",cache=off")
    assert "cache" not in drive(one_disk(dev="vda", bus="virtio", extra="<shareable/><readonly/>"))


@pytest.mark.parametrize(("attrs", "want"), [
    ("error_policy='stop'", ",werror=stop,rerror=stop"),
    ("error_policy='enospace'", ",werror=enospc"),
    ("error_policy='report' rerror_policy='ignore'", ",werror=report,rerror=ignore"),
])
def test_error_policies_need_a_json_monitor(attrs: str, want: str) -> None:
    xml = one_disk(dev="vda", bus="virtio", extra=f"<driver name='qemu' {attrs}/>")
    assert drive(xml, ("drive", "monitor-json")).endswith(want)
    assert "error" not in drive(xml)


def test_driver_options_come_in_libvirt_order() -> None:
    extra = ("<driver name='qemu' cache='none' io='native' copy_on_read='on' discard='unmap'/>"
             "<geometry cyls='16383' heads='16' secs='63' trans='lba'/><serial>WD-1</serial>")
    got = drive(one_disk(dev="vda", bus="virtio", extra=extra), ("drive", "drive-cache-v2", "drive-serial"))
    assert got == ("file=/dev/vg/a,if=virtio,cyls=16383,heads=16,secs=63,trans=lba,serial=WD-1,"
                   "cache=none,copy-on-read=on,discard=unmap,aio=native")


def test_iotune_limits_are_written_when_set() -> None:
    extra = "<iotune><read_bytes_sec>5000</read_bytes_sec><total_iops_sec>0</total_iops_sec>" \
            "<write_iops_sec>7</write_iops_sec></iotune>"
    assert drive(one_disk(dev="vda", bus="virtio", extra=extra)).endswith(",bps_rd=5000,iops_wr=7")


def test_with_device_the_drive_is_if_none_with_the_alias() -> None:
    xml = one_disk(extra="<alias name='ide0-0-0'/>")
    assert drive(xml, ("drive", "device"), with_device=True) == "file=/dev/vg/a,if=none,id=drive-ide0-0-0"


@pytest.mark.parametrize(("caps", "dev", "kind", "want"), [
    (("drive", "device"), "hdc", "cdrom", "ide-drive,bus=ide.1,unit=0"),
    (("drive", "device", "ide-cd"), "hdc", "cdrom", "ide-cd,bus=ide.1,unit=0"),
    (("drive", "device", "ide-cd"), "hdb", "disk", "ide-hd,bus=ide.0,unit=1"),
])
def test_ide_front_end(caps: tuple[str, ...], dev: str, kind: str, want: str) -> None:
    xml = one_disk(dev=dev, device=kind, extra="<alias name='d0'/>")
    assert device(xml, caps) == want + ",drive=drive-d0,id=d0"


def test_scsi_front_end_depends_on_the_controller_model() -> None:
    lsi = one_disk(dev="sdb", bus="scsi", extra="<alias name='s'/>")
    assert device(lsi, ("drive", "device", "lsi")).startswith("scsi-disk,bus=scsi0.0,scsi-id=1,drive=")
    vscsi = lsi.replace("</devices>", "<controller type='scsi' index='0' model='virtio-scsi'/></devices>")
    vscsi = vscsi.replace("<alias name='s'/>", "<address type='drive' controller='0' bus='0' target='3' unit='0'/>")
    assert device(vscsi, ("drive", "device", "virtio-scsi-pci", "scsi-cd")).startswith(
        "scsi-hd,bus=scsi0.0,channel=0,scsi-id=3,lun=0,drive=")


def test_scsi_lun_is_scsi_block_and_wwn_gets_its_prefix() -> None:
    xml = one_disk(dev="sda", bus="scsi", device="lun",
                   extra="<controller/><address type='drive' controller='0' bus='0' target='0' unit='0'/>")
    xml = xml.replace("<controller/>", "").replace("</devices>",
                                                   "<controller type='scsi' model='virtio-scsi'/></devices>")
    assert device(xml).startswith("scsi-block,bus=scsi0.0,channel=0,scsi-id=0,lun=0")
    wwn = one_disk(dev="sda", bus="scsi", extra="<wwn>5000c50015ea71ad</wwn><vendor>SEAGATE</vendor>")
    assert device(wwn, ("drive", "device", "lsi")).endswith(",wwn=0x5000c50015ea71ad,vendor=SEAGATE")


@pytest.mark.parametrize(("machine", "want"), [("pc-q35-2.0", "ide-drive,bus=ide.0,"), ("pc", "ide-drive,bus=ahci0.0,")])
def test_sata_disk_on_q35_uses_the_built_in_ahci(machine: str, want: str) -> None:
    xml = domain("<disk type='file'><source file='/a'/><target dev='sda' bus='sata'/></disk>", machine=machine)
    assert device(xml).startswith(want)


def test_virtio_blk_properties_follow_capabilities() -> None:
    xml = one_disk(dev="vda", bus="virtio", device="lun",
                   extra="<driver name='qemu' ioeventfd='on' event_idx='off' iothread='1'/>")
    caps = ("drive", "device", "virtio-blk-pci.ioeventfd", "virtio-blk-pci.event_idx", "virtio-blk-pci.scsi")
    assert device(xml, caps).startswith("virtio-blk-pci,iothread=iothread1,ioeventfd=on,event_idx=off,scsi=on")
    assert device(xml).startswith("virtio-blk-pci,iothread=iothread1,drive=")


def test_virtio_blk_model_follows_the_address_type() -> None:
    ccw = one_disk(dev="vda", bus="virtio", extra="<address type='ccw' cssid='0xfe' ssid='0' devno='0'/>")
    assert device(ccw).startswith("virtio-blk-ccw")
    s390 = one_disk(dev="vda", bus="virtio", extra="<address type='virtio-s390'/>")
    assert device(s390).startswith("virtio-blk-s390")


def test_bootindex_and_block_sizes_need_their_capabilities() -> None:
    xml = one_disk(extra="<blockio logical_block_size='512' physical_block_size='4096'/>")
    assert "bootindex" not in device(xml, bootindex=2)
    got = device(xml, ("drive", "device", "boot-index", "blockio"), bootindex=2)
    assert got.endswith(",bootindex=2,logical_block_size=512,physical_block_size=4096")


def test_usb_storage_says_whether_it_is_removable_when_qemu_can() -> None:
    xml = domain("<disk type='file'><source file='/u.img'/><target dev='sda' bus='usb' removable='on'/></disk>")
    assert device(xml, ("drive", "device", "usb-storage", "usb-storage.removable")).endswith(",removable=on")
    assert "removable" not in device(xml, ("drive", "device", "usb-storage"))
    plain = xml.replace(" removable='on'", "")
    assert device(plain, ("drive", "device", "usb-storage", "usb-storage.removable")).endswith(",removable=off")


FLOPPIES = ("<disk type='file' device='floppy'><source file='/a.img'/><target dev='fda'/></disk>"
            "<disk type='file' device='floppy'><source file='/b.img'/><target dev='fdb'/></disk>")


def test_floppies_with_device_are_isa_fdc_globals_and_only_the_first_boots() -> None:
    args = stage(domain(FLOPPIES), ("drive", "device", "boot-index"), emit_bootindex=True, boot_devs=["fd"])
    globals_ = [args[i + 1] for i, a in enumerate(args) if a == "-global"]
    assert [g.split("=")[0] for g in globals_] == ["isa-fdc.driveA", "isa-fdc.bootindexA", "isa-fdc.driveB"]
    assert globals_[1] == "isa-fdc.bootindexA=1"


def test_boot_positions_go_to_the_first_disk_of_each_kind() -> None:
    disks = ("<disk type='file'><source file='/v.img'/><target dev='vda'/></disk>"
             "<disk type='file'><source file='/w.img'/><target dev='vdb'/></disk>"
             "<disk type='file' device='cdrom'><source file='/c.iso'/><target dev='hdc'/></disk>")
    xml = domain(disks)
    args = stage(xml, ("drive", "device", "boot-index"), emit_bootindex=True, boot_devs=["cdrom", "hd"])
    devs = [args[i + 1] for i, a in enumerate(args) if a == "-device"]
    assert [d.rsplit(",bootindex=", 1)[-1] if "bootindex" in d else None for d in devs] == ["2", None, "1"]


def test_without_bootindex_the_boot_disk_is_marked_on_its_drive() -> None:
    xml = one_disk(dev="vda", bus="virtio")
    args = stage(xml, ("drive", "drive-boot"), emit_bootindex=False, boot_devs=["hd"])
    assert args == ["-drive", "file=/dev/vg/a,if=virtio,boot=on"]


def test_per_device_boot_order_wins_when_bootindex_is_emitted() -> None:
    xml = one_disk(dev="vda", bus="virtio", extra="<boot order='3'/>")
    args = stage(xml, ("drive", "device", "boot-index"), emit_bootindex=True, boot_devs=[])
    assert args[-1].endswith(",bootindex=3")


def test_xen_disk_keeps_the_if_form_even_with_device() -> None:
    args = stage(one_disk(dev="xvda", bus="xen"), ("drive", "device"))
    assert args == ["-drive", "file=/dev/vg/a,if=xen,index=0"]


def test_usb_disk_without_device_is_a_usbdevice() -> None:
    xml = domain("<disk type='file'><source file='/u.img'/><target dev='sda' bus='usb'/></disk>")
    assert stage(xml, ("drive",)) == ["-usbdevice", "disk:/u.img"]


def test_legacy_options_without_drive() -> None:
    disks = ("<disk type='block'><source dev='/dev/a'/><target dev='hda'/></disk>"
             "<disk type='file' device='cdrom'><source file='/c.iso'/><target dev='hdc'/></disk>"
             "<disk type='file' device='floppy'><source file='/f.img'/><target dev='fda'/></disk>")
    assert stage(domain(disks), ()) == ["-hda", "/dev/a", "-cdrom", "/c.iso", "-fda", "/f.img"]
    empty = domain("<disk type='file' device='cdrom'><target dev='hdc'/></disk>")
    assert stage(empty, ()) == []


def test_disks_are_emitted_sorted_by_target_within_a_bus() -> None:
    disks = ("<disk type='file'><source file='/b'/><target dev='vdb'/></disk>"
             "<disk type='file'><source file='/h'/><target dev='hda'/></disk>"
             "<disk type='file'><source file='/a'/><target dev='vda'/></disk>")
    words = emit_words(domain(disks), ["drive"])
    assert after(words, "-drive") == ["file=/a,if=virtio", "file=/b,if=virtio", "file=/h,if=ide,bus=0,unit=0"]
