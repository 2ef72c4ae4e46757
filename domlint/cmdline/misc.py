"""Smaller pieces of the command line: SMBIOS, NVRAM, pass-through arguments, sandbox, pvpanic, -msg."""

from __future__ import annotations

from lxml import etree

from .command import Command
from .context import Ctx

QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0"

# SMBIOS fields QEMU takes, in the order it is given them, per table.
_SMBIOS_TABLES = (
    ("bios", "type=0", ("vendor", "version", "date", "release")),
    ("system", "type=1", ("manufacturer", "product", "version", "serial", "uuid", "sku", "family")),
)


def _entries(block: etree._Element | None) -> dict[str, str]:
    if block is None:
        return {}
    return {e.get("name", ""): (e.text or "") for e in block.iterfind("entry")}


def smbios(ctx: Ctx, cmd: Command) -> None:
    """-smbios type=0 and type=1 from <sysinfo> when <os><smbios mode='sysinfo'/>."""
    mode_el = ctx.root.find("os/smbios")
    if mode_el is None or mode_el.get("mode") != "sysinfo":
        return
    sysinfo = ctx.root.find("sysinfo")
    if sysinfo is None:
        return
    for block, head, fields in _SMBIOS_TABLES:
        values = _entries(sysinfo.find(block))
        parts = [f"{f}={values[f]}" for f in fields if f in values]
        if parts:
            cmd.add("-smbios", ",".join([head, *parts]))


def nvram(ctx: Ctx, cmd: Command) -> None:
    """-global spapr-nvram.reg= for a pseries NVRAM with a spapr-vio address."""
    addr = ctx.root.find("devices/nvram/address")
    if addr is None or addr.get("type") != "spapr-vio" or addr.get("reg") is None:
        return
    try:
        reg = int(addr.get("reg"), 16)  # libvirt reads a spapr-vio reg as hexadecimal, 0x or not
    except ValueError:
        return
    cmd.add("-global", f"spapr-nvram.reg={reg:#x}")


def passthrough(ctx: Ctx, cmd: Command) -> None:
    """<qemu:commandline> arguments, then its environment variables."""
    block = ctx.root.find(f"{{{QEMU_NS}}}commandline")
    if block is None:
        return
    for arg in block.iterfind(f"{{{QEMU_NS}}}arg"):
        cmd.add(arg.get("value", ""))
    for env in block.iterfind(f"{{{QEMU_NS}}}env"):
        cmd.setenv(env.get("name", ""), env.get("value") or "")


def sandbox(ctx: Ctx, cmd: Command) -> None:
    """-sandbox on/off when the driver configures seccomp and QEMU has it."""
    setting = ctx.setting("seccomp_sandbox")
    if setting is not None and ctx.has("seccomp-sandbox"):
        cmd.add("-sandbox", "on" if setting else "off")


def panic(ctx: Ctx, cmd: Command) -> None:
    """-device pvpanic, with its I/O port when the address gives one."""
    el = ctx.root.find("devices/panic")
    if el is None:
        return
    addr = el.find("address")
    iobase = 0
    if addr is not None and addr.get("iobase"):
        try:
            iobase = int(addr.get("iobase"), 16)  # an ISA iobase is hexadecimal to libvirt, 0x or not
        except ValueError:
            iobase = 0
    cmd.add("-device", f"pvpanic,ioport={iobase}" if iobase > 0 else "pvpanic")


def msg_timestamp(ctx: Ctx, cmd: Command) -> None:
    """-msg timestamp=on: libvirt timestamps QEMU's log lines unless the driver turns it off."""
    if ctx.has("msg-timestamp") and ctx.setting("log_timestamp", True):
        cmd.add("-msg", "timestamp=on")
