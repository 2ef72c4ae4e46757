"""Filesystem passthrough: -fsdev and virtio-9p-pci."""

from __future__ import annotations

import pytest
from emit_helpers import domain
from family_ctx import ctx_for

from domlint.cmdline import fs
from domlint.cmdline.command import Command
from domlint.errors import InputError


def one_fs(attrs: str = "", inner: str = "") -> str:
    """A domain with one <filesystem> exporting /srv/share as tag 'share'."""
    return domain(f"<filesystem {attrs}><source dir='/srv/share'/><target dir='share'/>"
                  f"<alias name='fs0'/>{inner}</filesystem>")


def fsdev(xml: str, caps: tuple[str, ...] = ("fsdev",)) -> str:
    """The -fsdev string of the domain's filesystem."""
    ctx = ctx_for(xml, caps)
    return fs.fsdev_str(ctx, ctx.devices.find("filesystem"))


def test_default_is_the_local_backend_in_passthrough_mode() -> None:
    assert fsdev(one_fs()) == "local,security_model=passthrough,id=fsdev-fs0,path=/srv/share"


@pytest.mark.parametrize(("mode", "model"), [("mapped", "mapped"), ("squash", "none")])
def test_access_modes_map_to_security_models(mode: str, model: str) -> None:
    assert fsdev(one_fs(f"accessmode='{mode}'")).startswith(f"local,security_model={model},")


def test_handle_driver_has_no_security_model_and_writeout_follows_it() -> None:
    got = fsdev(one_fs(inner="<driver type='handle' wrpolicy='immediate'/>"))
    assert got == "handle,writeout=immediate,id=fsdev-fs0,path=/srv/share"


def test_readonly_export() -> None:
    assert fsdev(one_fs(inner="<readonly/>")).endswith(",path=/srv/share,readonly")


def test_block_filesystems_cannot_be_passed_through() -> None:
    with pytest.raises(InputError, match="mount"):
        fsdev(domain("<filesystem type='block'><source dev='/dev/sdb'/><target dir='t'/></filesystem>"))


def test_device_names_the_fsdev_and_the_mount_tag() -> None:
    ctx = ctx_for(one_fs(), ("fsdev",))
    got = fs.fs_dev_str(ctx, ctx.devices.find("filesystem"))
    assert got.startswith("virtio-9p-pci,id=fs0,fsdev=fsdev-fs0,mount_tag=share")


def test_stage_pairs_fsdev_and_device_only_when_qemu_has_fsdev() -> None:
    for caps, want in ((("fsdev",), ["-fsdev", "-device"]), ((), [])):
        cmd = Command()
        fs.filesystems(ctx_for(one_fs(), caps), cmd)
        assert cmd.args[::2] == want
