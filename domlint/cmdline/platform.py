"""The emulator's frame: environment, name, machine, monitor, power and incoming migration."""

from __future__ import annotations

from .command import Command
from .context import Ctx

# Environment variables libvirt passes through from its own environment, in its order.
_PASSED_ENV = ("LD_PRELOAD", "LD_LIBRARY_PATH", "PATH", "HOME", "USER", "LOGNAME", "TMPDIR")


def environment(ctx: Ctx, cmd: Command) -> None:
    """LC_ALL=C, then the host's PATH, HOME, USER, LOGNAME (those it sets)."""
    cmd.setenv("LC_ALL", "C")
    env = ctx.host.raw.get("environment") or {}
    for name in _PASSED_ENV:
        if env.get(name) is not None:
            cmd.setenv(name, str(env[name]))


def name(ctx: Ctx, cmd: Command) -> None:
    """-name, with the process name when the driver asks for it."""
    if not ctx.has("name"):
        return
    dom_name = ctx.root.findtext("name") or ""
    if ctx.setting("set_process_name") and ctx.has("name-process"):
        cmd.add("-name", f"{dom_name},process=qemu:{dom_name}")
    else:
        cmd.add("-name", dom_name)


def paused(ctx: Ctx, cmd: Command) -> None:
    """-S: libvirt starts every guest paused and resumes it over the monitor; -enable-fips."""
    cmd.add("-S")
    if ctx.has("enable-fips"):
        cmd.add("-enable-fips")


def _memory_backing(ctx: Ctx, child: str) -> bool:
    return ctx.root.find(f"memoryBacking/{child}") is not None


def machine(ctx: Ctx, cmd: Command) -> None:
    """-machine TYPE,accel=...,usb=off,dump-guest-core=...,mem-merge=off, or the old -M with accel flags."""
    mach = ctx.machine
    if not mach:
        return
    dump_core = ctx.root.find("memory")
    dump = dump_core.get("dumpCore") if dump_core is not None else None
    obsolete_accel = False
    if not ctx.has("machine-opt"):
        cmd.add("-M", mach)
        obsolete_accel = True
    else:
        opt = mach
        if ctx.virt_type == "qemu":
            opt += ",accel=tcg"
        elif ctx.virt_type == "kvm":
            opt += ",accel=kvm"
        else:
            obsolete_accel = True
        if ctx.has("machine-usb-opt"):
            opt += ",usb=off"
        if dump in ("on", "off"):
            opt += f",dump-guest-core={dump}"
        if _memory_backing(ctx, "nosharepages"):
            opt += ",mem-merge=off"
        cmd.add("-machine", opt)
    if obsolete_accel:
        cmd.add(*_obsolete_accel(ctx))


def _obsolete_accel(ctx: Ctx) -> list[str]:
    """-no-kqemu / -enable-kqemu / -no-kvm / -enable-kvm for QEMUs without accel=."""
    vt = ctx.virt_type
    no_kqemu = enable_kqemu = no_kvm = enable_kvm = False
    if vt == "qemu":
        no_kqemu, no_kvm = ctx.has("kqemu"), ctx.has("kvm")
    elif vt == "kqemu":
        no_kvm, enable_kqemu = ctx.has("kvm"), ctx.has("enable-kqemu")
    elif vt == "kvm":
        no_kqemu, enable_kvm = ctx.has("kqemu"), ctx.has("enable-kvm")
    out: list[str] = []
    if no_kqemu:
        out.append("-no-kqemu")
    elif enable_kqemu:
        out += ["-enable-kqemu", "-kernel-kqemu"]
    if no_kvm:
        out.append("-no-kvm")
    if enable_kvm:
        out.append("-enable-kvm")
    return out


def bios(ctx: Ctx, cmd: Command) -> None:
    """-bios from <os><loader>."""
    loader = ctx.root.findtext("os/loader")
    if loader:
        cmd.add("-bios", loader.strip())


