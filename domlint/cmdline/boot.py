"""Boot: -boot order and menu, or per-device bootindex; direct kernel boot; -bootloader.

Sets ctx.state["emit_bootindex"] (devices get bootindex= instead of -boot
order) and ctx.state["boot_devs"] (the <os><boot dev> list, e.g. ['hd',
'cdrom']) for the disk, net and hostdev stages.
"""

from __future__ import annotations

from .command import Command
from .context import Ctx

_BOOT_LETTER = {"cdrom": "d", "fd": "a", "hd": "c", "network": "n"}


def boot_devs(ctx: Ctx) -> list[str]:
    """The <os><boot dev> list; an HVM guest with no per-device boot order defaults to ['hd']."""
    devs = [b.get("dev", "") for b in ctx.root.iterfind("os/boot")]
    if devs:
        return devs
    per_device = ctx.root.find("devices//boot[@order]") is not None
    os_type = (ctx.root.findtext("os/type") or "hvm").strip()
    return [] if per_device or os_type != "hvm" else ["hd"]


def boot(ctx: Ctx, cmd: Command) -> None:
    """-boot ..., then -kernel/-initrd/-append/-dtb, or -bootloader for Xen-style guests."""
    devs = boot_devs(ctx)
    ctx.state["boot_devs"] = devs
    bootloader = (ctx.root.findtext("bootloader") or "").strip()
    if bootloader:
        ctx.state["emit_bootindex"] = False
        cmd.add("-bootloader", bootloader)
        return
    menu_el = ctx.root.find("os/bootmenu")
    menu = menu_el.get("enable") if menu_el is not None else None
    emit_index = not devs or (ctx.has("boot-index") and (menu != "yes" or not ctx.has("boot-menu")))
    ctx.state["emit_bootindex"] = emit_index
    params: list[str] = []
    if not emit_index:
        params.append("".join(_BOOT_LETTER.get(d, "c") for d in devs))
    if menu in ("yes", "no") and ctx.has("boot-menu"):
        params.append(f"menu={'on' if menu == 'yes' else 'off'}")
    bios_el = ctx.root.find("os/bios")
    if bios_el is not None and bios_el.get("rebootTimeout") is not None:
        params.append(f"reboot-timeout={bios_el.get('rebootTimeout')}")
    if menu_el is not None and menu_el.get("timeout") is not None:
        params.append(f"splash-time={menu_el.get('timeout')}")
    if ctx.has("boot-strict"):
        params.append("strict=on")
    if params:
        joined = ",".join(params)
        cmd.add("-boot", joined if len(params) < 2 or emit_index else f"order={joined}")
    for tag, flag in (("kernel", "-kernel"), ("initrd", "-initrd"), ("cmdline", "-append"), ("dtb", "-dtb")):
        value = ctx.root.findtext(f"os/{tag}")
        if value is not None and value != "":
            cmd.add(flag, value)
