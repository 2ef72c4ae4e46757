"""The domain-wide arguments of libvirt 9.0's command line: environment, name, machine, monitor, boot, sandbox..."""

from __future__ import annotations

import datetime
import os
import re

from lxml import etree

from ..cmdline.command import Command
from ..cmdline.context import Ctx
from . import devutil, pflash
from . import fwauto as firmware
from . import props as P
from .hostfacts import host_fd, lib_dir

# Environment variables libvirt passes through from its own environment, in its order
# (virCommandAddEnvPassCommon), after LC_ALL=C.
_PASSED_ENV = ("LD_PRELOAD", "LD_LIBRARY_PATH", "DYLD_INSERT_LIBRARIES", "DYLD_FORCE_FLAT_NAMESPACE",
               "PATH", "HOME", "USER", "LOGNAME", "TMPDIR")

# The longest prefix of a domain name libvirt uses in per-domain paths (VIR_DOMAIN_SHORT_NAME_MAX).
_SHORT_NAME_MAX = 20


# --- facts shared with other families ------------------------------------------------------------

def domain_name(ctx: Ctx) -> str:
    """The domain's name."""
    return ctx.root.findtext("name") or ""


def domain_id(ctx: Ctx) -> int:
    """The id a starting domain has (-1 before QEMU runs, as in domxml-to-native)."""
    return ctx.opts.domain_id if ctx.opts.domain_id is not None else -1


def short_name(ctx: Ctx) -> str:
    """ID-NAME with the name cut to 20 characters, as libvirt names per-domain directories."""
    return f"{domain_id(ctx)}-{domain_name(ctx)[:_SHORT_NAME_MAX]}"


def domain_lib_dir(ctx: Ctx) -> str:
    """The per-domain directory under the lib dir: LIB/domain-ID-NAME."""
    return f"{lib_dir(ctx)}/domain-{short_name(ctx)}"


_QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0"


# --- stages ---------------------------------------------------------------------------------------

def environment(ctx: Ctx, cmd: Command) -> None:
    """LC_ALL=C, the passed-through variables libvirt has, then HOME and XDG_* set to the domain's lib dir."""
    env = dict(ctx.host.raw.get("environment") or {})
    extra = ctx.setting("env") or {}
    if isinstance(extra, dict):
        env.update(extra)
    cmd.setenv("LC_ALL", "C")
    for name_ in _PASSED_ENV:
        if env.get(name_) is not None:
            cmd.setenv(name_, str(env[name_]))
    base = domain_lib_dir(ctx)
    if ctx.setting("privileged", True) is False:
        cmd.setenv("XDG_CACHE_HOME", f"{base}/.cache")
        return
    cmd.setenv("HOME", base)
    cmd.setenv("XDG_DATA_HOME", f"{base}/.local/share")
    cmd.setenv("XDG_CACHE_HOME", f"{base}/.cache")
    cmd.setenv("XDG_CONFIG_HOME", f"{base}/.config")


def name(ctx: Ctx, cmd: Command) -> None:
    """-name guest=NAME (commas doubled), with process=qemu:NAME when the driver asks for it."""
    dom = domain_name(ctx)
    value = "guest=" + dom.replace(",", ",,")
    if ctx.setting("set_process_name"):
        value += f",process=qemu:{dom}"
    cmd.add("-name", value + ",debug-threads=on")


_DEPRECATION_INPUT = {"omit": None, "reject": "reject", "crash": "crash"}


def compat(ctx: Ctx, cmd: Command) -> None:
    """-compat from the deprecation behaviour (qemu.conf, or <qemu:deprecation behavior=...>)."""
    behavior = ctx.setting("deprecation_behavior") or "none"
    el = ctx.root.find(f"{{{_QEMU_NS}}}deprecation")
    if el is not None and el.get("behavior"):
        behavior = el.get("behavior")
    if behavior not in _DEPRECATION_INPUT or not ctx.has("compat-deprecated"):
        return
    props = P.compact({"deprecated-output": "hide", "deprecated-input": _DEPRECATION_INPUT[behavior]})
    cmd.add("-compat", P.to_json(props))


