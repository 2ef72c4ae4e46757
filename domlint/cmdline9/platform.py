"""The domain-wide arguments of libvirt 9.0's command line: environment, name, machine, monitor, boot, sandbox..."""

from __future__ import annotations

from ..cmdline.command import Command
from ..cmdline.context import Ctx


def environment(ctx: Ctx, cmd: Command) -> None:
    """LC_ALL, PATH, HOME, USER, LOGNAME, XDG_* (+ settings.env): not built yet."""


def name(ctx: Ctx, cmd: Command) -> None:
    """-name guest=...,debug-threads=on: not built yet."""


def compat(ctx: Ctx, cmd: Command) -> None:
    """-compat (deprecation behaviour): not built yet."""


def paused(ctx: Ctx, cmd: Command) -> None:
    """-S: not built yet."""


def master_key(ctx: Ctx, cmd: Command) -> None:
    """-object secret masterKey0: not built yet."""


def fips(ctx: Ctx, cmd: Command) -> None:
    """-enable-fips: not built yet."""


def machine(ctx: Ctx, cmd: Command) -> None:
    """-machine: not built yet."""


def accel(ctx: Ctx, cmd: Command) -> None:
    """-accel: not built yet."""


def tseg(ctx: Ctx, cmd: Command) -> None:
    """-global mch.extended-tseg-mbytes: not built yet."""


def loader(ctx: Ctx, cmd: Command) -> None:
    """-bios: not built yet."""


def uuid(ctx: Ctx, cmd: Command) -> None:
    """-uuid: not built yet."""


def smbios(ctx: Ctx, cmd: Command) -> None:
    """-smbios: not built yet."""


def sysinfo(ctx: Ctx, cmd: Command) -> None:
    """-fw_cfg from <sysinfo type='fwcfg'>: not built yet."""


def display(ctx: Ctx, cmd: Command) -> None:
    """-display none: not built yet."""


def defaults(ctx: Ctx, cmd: Command) -> None:
    """-no-user-config, -nodefaults: not built yet."""


def monitor(ctx: Ctx, cmd: Command) -> None:
    """-chardev + -mon: not built yet."""


def power(ctx: Ctx, cmd: Command) -> None:
    """-no-reboot, -no-shutdown, -no-acpi, -global PIIX4_PM/ICH9-LPC: not built yet."""


def boot(ctx: Ctx, cmd: Command) -> None:
    """-boot, -kernel, -initrd, -append, -dtb: not built yet."""


def incoming(ctx: Ctx, cmd: Command) -> None:
    """-incoming: not built yet."""


def launch_security(ctx: Ctx, cmd: Command) -> None:
    """-object sev-guest / s390-pv-guest: not built yet."""


def passthrough(ctx: Ctx, cmd: Command) -> None:
    """<qemu:commandline> arguments and environment: not built yet."""


def sandbox(ctx: Ctx, cmd: Command) -> None:
    """-sandbox: not built yet."""


def msg_timestamp(ctx: Ctx, cmd: Command) -> None:
    """-msg timestamp=on: not built yet."""
