"""The remaining devices as libvirt 9.0 builds them: TPM, input, watchdog, hostdev, balloon, RNG, panic..."""

from __future__ import annotations

from ..cmdline.command import Command
from ..cmdline.context import Ctx


def dbus_vmstate(ctx: Ctx, cmd: Command) -> None:
    """-object dbus-vmstate: not built yet."""


def vmgenid(ctx: Ctx, cmd: Command) -> None:
    """-device vmgenid: not built yet."""


def iommu(ctx: Ctx, cmd: Command) -> None:
    """-device intel-iommu / virtio-iommu: not built yet."""


def tpms(ctx: Ctx, cmd: Command) -> None:
    """-tpmdev, -device tpm-*: not built yet."""


def inputs(ctx: Ctx, cmd: Command) -> None:
    """-device for <input>: not built yet."""


def watchdogs(ctx: Ctx, cmd: Command) -> None:
    """-device for <watchdog>, -watchdog-action: not built yet."""


def hostdevs(ctx: Ctx, cmd: Command) -> None:
    """-device vfio-pci / usb-host / scsi-generic...: not built yet."""


def memballoon(ctx: Ctx, cmd: Command) -> None:
    """-device virtio-balloon-*: not built yet."""


def rngs(ctx: Ctx, cmd: Command) -> None:
    """-object rng-*, -device virtio-rng-*: not built yet."""


def nvram(ctx: Ctx, cmd: Command) -> None:
    """-global spapr-nvram.reg: not built yet."""


def vmcoreinfo(ctx: Ctx, cmd: Command) -> None:
    """-device vmcoreinfo: not built yet."""


def panics(ctx: Ctx, cmd: Command) -> None:
    """-device pvpanic / -global for <panic>: not built yet."""


def shmems(ctx: Ctx, cmd: Command) -> None:
    """-object + -device ivshmem: not built yet."""


def vsock(ctx: Ctx, cmd: Command) -> None:
    """-device vhost-vsock-*: not built yet."""
