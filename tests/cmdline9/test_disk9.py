"""libvirt 9.0's disks, firmware flash and filesystems (qemuBuildDiskCommandLine, qemu_block.c,
qemuDomainPrepareDiskSource, qemuFirmwareFillDomain, qemuBuildFilesystemCommandLine): expected
values worked out from those functions' rules."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from emit9 import HOST, ctx_for, domain, stage_command

from domlint import host as hostmod
from domlint.cmdline.command import Command
from domlint.cmdline9 import blockdev, disk, pflash, prepare, secret
from domlint.host import Host

pytestmark = pytest.mark.libvirt("9.0")

JSON_CAPS = ("device.json+hotplug", "object.qapified")
PCI3 = "<address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>"
PCI4 = "<address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/>"


def stage(fn, xml: str, caps: tuple[str, ...] = JSON_CAPS, host: Host = HOST, **settings: object) -> list[str]:
    """The arguments one disk-family stage gives a domain, after addresses and aliases."""
    return stage_command(fn, xml, caps, host, **settings).args


def pairs(args: list[str]) -> list[tuple[str, object]]:
    """(option, value) pairs, JSON values decoded."""
    out = []
    for opt, value in zip(args[::2], args[1::2], strict=True):
        out.append((opt, json.loads(value) if value.startswith("{") else value))
    return out


def file_disk(path: str, dev: str, bus: str, extra: str = "", driver: str = "<driver name='qemu' type='raw'/>",
              device: str = "disk", dtype: str = "file") -> str:
    attr = {"file": "file", "block": "dev", "dir": "dir"}[dtype]
    src = f"<source {attr}='{path}'/>" if path else ""
    return (f"<disk type='{dtype}' device='{device}'>{driver}{src}<target dev='{dev}' bus='{bus}'/>"
            f"{extra}</disk>")


# --- node names and the two layers -------------------------------------------------------------

def test_a_raw_file_is_a_file_node_under_a_raw_node_and_ide_hd_reads_the_top() -> None:
    got = pairs(stage(disk.disks, domain(file_disk("/img/a.raw", "hda", "ide"))))
    assert got == [
        ("-blockdev", {"driver": "file", "filename": "/img/a.raw", "node-name": "libvirt-1-storage",
                       "auto-read-only": True, "discard": "unmap"}),
        ("-blockdev", {"node-name": "libvirt-1-format", "read-only": False, "driver": "raw",
                       "file": "libvirt-1-storage"}),
        # <os><boot dev='hd'/>: the first disk boots first.
        ("-device", {"driver": "ide-hd", "bus": "ide.0", "unit": 0, "drive": "libvirt-1-format",
                     "id": "ide0-0-0", "bootindex": 1}),
    ]


def test_node_ids_count_from_the_last_disk_and_empty_drives_use_one() -> None:
    xml = domain(file_disk("/img/a.raw", "hda", "ide")
                 + file_disk("", "hdb", "ide", device="cdrom")
                 + file_disk("/img/c.raw", "hdc", "ide"))
    got = pairs(stage(disk.disks, xml))
    nodes = [v["node-name"] for o, v in got if o == "-blockdev" and v["node-name"].endswith("format")]
    # hdc is prepared first (1), the empty CD-ROM takes 2 without any node, hda 3.
    assert nodes == ["libvirt-3-format", "libvirt-1-format"]
    cdrom = next(v for o, v in got if o == "-device" and v["id"] == "ide0-0-1")
    assert "drive" not in cdrom and cdrom["driver"] == "ide-cd"


def test_key_value_device_without_device_json() -> None:
    args = stage(disk.disks, domain(file_disk("/dev/sdb", "hda", "ide", dtype="block")), caps=())
    assert args[1].startswith('{"driver":"host_device","filename":"/dev/sdb"')
    assert args[-1] == "ide-hd,bus=ide.0,unit=0,drive=libvirt-1-format,id=ide0-0-0,bootindex=1"


def test_cdrom_is_read_only_and_only_a_host_cd_drive_is_host_cdrom() -> None:
    xml = domain(file_disk("/dev/cdrom", "hdc", "ide", device="cdrom", dtype="block")
                 + file_disk("/dev/sr5", "hdd", "ide", device="cdrom", dtype="block"))
    got = pairs(stage(disk.disks, xml))
    storage = [v for o, v in got if o == "-blockdev" and "filename" in v]
    # The test host lists /dev/cdrom as its only CD drive.
    assert [s["driver"] for s in storage] == ["host_cdrom", "host_device"]
    formats = [v for o, v in got if o == "-blockdev" and "file" in v]
    assert all(f["read-only"] is True for f in formats)


def test_backing_chain_from_the_bottom_up_and_a_terminated_chain_says_backing_null() -> None:
    chain = ("<backingStore type='file'><format type='qcow2'/><source file='/img/base.qcow2'/>"
             "<backingStore/></backingStore>")
    xml = domain(file_disk("/img/top.qcow2", "vda", "virtio", chain + PCI3,
                           driver="<driver name='qemu' type='qcow2'/>"))
    got = pairs(stage(disk.disks, xml))
    blockdevs = [v for o, v in got if o == "-blockdev"]
    assert [b["node-name"] for b in blockdevs] == ["libvirt-2-storage", "libvirt-2-format",
                                                   "libvirt-1-storage", "libvirt-1-format"]
    assert blockdevs[1] == {"node-name": "libvirt-2-format", "read-only": True, "driver": "qcow2",
                            "file": "libvirt-2-storage", "backing": None}
    assert blockdevs[3]["backing"] == "libvirt-2-format" and blockdevs[3]["read-only"] is False


def test_qcow2_without_a_backing_store_in_the_xml_lets_qemu_probe() -> None:
    xml = domain(file_disk("/img/top.qcow2", "vda", "virtio", PCI3, driver="<driver name='qemu' type='qcow2'/>"))
    fmt = pairs(stage(disk.disks, xml))[1][1]
    assert "backing" not in fmt


# --- <driver> settings ---------------------------------------------------------------------

@pytest.mark.parametrize(("mode", "direct", "noflush", "write_cache"), [
    ("none", True, False, "on"), ("writethrough", False, False, "off"), ("writeback", False, False, "on"),
    ("directsync", True, False, "off"), ("unsafe", False, True, "on"),
])
def test_cache_modes_split_into_node_flags_and_the_device_write_cache(mode: str, direct: bool, noflush: bool,
                                                                      write_cache: str) -> None:
    xml = domain(file_disk("/img/a.raw", "vda", "virtio", PCI3, driver=f"<driver name='qemu' type='raw' cache='{mode}'/>"))
    got = pairs(stage(disk.disks, xml))
    cache = {"direct": direct, "no-flush": noflush}
    assert got[0][1]["cache"] == cache and got[1][1]["cache"] == cache
    assert got[2][1]["write-cache"] == write_cache


def test_a_shared_writable_disk_is_uncached_and_share_rw() -> None:
    xml = domain(file_disk("/img/a.raw", "vda", "virtio", "<shareable/>" + PCI3))
    got = pairs(stage(disk.disks, xml))
    assert got[0][1]["cache"] == {"direct": True, "no-flush": False}
    assert got[2][1]["share-rw"] is True and got[2][1]["write-cache"] == "on"


def test_discard_and_detect_zeroes_unmap_without_discard_unmap_is_on() -> None:
    xml = domain(file_disk("/img/a.raw", "vda", "virtio", PCI3,
                           driver="<driver name='qemu' type='raw' discard='ignore' detect_zeroes='unmap'/>")
                 + file_disk("/img/b.raw", "vdb", "virtio", PCI4,
                             driver="<driver name='qemu' type='raw' discard='unmap' detect_zeroes='unmap'/>"))
    formats = [v for o, v in pairs(stage(disk.disks, xml)) if o == "-blockdev" and "file" in v]
    assert (formats[0]["discard"], formats[0]["detect-zeroes"]) == ("ignore", "on")
    assert (formats[1]["discard"], formats[1]["detect-zeroes"]) == ("unmap", "unmap")


def test_copy_on_read_layer_sits_on_the_format_node() -> None:
    xml = domain(file_disk("/img/a.raw", "vda", "virtio", PCI3,
                           driver="<driver name='qemu' type='raw' copy_on_read='on'/>"))
    got = pairs(stage(disk.disks, xml))
    assert got[2] == ("-blockdev", {"driver": "copy-on-read", "node-name": "libvirt-CoR-vda",
                                    "file": "libvirt-1-format", "discard": "unmap"})
    assert got[3][1]["drive"] == "libvirt-CoR-vda"


def test_virtio_blk_options_in_libvirts_order() -> None:
    drv = "<driver name='qemu' type='raw' iothread='1' ioeventfd='on' event_idx='off' queues='4' queue_size='256'/>"
    xml = domain(file_disk("/img/a.raw", "vda", "virtio", PCI3, driver=drv), top="<iothreads>1</iothreads>")
    dev = pairs(stage(disk.disks, xml, caps=(*JSON_CAPS, "virtio-blk-pci.scsi")))[-1][1]
    assert list(dev) == ["driver", "iothread", "ioeventfd", "event_idx", "scsi", "num-queues", "queue-size",
                         "bus", "addr", "drive", "id", "bootindex"]
    assert dev["scsi"] is False and dev["iothread"] == "iothread1"


def test_serial_spaces_are_escaped_and_error_policy_enospace_is_enospc_for_writes_only() -> None:
    xml = domain(file_disk("/img/a.raw", "hda", "ide", "<serial>AB C</serial>",
                           driver="<driver name='qemu' type='raw' error_policy='enospace'/>"))
    dev = pairs(stage(disk.disks, xml))[-1][1]
    assert dev["serial"] == "AB\\ C" and dev["werror"] == "enospc" and "rerror" not in dev


def test_scsi_disk_gets_a_vpd_device_id_from_its_drive_alias() -> None:
    xml = domain(file_disk("/img/a.raw", "sda", "scsi") + "<controller type='scsi' index='0' model='virtio-scsi'/>")
    dev = pairs(stage(disk.disks, xml))[-1][1]
    assert dev["driver"] == "scsi-hd" and dev["device_id"] == "drive-scsi0-0-0-0"
    assert (dev["bus"], dev["channel"], dev["scsi-id"], dev["lun"]) == ("scsi0.0", 0, 0, 0)


# --- network sources and secrets --------------------------------------------------------------

def net_disk(protocol: str, name: str, hosts: str, extra: str = "", dev: str = "vda") -> str:
    return (f"<disk type='network' device='disk'><driver name='qemu' type='raw'/>{extra}"
            f"<source protocol='{protocol}' name='{name}'>{hosts}</source>"
            f"<target dev='{dev}' bus='virtio'/>{PCI3}</disk>")


def test_secret_is_aes_256_cbc_under_the_master_key_with_the_hosts_iv() -> None:
    ctx = ctx_for(domain(), JSON_CAPS)
    props = secret.secret_props(ctx, "x-secret0", b"AQCVn5hO6HzFAhAAq0NCv8jtJcIcE+HOBlMQ1A")
    # The test host's randomness counts 0, 1, 2...: key bytes 0..31, IV bytes 0..15; the
    # ciphertext is what `openssl enc -aes-256-cbc` gives for that key, IV and text.
    assert props["iv"] == base64.b64encode(bytes(range(16))).decode()
    assert props["data"] == "9eao5F8qtkGt+seB1HYivWIxbtwUu6MQtg1zpj/oDtUsPr1q8wBYM91uEHCn6j/1"
    assert list(props) == ["qom-type", "id", "data", "keyid", "iv", "format"]


def test_iscsi_with_auth_puts_a_secret_object_before_its_nodes() -> None:
    auth = "<auth username='myname'><secret type='iscsi' usage='mycluster_myname'/></auth>"
    xml = domain(net_disk("iscsi", "iqn.1992-01.com.example:storage/2", "<host name='example.org' port='6000'/>", auth))
    got = pairs(stage(disk.disks, xml))
    assert got[0][0] == "-object" and got[0][1]["id"] == "libvirt-1-storage-auth-secret0"
    assert got[1][1] == {"driver": "iscsi", "portal": "example.org:6000", "target": "iqn.1992-01.com.example:storage",
                         "lun": 2, "transport": "tcp", "user": "myname",
                         "password-secret": "libvirt-1-storage-auth-secret0", "node-name": "libvirt-1-storage",
                         "auto-read-only": True, "discard": "unmap"}


def test_nbd_default_port_and_gluster_debug_level() -> None:
    xml = domain(net_disk("nbd", "bar", "<host name='example.org'/>")
                 + net_disk("gluster", "Volume/Image", "<host name='example.org'/>", dev="vdb").replace(PCI3, PCI4))
    storage = [v for o, v in pairs(stage(disk.disks, xml)) if o == "-blockdev" and "driver" in v
               and v["driver"] in ("nbd", "gluster")]
    assert storage[0]["server"] == {"type": "inet", "host": "example.org", "port": "10809"}
    assert storage[0]["export"] == "bar"
    assert storage[1]["volume"] == "Volume" and storage[1]["path"] == "Image" and storage[1]["debug"] == 4
    assert storage[1]["server"] == [{"type": "inet", "host": "example.org", "port": "24007"}]


def test_http_url_carries_the_default_port() -> None:
    xml = domain(net_disk("http", "test.img", "<host name='example.org'/>"))
    assert pairs(stage(disk.disks, xml))[0][1]["url"] == "http://example.org:80/test.img"


def test_nbd_tls_from_the_attribute_with_the_drivers_certificate_dir() -> None:
    xml = domain(net_disk("nbd", "bar", "<host name='example.org' port='1234'/>").replace(
        "name='bar'>", "name='bar' tls='yes'>"))
    got = pairs(stage(disk.disks, xml, caps=(*JSON_CAPS, "nbd-tls"), nbd_tls_x509_cert_dir="/pki/nbd"))
    assert got[0] == ("-object", {"qom-type": "tls-creds-x509", "id": "objlibvirt-1-storage_tls0", "dir": "/pki/nbd",
                                  "endpoint": "client", "verify-peer": True})
    assert got[1][1]["tls-creds"] == "objlibvirt-1-storage_tls0"


def test_luks_raw_image_is_a_luks_format_node_with_its_secret() -> None:
    enc = "<encryption format='luks'><secret type='passphrase' uuid='0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f'/></encryption>"
    xml = domain(file_disk("/img/a.luks", "vda", "virtio", PCI3).replace("/></disk>", "/></disk>").replace(
        "<source file='/img/a.luks'/>", f"<source file='/img/a.luks'>{enc}</source>"))
    got = pairs(stage(disk.disks, xml))
    assert got[0][1]["id"] == "libvirt-1-format-encryption-secret0"
    assert got[2][1] == {"node-name": "libvirt-1-format", "read-only": False, "driver": "luks",
                         "key-secret": "libvirt-1-format-encryption-secret0", "file": "libvirt-1-storage"}


def test_vhost_user_disk_is_a_chardev_and_takes_no_node_id() -> None:
    xml = domain("<disk type='vhostuser' device='disk'><driver name='qemu' type='raw'/>"
                 "<source type='unix' path='/tmp/vhost.sock'><reconnect enabled='yes' timeout='10'/></source>"
                 f"<target dev='vda' bus='virtio'/>{PCI3}</disk>" + file_disk("/img/b.raw", "vdb", "virtio", PCI4))
    got = pairs(stage(disk.disks, xml))
    assert got[0] == ("-chardev", "socket,id=chr-vu-virtio-disk0,path=/tmp/vhost.sock,reconnect=10")
    assert got[1][1]["driver"] == "vhost-user-blk-pci" and got[1][1]["chardev"] == "chr-vu-virtio-disk0"
    assert got[2][1]["node-name"] == "libvirt-1-storage"


# --- floppies --------------------------------------------------------------------------------

def test_floppy_boot_index_goes_to_the_controller_on_pc_and_to_an_isa_fdc_on_q35() -> None:
    fd = file_disk("/img/fd.img", "fda", "fdc", device="floppy")
    pc = stage(disk.disks, domain(fd, os="<boot dev='fd'/>"))
    assert pc[:2] == ["-global", "isa-fdc.bootindexA=1"]
    assert json.loads(pc[-1]) == {"driver": "floppy", "unit": 0, "drive": "libvirt-1-format", "id": "fdc0-0-0"}
    q35 = stage(disk.disks, domain(fd, os="<boot dev='fd'/>", machine="q35"))
    assert json.loads(q35[1]) == {"driver": "isa-fdc", "bootindexA": 1}


# --- firmware ------------------------------------------------------------------------------

def test_pflash_nodes_and_the_drivers_default_variable_store() -> None:
    os = "<loader readonly='yes' type='pflash'>/fw/CODE.fd</loader><boot dev='hd'/>"
    xml = domain(os=os, machine="q35")
    ctx = ctx_for(xml, JSON_CAPS)
    ctx.opts.driver.update(nvram_dir="/nv")
    cmd = Command()
    pflash.pflash(ctx, cmd)
    got = pairs(cmd.args)
    assert got[0][1]["filename"] == "/fw/CODE.fd" and got[0][1]["node-name"] == "libvirt-pflash0-storage"
    assert got[1][1]["read-only"] is True
    assert got[2][1]["filename"] == "/nv/guest_VARS.fd" and got[3][1]["read-only"] is False
    assert (ctx.state["pflash0"], ctx.state["pflash1"]) == ("libvirt-pflash0-format", "libvirt-pflash1-format")


def _descriptor(path: Path, name: str, body: dict) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / name).write_text(json.dumps(body))


def test_autoselected_firmware_gets_the_flash_nodes_and_a_named_store_is_kept(tmp_path: Path) -> None:
    _descriptor(tmp_path / "usr/share/qemu/firmware", "60-ovmf.json", {
        "interface-types": ["uefi"], "targets": [{"architecture": "x86_64", "machines": ["pc-q35-*"]}],
        "features": [], "mapping": {"device": "flash", "executable": {"filename": "/fw/CODE.fd", "format": "raw"},
                                    "nvram-template": {"filename": "/fw/VARS.fd", "format": "raw"}}})
    host = hostmod.from_dict(HOST.name, {**HOST.raw, "fs_root": str(tmp_path)})
    for nvram, want in (("", "/nv/guest_VARS.fd"), ("<nvram>/mine/VARS.fd</nvram>", "/mine/VARS.fd")):
        xml = domain(os=nvram + "<boot dev='hd'/>", machine="pc-q35-7.0").replace("<os>", "<os firmware='efi'>")
        ctx = ctx_for(xml, JSON_CAPS, host)
        ctx.opts.driver.update(nvram_dir="/nv")
        got = [(i.path, i.storage_node, i.readonly) for i in pflash.images(ctx)]
        assert got == [("/fw/CODE.fd", "libvirt-pflash0-storage", True), (want, "libvirt-pflash1-storage", False)]


# --- filesystems -------------------------------------------------------------------------------

def test_9p_share_is_an_fsdev_and_a_virtio_9p_device() -> None:
    fs = (f"<filesystem type='mount' accessmode='mapped'><driver type='path' wrpolicy='immediate'/>"
          f"<source dir='/export'/><target dir='tag'/>{PCI3}</filesystem>")
    got = stage(disk.filesystems, domain(fs))
    assert got[:2] == ["-fsdev", "local,security_model=mapped,writeout=immediate,id=fsdev-fs0,path=/export"]
    assert json.loads(got[3]) == {"driver": "virtio-9p-pci", "id": "fs0", "fsdev": "fsdev-fs0", "mount_tag": "tag",
                                  "bus": "pci.0", "addr": "0x3"}


def test_virtiofs_is_a_socket_in_the_domain_dir_and_a_vhost_user_fs_device() -> None:
    fs = (f"<filesystem type='mount' accessmode='passthrough'><driver type='virtiofs' queue='1024'/>"
          f"<source dir='/export'/><target dir='tag'/>{PCI3}</filesystem>")
    xml = domain(fs, top="<memoryBacking><access mode='shared'/></memoryBacking>")
    got = stage(disk.filesystems, xml, lib_dir="/lib")
    assert got[:2] == ["-chardev", "socket,id=chr-vu-fs0,path=/lib/domain--1-guest/fs0-fs.sock"]
    assert json.loads(got[3]) == {"driver": "vhost-user-fs-pci", "id": "fs0", "chardev": "chr-vu-fs0",
                                  "queue-size": 1024, "tag": "tag", "bus": "pci.0", "addr": "0x3"}


def test_storage_ids_continue_after_the_disks_for_other_backends() -> None:
    ctx = ctx_for(domain(file_disk("/img/a.raw", "hda", "ide")), JSON_CAPS)
    prepare.prepare(ctx)
    disk.disks(ctx, Command())
    assert blockdev.next_storage_id(ctx) == 2


@pytest.mark.corpus
def test_iscsi_direct_pool_volume_is_qemus_own_initiator_with_the_pools_login() -> None:
    # The corpus pool: host iscsi.example.com, device iqn.2013-06.com.example:iscsi-pool, an initiator
    # IQN and CHAP user 'user'; volume unit:0:0:3 is LUN 3 on the default port.
    xml = domain("<disk type='volume' device='disk'><driver name='qemu' type='raw'/>"
                 "<source pool='pool-iscsi-direct-auth' volume='unit:0:0:3'/>"
                 f"<target dev='vda' bus='virtio'/>{PCI3}</disk>")
    got = pairs(stage(disk.disks, xml))
    assert got[0][1]["id"] == "libvirt-1-storage-auth-secret0"
    assert got[1][1] == {"driver": "iscsi", "portal": "iscsi.example.com:3260",
                         "target": "iqn.2013-06.com.example:iscsi-pool", "lun": 3, "transport": "tcp", "user": "user",
                         "password-secret": "libvirt-1-storage-auth-secret0",
                         "initiator-name": "iqn.2013-06.com.example:iscsi-initiator",
                         "node-name": "libvirt-1-storage", "auto-read-only": True, "discard": "unmap"}


def test_objects_are_key_value_without_qapified_object_add() -> None:
    auth = "<auth username='myname'><secret type='iscsi' usage='mycluster_myname'/></auth>"
    xml = domain(net_disk("iscsi", "iqn.1992-01.com.example/1", "<host name='example.org'/>", auth))
    args = stage(disk.disks, xml, caps=("device.json+hotplug",))
    assert args[0] == "-object"
    assert args[1].startswith("secret,id=libvirt-1-storage-auth-secret0,data=")
    assert args[1].endswith(",keyid=masterKey0,iv=AAECAwQFBgcICQoLDA0ODw==,format=base64")


def test_a_storage_slice_under_a_qcow2_gets_its_own_raw_node() -> None:
    src = ("<source file='/img/whole.img'><slices><slice type='storage' offset='1024' size='4096'/></slices>"
           "</source>")
    xml = domain(f"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>{src}"
                 f"<target dev='vda' bus='virtio'/>{PCI3}</disk>"
                 f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>{src}"
                 f"<target dev='vdb' bus='virtio'/>{PCI4}</disk>")
    blockdevs = [v for o, v in pairs(stage(disk.disks, xml)) if o == "-blockdev"]
    # vdb (raw, prepared first: id 1) keeps the slice in its format node; vda (qcow2, id 2) needs a slice layer.
    assert blockdevs[1] == {"driver": "raw", "node-name": "libvirt-2-slice-sto", "offset": 1024, "size": 4096,
                            "file": "libvirt-2-storage", "auto-read-only": True, "discard": "unmap"}
    assert blockdevs[2]["file"] == "libvirt-2-slice-sto"
    assert blockdevs[4] == {"node-name": "libvirt-1-format", "read-only": False, "driver": "raw", "offset": 1024,
                            "size": 4096, "file": "libvirt-1-storage"}