def paused(ctx: Ctx, cmd: Command) -> None:
    """-S: libvirt starts every guest with its CPUs stopped."""
    cmd.add("-S")


def master_key(ctx: Ctx, cmd: Command) -> None:
    """The master key secret object, read from the domain's lib dir."""
    P.add_object(ctx, cmd, {"qom-type": "secret", "id": "masterKey0", "format": "raw",
                          "file": f"{domain_lib_dir(ctx)}/master-key.aes"})


def fips(ctx: Ctx, cmd: Command) -> None:
    """-enable-fips when the host runs in FIPS mode and QEMU has the option."""
    if ctx.setting("host_fips") and ctx.has("enable-fips"):
        cmd.add("-enable-fips")


def _feature(ctx: Ctx, tag: str) -> etree._Element | None:
    return ctx.root.find(f"features/{tag}")


def _feature_state(ctx: Ctx, tag: str) -> str | None:
    """on/off of a <features> child with a state attribute; a bare element is on."""
    el = _feature(ctx, tag)
    if el is None:
        return None
    return devutil.switch(devutil.tristate(el.get("state", "on")))


def machine_info(ctx: Ctx) -> dict | None:
    """The capabilities' entry for the domain's machine type under its accelerator, or None."""
    from .cpu import caps_file_info

    want = "tcg" if ctx.virt_type == "qemu" else ctx.virt_type
    found = None
    info = caps_file_info(ctx)
    for m in (info["machines"] if info else ctx.caps.machines):
        if m.get("name") == ctx.machine or m.get("alias") == ctx.machine:
            if m.get("type", want) == want:
                return m
            found = found or m
    return found


def default_ram_id(ctx: Ctx) -> str | None:
    """The id QEMU gives the machine's main RAM (defaultRAMid), when its capabilities say."""
    info = machine_info(ctx)
    return info.get("defaultRAMid") if info else None


def has_numa(ctx: Ctx) -> bool:
    """True when the domain has guest NUMA cells."""
    return ctx.root.find("cpu/numa/cell") is not None


def is_q35(ctx: Ctx) -> bool:
    """True for a Q35 machine (q35 or pc-q35-*)."""
    m = ctx.machine
    return m == "q35" or m.startswith("pc-q35")


def is_pseries(ctx: Ctx) -> bool:
    """True for a pSeries machine."""
    return ctx.machine == "pseries" or ctx.machine.startswith("pseries-")


def _machine_features(ctx: Ctx) -> list[str]:
    out: list[str] = []
    for tag in ("vmport", "smm"):
        state = _feature_state(ctx, tag)
        if tag == "smm" and state is None and firmware.resolve(ctx).smm_on:
            state = "on"
        if state:
            out.append(f"{tag}={state}")
    from .cpu import gic_version

    gic = gic_version(ctx)
    if gic in ("2", "3", "host") and (gic != "2" or ctx.has("gic-version")):
        out.append(f"gic-version={gic}")
    ioapic = _feature(ctx, "ioapic")
    if ioapic is not None and ioapic.get("driver") in ("qemu", "kvm"):
        out.append("kernel_irqchip=" + ("split" if ioapic.get("driver") == "qemu" else "on"))
    hpt = _feature(ctx, "hpt")
    if hpt is not None and hpt.get("state", "on") == "on":
        if hpt.get("resizing"):
            out.append(f"resize-hpt={hpt.get('resizing')}")
        page = hpt.find("maxpagesize")
        if page is not None and page.text:
            out.append(f"cap-hpt-max-page-size={_kib(page)}k")
    for tag, cap in (("htm", "cap-htm"), ("nested-hv", "cap-nested-hv"), ("ccf-assist", "cap-ccf-assist")):
        state = _feature_state(ctx, tag)
        if state:
            out.append(f"{cap}={state}")
    for tag in ("cfpc", "sbbc", "ibs"):
        el = _feature(ctx, tag)
        if el is not None and el.get("value"):
            out.append(f"cap-{tag}={el.get('value')}")
    return out


