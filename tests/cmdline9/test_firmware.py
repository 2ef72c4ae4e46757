"""libvirt 9.0's firmware autoselection (qemu_firmware.c) as the command line shows it: -bios, SMM, the secure
flash and the pflash nodes. The descriptors are the test host's (corpus host/root)."""

from __future__ import annotations

import pytest
from emit9 import ctx_for, domain

from domlint.cmdline.command import Command
from domlint.cmdline9 import fwauto, platform

pytestmark = pytest.mark.libvirt("9.0")


def run(stage, xml: str) -> list[str]:
    cmd = Command(emulator="qemu")
    stage(ctx_for(xml), cmd)
    return cmd.args


@pytest.mark.corpus
def test_bios_autoselection_takes_the_seabios_rom() -> None:
    # 40-bios.json maps SeaBIOS into memory for pc-i440fx-*/pc-q35-* machines: a ROM loader, so -bios.
    xml = domain(machine="pc-i440fx-8.0").replace("<os>", "<os firmware='bios'>")
    assert run(platform.loader, xml) == ["-bios", "/usr/share/seabios/bios-256k.bin"]


@pytest.mark.corpus
def test_efi_autoselection_prefers_the_first_descriptor_by_name() -> None:
    # 40-ovmf-sb-keys.json (in /etc) comes first: secure boot, requires SMM, so smm=on and a secure flash.
    xml = domain(machine="pc-q35-8.0").replace("<os>", "<os firmware='efi'>")
    fw = fwauto.resolve(ctx_for(xml))
    assert fw.loader_type == "pflash" and fw.secure and fw.smm_on
    assert fw.nvram_path == "/var/lib/libvirt/qemu/nvram/guest_VARS.fd"
    assert run(platform.machine, xml)[1] == ("pc-q35-8.0,usb=off,smm=on,dump-guest-core=off,"
                                             "pflash0=libvirt-pflash0-format,pflash1=libvirt-pflash1-format")


@pytest.mark.corpus
def test_refusing_secure_boot_picks_a_firmware_without_smm() -> None:
    os_ = "<firmware><feature enabled='no' name='secure-boot'/></firmware><boot dev='hd'/>"
    xml = domain(machine="pc-q35-8.0", os=os_).replace("<os>", "<os firmware='efi'>")
    fw = fwauto.resolve(ctx_for(xml))
    assert fw.loader_type == "pflash" and not fw.secure and not fw.smm_on


def test_a_stateless_manual_flash_has_no_nvram_node() -> None:
    os_ = "<loader readonly='yes' type='pflash' stateless='yes'>/usr/share/OVMF/OVMF.sev.fd</loader>"
    xml = domain(machine="pc-q35-8.0", os=os_)
    assert platform.pflash_nodes(ctx_for(xml)) == ("libvirt-pflash0-format", None)