def uuid(ctx: Ctx, cmd: Command) -> None:
    """-uuid; -domid or -xen-domid for Xen guests."""
    if ctx.has("uuid"):
        value = (ctx.root.findtext("uuid") or "").strip().lower()
        if value:
            cmd.add("-uuid", _canonical_uuid(value))
    os_type = (ctx.root.findtext("os/type") or "hvm").strip()
    if ctx.virt_type == "xen" or os_type in ("xen", "linux"):
        domid = str(ctx.opts.domain_id if ctx.opts.domain_id is not None else -1)
        if ctx.has("domid"):
            cmd.add("-domid", domid)
        elif ctx.has("xen-domid"):
            cmd.add("-xen-attach", "-xen-domid", domid)


def _canonical_uuid(value: str) -> str:
    """A UUID as libvirt prints it: 8-4-4-4-12 lower-case hex (the XML may omit the dashes)."""
    digits = value.replace("-", "")
    if len(digits) != 32:
        return value
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def defaults(ctx: Ctx, cmd: Command) -> None:
    """-no-user-config / -nodefconfig and -nodefaults with -device; -device sga for the serial BIOS."""
    if ctx.has("device"):
        if ctx.has("no-user-config"):
            cmd.add("-no-user-config")
        elif ctx.has("nodefconfig"):
            cmd.add("-nodefconfig")
        cmd.add("-nodefaults")
    bios_el = ctx.root.find("os/bios")
    if bios_el is not None and bios_el.get("useserial") == "yes":
        cmd.add("-device", "sga")


def monitor(ctx: Ctx, cmd: Command) -> None:
    """The monitor socket: -chardev + -mon, or -monitor on QEMUs without -chardev."""
    mon = ctx.host.raw.get("monitor") or {}
    path = mon.get("path")
    if not path:
        return
    path = str(path).replace("{name}", ctx.root.findtext("name") or "")
    server = ",server,nowait" if mon.get("server", True) else ""
    json = ctx.opts.json_monitor
    if ctx.has("chardev"):
        cmd.add("-chardev", f"socket,id=charmonitor,path={path}{server}")
        cmd.add("-mon", f"chardev=charmonitor,id=monitor,mode={'control' if json else 'readline'}")
    else:
        cmd.add("-monitor", f"{'control,' if json else ''}unix:{path}{server}")


def _lifecycle(ctx: Ctx, tag: str) -> str:
    defaults = {"on_poweroff": "destroy", "on_reboot": "restart", "on_crash": "destroy"}
    return (ctx.root.findtext(tag) or defaults[tag]).strip()


def power(ctx: Ctx, cmd: Command) -> None:
    """-no-reboot, -no-shutdown, -no-acpi and the PIIX4 S3/S4 switches."""
    allow_reboot = True
    if ctx.has("no-reboot") and all(
            _lifecycle(ctx, t) == "destroy" for t in ("on_reboot", "on_poweroff", "on_crash")):
        allow_reboot = False
        cmd.add("-no-reboot")
    if ctx.opts.json_monitor and allow_reboot and ctx.has("no-shutdown"):
        cmd.add("-no-shutdown")
    if ctx.has("no-acpi"):
        acpi = ctx.root.find("features/acpi")
        if acpi is None or acpi.get("state", "on") != "on":
            cmd.add("-no-acpi")
    for state in ("s3", "s4"):
        el = ctx.root.find(f"pm/suspend-to-{'mem' if state == 's3' else 'disk'}")
        if el is not None and el.get("enabled") in ("yes", "no"):
            cmd.add("-global", f"PIIX4_PM.disable_{state}={1 if el.get('enabled') == 'no' else 0}")


def incoming(ctx: Ctx, cmd: Command) -> None:
    """-incoming for a guest started from a migration stream or a saved image."""
    src = ctx.opts.migrate_from
    if not src:
        return
    # The rules (rules/migration.yaml) have refused a protocol this QEMU lacks, an unknown
    # one, and stdio without the descriptor it reads the saved image from.
    if src == "stdio":
        if ctx.has("migrate-qemu-fd"):
            value = f"fd:{ctx.opts.migrate_fd}"
        elif ctx.has("migrate-qemu-exec"):
            value = "exec:cat"
        else:
            value = src
    else:
        value = src
    cmd.add("-incoming", value)