# virScaleInteger's suffixes (any case): b, byte(s); k, m, g, t, p, e alone or with iB (1024) or B (1000).
_UNITS = {"b": 1, "byte": 1, "bytes": 1,
          **{f"{p}{s}": base ** (i + 1) for i, p in enumerate("kmgtpe")
             for s, base in (("", 1024), ("ib", 1024), ("b", 1000))}}


def scaled_bytes(value: str, unit: str | None, default_unit: str = "kib") -> int:
    """A size with its unit in bytes, as libvirt's virScaleInteger reads it (the parse rules refuse other units)."""
    scale = _UNITS.get((unit or default_unit).lower())
    if scale is None:
        raise ValueError(f"unknown suffix '{unit}'")
    return int(value.strip()) * scale


def _kib(el: etree._Element, default_unit: str = "kib") -> int:
    """A size element (text + unit) in KiB, rounded up."""
    b = scaled_bytes(el.text or "0", el.get("unit"), default_unit)
    return (b + 1023) // 1024


def _keywrap(ctx: Ctx) -> list[str]:
    out: list[str] = []
    ciphers = {c.get("name"): devutil.switch(devutil.tristate(c.get("state"))) for c in ctx.root.findall("keywrap/cipher")}
    for name_ in ("aes", "dea"):
        if ciphers.get(name_):
            out.append(f"{name_}-key-wrap={ciphers[name_]}")
    return out


def _memory_machine(ctx: Ctx) -> list[str]:
    mem = ctx.root.find("memory")
    dump = devutil.switch(devutil.onoff(mem, "dumpCore")) if mem is not None else None
    if dump is None:
        dump = "on" if ctx.setting("dump_guest_core") else "off"
    out = [f"dump-guest-core={dump}"]
    if ctx.root.find("memoryBacking/nosharepages") is not None:
        out.append("mem-merge=off")
    nvdimm = False
    epc = 0
    from .memory import memory_aliases

    aliases = memory_aliases(ctx)
    for index, dev in enumerate(ctx.devices.findall("memory")):
        model = dev.get("model")
        if model == "nvdimm" and not nvdimm:
            out.append("nvdimm=on")
            nvdimm = True
        elif model == "sgx-epc":
            node = dev.findtext("target/node")
            node = node.strip() if node else "0"
            alias = aliases[index]
            out.append(f"sgx-epc.{epc}.memdev=mem{alias},sgx-epc.{epc}.node={node}")
            epc += 1
    if not has_numa(ctx):
        ram = default_ram_id(ctx)
        if ram:
            out.append(f"memory-backend={ram}")
    return out


def _loadparm(ctx: Ctx) -> list[str]:
    for tag in ("disk", "interface"):
        for dev in ctx.devices.findall(tag):
            boot = dev.find("boot")
            if boot is not None and boot.get("order") == "1" and boot.get("loadparm"):
                return [f"loadparm={boot.get('loadparm').upper()}"]
    return []


def launch_security_type(ctx: Ctx) -> str | None:
    """sev or s390-pv when the domain asks for launch security."""
    sec = ctx.root.find("launchSecurity")
    return sec.get("type") if sec is not None else None


def pflash_nodes(ctx: Ctx) -> tuple[str | None, str | None]:
    """The node names of the firmware flash and its NVRAM store, when QEMU gets them.

    The flash stage (before -machine) records the nodes it wrote; -machine on its own asks it.
    """
    if "pflash0" not in ctx.state and "pflash1" not in ctx.state:
        nodes = pflash.pflash_nodes(ctx)
        return (nodes[0], nodes[1] if len(nodes) > 1 else None) if nodes else (None, None)
    return ctx.state.get("pflash0"), ctx.state.get("pflash1")


def machine(ctx: Ctx, cmd: Command) -> None:
    """-machine TYPE,usb=off with features, memory settings, firmware flash and timers."""
    parts = [ctx.machine, "usb=off"]
    parts += _keywrap(ctx)
    parts += _machine_features(ctx)
    iommu = ctx.devices.find("iommu")
    if iommu is not None and iommu.get("model") == "smmuv3":
        parts.append("iommu=smmuv3")
    parts += _memory_machine(ctx)
    from .cpu import effective_cpu

    guest = effective_cpu(ctx)
    if guest is not None and guest.mode == "host-model" and guest.model and is_pseries(ctx):
        parts.append(f"max-cpu-compat={guest.model}")
    if ctx.has("loadparm"):
        parts += _loadparm(ctx)
    sec = launch_security_type(ctx)
    if sec == "sev" and not ctx.has("confidential-guest-support"):
        parts.append("memory-encryption=lsec0")
    elif sec in ("sev", "s390-pv"):
        parts.append("confidential-guest-support=lsec0")
    flash0, flash1 = pflash_nodes(ctx)
    if flash0:
        parts.append(f"pflash0={flash0}")
    if flash1:
        parts.append(f"pflash1={flash1}")
    from .memory import has_hmat

    if has_hmat(ctx):
        parts.append("hmat=on")
    bios = ctx.root.find("os/bios")
    if bios is not None and bios.get("useserial") == "yes":
        parts.append("graphics=off")
    for timer in ctx.root.findall("clock/timer"):
        if timer.get("name") == "hpet" and ctx.has("machine-hpet") and timer.get("present") in ("yes", "no"):
            parts.append("hpet=" + ("on" if timer.get("present") == "yes" else "off"))
    cmd.add("-machine", ",".join(parts))


def accel(ctx: Ctx, cmd: Command) -> None:
    """-accel tcg (with the TB cache size), kvm (with the dirty ring size) or hvf."""
    vt = ctx.virt_type
    if vt == "qemu":
        value = "tcg"
        tcg = _feature(ctx, "tcg")
        cache = tcg.find("tb-cache") if tcg is not None else None
        if cache is not None and cache.text and cache.text.strip() != "0":
            value += f",tb-size={_kib(cache) >> 10}"
    elif vt == "kvm":
        value = "kvm"
        ring = ctx.root.find("features/kvm/dirty-ring")
        if ring is not None and ring.get("state") == "on" and ring.get("size"):
            value += f",dirty-ring-size={ring.get('size')}"
    elif vt == "hvf":
        value = "hvf"
    else:
        value = ""
    cmd.add("-accel", value)


def tseg(ctx: Ctx, cmd: Command) -> None:
    """-global mch.extended-tseg-mbytes from <smm><tseg>."""
    el = ctx.root.find("features/smm/tseg")
    if el is None or not (el.text or "").strip() or _feature_state(ctx, "smm") != "on":
        return
    size = scaled_bytes(el.text, el.get("unit"), "mib")
    cmd.add("-global", f"mch.extended-tseg-mbytes={size >> 20}")


def loader(ctx: Ctx, cmd: Command) -> None:
    """-bios for a ROM loader; the secure flash switch for a secure pflash loader."""
    fw = firmware.resolve(ctx)
    if fw.loader_type == "rom" and fw.loader_path:
        cmd.add("-bios", fw.loader_path)
    elif fw.loader_type == "pflash" and fw.secure:
        cmd.add("-global", "driver=cfi.pflash01,property=secure,value=on")


def uuid(ctx: Ctx, cmd: Command) -> None:
    """-uuid in its canonical form."""
    value = (ctx.root.findtext("uuid") or "").strip().lower().replace("-", "")
    if len(value) == 32:
        cmd.add("-uuid", f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}")


def _esc(value: str) -> str:
    return value.replace(",", ",,")


def _entries(section: etree._Element | None, keys: tuple[str, ...]) -> dict[str, str]:
    """The first entry of each name with text (libvirt reads string(entry[@name=...]); empty means absent)."""
    out: dict[str, str] = {}
    if section is None:
        return out
    for key in keys:
        el = next((e for e in section.findall("entry") if e.get("name") == key), None)
        if el is not None and el.text:
            out[key] = el.text
    return out


def _smbios_arg(kind: str, values: dict[str, str], keys: tuple[str, ...], always: tuple[str, ...] = ()) -> str:
    parts = [f"type={kind}"]
    for key in keys:
        if key in values:
            parts.append(f"{key}={_esc(values[key])}")
        elif key in always:
            parts.append(f"{key}=")
    return ",".join(parts)


def _canonical_uuid(text: str) -> str:
    digits = "".join(c for c in text.lower() if c in "0123456789abcdef")
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:32]}"


_BIOS = ("vendor", "version", "date", "release")
_SYSTEM = ("manufacturer", "product", "version", "serial", "uuid", "sku", "family")
_BOARD = ("manufacturer", "product", "version", "serial", "asset", "location")
_CHASSIS = ("manufacturer", "version", "serial", "asset", "sku")


def smbios(ctx: Ctx, cmd: Command) -> None:
    """-smbios type=0/1/2/3/11 from <sysinfo type='smbios'> when <smbios mode='sysinfo'/>."""
    mode_el = ctx.root.find("os/smbios")
    if mode_el is None or mode_el.get("mode") != "sysinfo":
        return
    info = next((s for s in ctx.root.findall("sysinfo") if s.get("type") == "smbios"), None)
    if info is None:
        return
    bios = _entries(info.find("bios"), _BIOS)
    if bios:
        cmd.add("-smbios", _smbios_arg("0", bios, _BIOS))
    system = _entries(info.find("system"), _SYSTEM)
    if "uuid" in system:
        system["uuid"] = _canonical_uuid(system["uuid"])
    # qemuBuildSmbiosSystemStr skips a system section only when it holds nothing but a SKU.
    if system and set(system) != {"sku"}:
        cmd.add("-smbios", _smbios_arg("1", system, _SYSTEM))
    for board in info.findall("baseBoard"):
        values = _entries(board, _BOARD)
        if values:
            cmd.add("-smbios", _smbios_arg("2", values, _BOARD, always=("manufacturer",)))
    chassis = _entries(info.find("chassis"), _CHASSIS)
    if chassis:
        cmd.add("-smbios", _smbios_arg("3", chassis, _CHASSIS, always=("manufacturer",)))
    oem = info.find("oemStrings")
    if oem is not None and oem.findall("entry"):
        cmd.add("-smbios", ",".join(["type=11", *(f"value={_esc(e.text or '')}" for e in oem.findall("entry"))]))


def _xml_escape(text: str) -> str:
    """virBufferEscapeString: the XML special characters as entities."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&apos;"))


def _sanitize_path(path: str) -> str:
    """virFileSanitizePath: repeated slashes collapsed, a trailing slash dropped."""
    out = re.sub("/{2,}", "/", path)
    return out[:-1] if len(out) > 1 and out.endswith("/") else out


def sysinfo(ctx: Ctx, cmd: Command) -> None:
    """-fw_cfg name=...,string=/file= from <sysinfo type='fwcfg'>."""
    for info in ctx.root.findall("sysinfo"):
        if info.get("type") != "fwcfg":
            continue
        for entry in info.findall("entry"):
            value = f"name={entry.get('name')}"
            if entry.text and entry.text.strip():
                value += f",string={_xml_escape(entry.text)}"
            elif entry.get("file"):
                value += f",file={_xml_escape(_sanitize_path(entry.get('file')))}"
            cmd.add("-fw_cfg", value)


def display(ctx: Ctx, cmd: Command) -> None:
    """-display none when the domain has no graphics."""
    if ctx.devices.find("graphics") is None:
        cmd.add("-display", "none")


def defaults(ctx: Ctx, cmd: Command) -> None:
    """-no-user-config -nodefaults: no config files, no default devices."""
    cmd.add("-no-user-config", "-nodefaults")


def monitor(ctx: Ctx, cmd: Command) -> None:
    """The QMP monitor: a listening UNIX socket passed as a file descriptor."""
    # libvirt 9.0 writes -chardev as key=value whatever QEMU accepts.
    fd = host_fd(ctx, "monitor")
    cmd.add("-chardev", f"socket,id=charmonitor,fd={fd},server=on,wait=off")
    cmd.add("-mon", "chardev=charmonitor,id=monitor,mode=control")


def _lifecycle(ctx: Ctx, tag: str) -> str:
    return (ctx.root.findtext(tag) or {"on_poweroff": "destroy", "on_reboot": "restart",
                                       "on_crash": "destroy"}[tag]).strip()


def allow_reboot(ctx: Ctx) -> bool:
    """False when reboot, poweroff and crash all destroy the domain (qemuProcessRebootAllowed)."""
    return (_lifecycle(ctx, "on_reboot") != "destroy" or _lifecycle(ctx, "on_poweroff") != "destroy"
            or _lifecycle(ctx, "on_crash") not in ("destroy", "coredump-destroy"))


def power(ctx: Ctx, cmd: Command) -> None:
    """-no-shutdown or -no-reboot, -no-acpi, and the S3/S4 switches of the PM device."""
    if ctx.has("set-action") or allow_reboot(ctx):
        cmd.add("-no-shutdown")
    else:
        cmd.add("-no-reboot")
    if ctx.has("no-acpi") and _feature_state(ctx, "acpi") != "on":
        cmd.add("-no-acpi")
    for state, tag in (("s3", "suspend-to-mem"), ("s4", "suspend-to-disk")):
        el = ctx.root.find(f"pm/{tag}")
        enabled = el.get("enabled") if el is not None else None
        if enabled not in ("yes", "no"):
            continue
        obj = "ICH9-LPC" if is_q35(ctx) and ctx.has(f"ich9-disable-{state}") else "PIIX4_PM"
        cmd.add("-global", f"{obj}.disable_{state}={1 if enabled == 'no' else 0}")


def boot(ctx: Ctx, cmd: Command) -> None:
    """-boot menu/reboot-timeout/splash-time,strict=on; -kernel, -initrd, -append, -dtb, -acpitable."""
    opts: list[str] = []
    menu = ctx.root.find("os/bootmenu")
    if menu is not None and menu.get("enable") in ("yes", "no"):
        opts.append("menu=" + ("on" if menu.get("enable") == "yes" else "off"))
    bios = ctx.root.find("os/bios")
    if bios is not None and bios.get("rebootTimeout") is not None:
        opts.append(f"reboot-timeout={bios.get('rebootTimeout')}")
    # The splash time is read only for an enabled menu.
    if menu is not None and menu.get("enable") == "yes" and menu.get("timeout") is not None:
        opts.append(f"splash-time={menu.get('timeout')}")
    opts.append("strict=on")
    cmd.add("-boot", ",".join(opts))
    # A firmware descriptor with a kernel mapping replaces the domain's kernel (qemuFirmwareEnableFeatures).
    chosen_kernel = firmware.resolve(ctx).extra.get("kernel")
    for tag, flag in (("kernel", "-kernel"), ("initrd", "-initrd"), ("cmdline", "-append"), ("dtb", "-dtb")):
        value = chosen_kernel if tag == "kernel" and chosen_kernel else ctx.root.findtext(f"os/{tag}")
        if value is not None and value.strip():
            cmd.add(flag, value.strip() if tag != "cmdline" else value)
    for table in ctx.root.findall("os/acpi/table"):
        if table.get("type") == "slic" and table.text:
            cmd.add("-acpitable", f"sig=SLIC,file={_esc(table.text.strip())}")


def incoming(ctx: Ctx, cmd: Command) -> None:
    """-incoming URI for a guest started from a migration stream or a saved image."""
    src = ctx.opts.migrate_from
    if not src:
        return
    if src == "stdio":
        src = f"fd:{ctx.opts.migrate_fd}"
    cmd.add("-incoming", src)


def _uint(text: str | None, default: int) -> int:
    text = (text or "").strip()
    return int(text) if text else default


def launch_security(ctx: Ctx, cmd: Command) -> None:
    """-object sev-guest (policy, C-bit position, certificates) or s390-pv-guest."""
    sec = ctx.root.find("launchSecurity")
    if sec is None:
        return
    if sec.get("type") == "s390-pv":
        P.add_object(ctx, cmd, {"qom-type": "s390-pv-guest", "id": "lsec0"})
        return
    if sec.get("type") != "sev":
        return
    from .cpu import caps_file_info

    base = domain_lib_dir(ctx)
    # cbitpos and reducedPhysBits default to what QEMU reports for the host (qemuProcessUpdateSEVInfo).
    sev_caps = (caps_file_info(ctx) or {}).get("sev", {})
    props: P.Props = {"qom-type": "sev-guest", "id": "lsec0",
                      "cbitpos": _uint(sec.findtext("cbitpos"), sev_caps.get("cbitpos", 0)),
                      "reduced-phys-bits": _uint(sec.findtext("reducedPhysBits"), sev_caps.get("reducedPhysBits", 0)),
                      "policy": int((sec.findtext("policy") or "0").strip(), 16)}
    if (sec.findtext("dhCert") or "").strip():
        props["dh-cert-file"] = f"{base}/dh_cert.base64"
    if (sec.findtext("session") or "").strip():
        props["session-file"] = f"{base}/session.base64"
    hashes = devutil.switch(devutil.onoff(sec, "kernelHashes"))
    if hashes:
        props["kernel-hashes"] = hashes == "on"
    P.add_object(ctx, cmd, props)


def passthrough(ctx: Ctx, cmd: Command) -> None:
    """<qemu:commandline>: its arguments as written, then its environment."""
    for block in ctx.root.findall(f"{{{_QEMU_NS}}}commandline"):
        for arg in block.findall(f"{{{_QEMU_NS}}}arg"):
            cmd.add(arg.get("value") or "")
    for block in ctx.root.findall(f"{{{_QEMU_NS}}}commandline"):
        for env in block.findall(f"{{{_QEMU_NS}}}env"):
            cmd.setenv(env.get("name") or "", env.get("value") or "")


def sandbox(ctx: Ctx, cmd: Command) -> None:
    """-sandbox: on with libvirt's deny list unless qemu.conf turns it off (only when QEMU has seccomp)."""
    if not ctx.has("seccomp-sandbox"):
        return
    setting = ctx.setting("seccomp_sandbox")
    if setting is False or setting == 0:
        cmd.add("-sandbox", "off")
    else:
        cmd.add("-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny")


def msg_timestamp(ctx: Ctx, cmd: Command) -> None:
    """-msg timestamp=on (qemu.conf's log_timestamp, on by default)."""
    if ctx.setting("log_timestamp", True):
        cmd.add("-msg", "timestamp=on")


# Used by clock: the time libvirt takes as "now" (the host profile's clock, else the real one).
def now(ctx: Ctx) -> datetime.datetime:
    """The current time in UTC, as the host profile fixes it for tests."""
    fixed = (ctx.host.raw.get("clock") or {}).get("now")
    if fixed is not None:
        return datetime.datetime.fromtimestamp(int(fixed), datetime.UTC)
    return datetime.datetime.now(datetime.UTC)


def host_timezone(ctx: Ctx) -> str | None:
    """The TZ the host profile names (the test harness's), else the process's."""
    tz = (ctx.host.raw.get("clock") or {}).get("timezone")
    return str(tz) if tz else os.environ.get("TZ")
