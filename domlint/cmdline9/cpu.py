"""-cpu and -smp as libvirt 9.0 builds them."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from ..caps import read_argv_facts
from ..cmdline.command import Command
from ..cmdline.context import Ctx
from . import cpumodel

# --- what a capability file says about CPUs ----------------------------------------------------------


@cache
def _caps_file(path: str) -> dict[str, Any]:
    """The command-line facts of a capability file the capabilities were read from without them."""
    return read_argv_facts(etree.parse(path).getroot())


def caps_file_info(ctx: Ctx) -> dict[str, Any] | None:
    """What QEMU's capabilities say beyond flags (host CPU, CPU definitions, machines, GIC, SEV), when their
    source says it: a capability file (--qemu-caps, the host profile's qemu_caps) or a built-in profile."""
    facts = getattr(ctx.caps, "argv_facts", None)
    if facts:
        return facts
    src = getattr(ctx.caps, "source", "") or ""
    if src and src.endswith(".xml") and Path(src).is_file():
        return _caps_file(src)
    return None


def accel_type(ctx: Ctx) -> str:
    """The capability file's accelerator name for the domain type (tcg for qemu)."""
    return "tcg" if ctx.virt_type == "qemu" else ctx.virt_type


def default_cpu_model(ctx: Ctx) -> str | None:
    """The CPU model QEMU uses for this machine, by name (qemuDomainDefSetDefaultCPU's source)."""
    info = caps_file_info(ctx)
    if not info:
        return None
    accel = accel_type(ctx)
    typename = None
    for m in info["machines"]:
        if m.get("type", accel) == accel and ctx.machine in (m.get("name"), m.get("alias")):
            typename = m.get("defaultCPU")
            break
    if not typename:
        return None
    for c in info["models"]:
        if c.get("type", accel) == accel and c.get("typename") == typename:
            return c.get("name")
    return None


def supports_gic(ctx: Ctx, version: int) -> bool:
    """Whether QEMU offers this GIC version for the domain type (KVM needs the kernel's, TCG the emulated one)."""
    info = caps_file_info(ctx)
    if info is not None:
        gics = [(int(g.get("version", "0")), g.get("kernel") == "yes", g.get("emulated") == "yes")
                for g in info["gic"]]
    else:
        gics = [(int(v), True, True) for v in ctx.setting("gic_versions") or ()]
    for v, kernel, emulated in gics:
        if v == version and ((ctx.virt_type == "kvm" and kernel) or (ctx.virt_type == "qemu" and emulated)):
            return True
    return False


def gic_version(ctx: Ctx) -> str | None:
    """The GIC version of an ARM guest: as written, else the highest QEMU offers (2 for TCG), else 2."""
    el = ctx.root.find("features/gic")
    written = el.get("version") if el is not None else None
    if el is not None and el.get("state", "on") == "off":
        return None
    is_virt = ctx.arch in ("aarch64", "armv7l") and (ctx.machine == "virt" or ctx.machine.startswith("virt-"))
    if written:
        return written
    if el is None and not is_virt:
        return None
    for version in (3, 2):
        if version == 3 and ctx.virt_type == "qemu":
            continue
        if supports_gic(ctx, version):
            return str(version)
    return "2"


# --- the effective CPU definition ---------------------------------------------------------------------


def _arch_family(arch: str) -> str:
    if arch in ("i686", "x86_64"):
        return "x86"
    if arch.startswith("s390"):
        return "s390"
    if arch.startswith("ppc64"):
        return "ppc64"
    if arch in ("aarch64", "armv7l", "armv6l"):
        return "arm"
    return arch


def effective_cpu(ctx: Ctx) -> cpumodel.GuestCpu | None:
    """The guest CPU after libvirt's define-time default and start-time updates, or None for QEMU's own."""
    if "guest_cpu" not in ctx.state:
        ctx.state["guest_cpu"] = _effective_cpu(ctx)
    return ctx.state["guest_cpu"]


def _effective_cpu(ctx: Ctx) -> cpumodel.GuestCpu | None:
    el = ctx.root.find("cpu")
    cpu = cpumodel.GuestCpu.from_xml(el) if el is not None else None
    if cpu is None or (cpu.mode == "custom" and not cpu.model):
        cpu = _default_cpu(ctx, cpu)
    if cpu is None:
        return None
    return cpumodel.update(ctx, cpu)


def _default_cpu(ctx: Ctx, cpu: cpumodel.GuestCpu | None) -> cpumodel.GuestCpu | None:
    family = _arch_family(ctx.arch)
    if family not in ("x86", "s390", "ppc64", "arm"):
        return cpu
    if family not in ("x86", "s390", "ppc64") and ctx.virt_type != "qemu":
        return cpu
    model = default_cpu_model(ctx)
    if not model:
        return cpu
    if model == "host" and ctx.virt_type != "kvm":
        return cpu
    base = cpu or cpumodel.GuestCpu()
    if model == "host":
        # s390 prefers host-model where QEMU reports a host CPU model for it.
        info = caps_file_info(ctx)
        s390_host_model = family == "s390" and info is not None and accel_type(ctx) in info.get("host_models", {})
        base.mode = "host-model" if s390_host_model else "host-passthrough"
    else:
        base.mode, base.model, base.match, base.fallback = "custom", model, "exact", "forbid"
    return base


# --- stages -----------------------------------------------------------------------------------------


_HYPERV_ORDER = ("relaxed", "vapic", "spinlocks", "vpindex", "runtime", "synic", "stimer", "reset", "vendor_id",
                 "frequencies", "reenlightenment", "tlbflush", "ipi", "evmcs", "avic")


def _timers(ctx: Ctx) -> list[str]:
    out: list[str] = []
    for t in ctx.root.findall("clock/timer"):
        name = t.get("name")
        present = t.get("present")
        if name == "kvmclock" and present in ("yes", "no"):
            out.append(f"kvmclock={'on' if present == 'yes' else 'off'}")
        elif name == "hypervclock" and present == "yes":
            out.append("hv-time=on")
        elif name == "tsc" and t.get("frequency") and int(t.get("frequency")) > 0:
            out.append(f"tsc-frequency={int(t.get('frequency'))}")
        elif name == "armvtimer" and t.get("tickpolicy") in ("delay", "discard"):
            out.append(f"kvm-no-adjvtime={'off' if t.get('tickpolicy') == 'delay' else 'on'}")
    return out


def _state(el: etree._Element | None) -> str | None:
    if el is None:
        return None
    return {"on": "on", "off": "off"}.get(el.get("state", ""))


def _hyperv(ctx: Ctx) -> list[str]:
    hv = ctx.root.find("features/hyperv")
    if hv is None:
        return []
    out: list[str] = []
    if hv.get("mode") == "passthrough":
        out.append("hv-passthrough=on")
    for name in _HYPERV_ORDER:
        el = hv.find(name)
        if _state(el) != "on":
            continue
        if name == "spinlocks":
            out.append(f"hv-spinlocks={int(el.get('retries') or 0):#x}")
        elif name == "vendor_id":
            out.append(f"hv-vendor-id={el.get('value')}")
        else:
            out.append(f"hv-{name}=on")
            if name == "stimer" and _state(el.find("direct")) == "on":
                out.append("hv-stimer-direct=on")
    return out


def _kvm(ctx: Ctx) -> list[str]:
    kvm = ctx.root.find("features/kvm")
    if kvm is None:
        return []
    out: list[str] = []
    if _state(kvm.find("hidden")) == "on":
        out.append("kvm=off")
    if _state(kvm.find("hint-dedicated")) == "on":
        out.append("kvm-hint-dedicated=on")
    if _state(kvm.find("poll-control")) == "on":
        out.append("kvm-poll-control=on")
    if _state(kvm.find("pv-ipi")) == "off":
        out.append("kvm-pv-ipi=off")
    return out


def cpu_flags(ctx: Ctx, cpu: cpumodel.GuestCpu | None) -> list[str]:
    """The -cpu options beyond the model: timers, PV features, Hyper-V, KVM, PMU, cache, physical address bits."""
    out = _timers(ctx)
    eoi = ctx.root.find("features/apic")
    if eoi is not None and eoi.get("eoi") in ("on", "off"):
        out.append(f"kvm-pv-eoi={eoi.get('eoi')}")
    pvspin = ctx.root.find("features/pvspinlock")
    if pvspin is not None:
        # A bare <pvspinlock/> is on.
        out.append(f"kvm-pv-unhalt={'on' if pvspin.get('state', 'on') == 'on' else 'off'}")
    out += _hyperv(ctx)
    if any(p.get("model") == "hyperv" for p in ctx.devices.findall("panic")):
        out.append("hv-crash")
    out += _kvm(ctx)
    pmu = ctx.root.find("features/pmu")
    if pmu is not None and not ctx.arch.startswith("ppc64"):
        out.append(f"pmu={pmu.get('state', 'on')}")
    if cpu is not None:
        out += _cache_and_addr(ctx, cpu)
    return out


def _cache_and_addr(ctx: Ctx, cpu: cpumodel.GuestCpu) -> list[str]:
    out: list[str] = []
    if cpu.cache_mode:
        host_off = l3_off = False
        if cpu.cache_mode == "emulate":
            out.append("l3-cache=on")
            host_off = True
        elif cpu.cache_mode == "passthrough":
            out.append("host-cache-info=on")
            l3_off = True
        elif cpu.cache_mode == "disable":
            host_off = l3_off = True
        if host_off and cpu.mode in ("host-passthrough", "maximum") and ctx.has("cpu-cache"):
            out.append("host-cache-info=off")
        if l3_off and ctx.has("cpu-cache"):
            out.append("l3-cache=off")
    if cpu.maxphys_mode == "passthrough":
        out.append("host-phys-bits=on")
    elif cpu.maxphys_mode == "emulate":
        out.append(f"phys-bits={cpu.maxphys_bits}")
    return out


def cpu(ctx: Ctx, cmd: Command) -> None:
    """-cpu MODEL[,features][,flags]; QEMU's default CPU when nothing needs saying."""
    guest = effective_cpu(ctx)
    model = cpumodel.model_arg(ctx, guest) if guest is not None else None
    if model is None and ctx.arch == "i686" and ("x86_64" in ctx.emulator or
                                                  (ctx.host.arch == "x86_64" and "kvm" in ctx.emulator)):
        model = "qemu32"
    flags = cpu_flags(ctx, guest)
    if flags and model is None:
        defaults = {"i686": "qemu32", "x86_64": "qemu64"}
        model = defaults.get(ctx.arch)
        if model is None:
            from ..errors import InputError
            raise InputError(ctx.path, None, f"CPU flags requested but can't determine default CPU for arch {ctx.arch}")
    if model is not None:
        cmd.add("-cpu", ",".join([model, *flags]))


def vcpu_counts(ctx: Ctx) -> tuple[int, int]:
    """(vCPUs QEMU starts with, maximum vCPUs): online vCPUs that are not hotpluggable, and <vcpu>'s value."""
    el = ctx.root.find("vcpu")
    maxv = int((el.text or "1").strip()) if el is not None and (el.text or "").strip() else 1
    current = int(el.get("current")) if el is not None and el.get("current") else maxv
    explicit = {int(v.get("id")): v for v in ctx.root.findall("vcpus/vcpu") if v.get("id") is not None}
    n = 0
    for i in range(maxv):
        v = explicit.get(i)
        if v is not None and explicit:
            online = v.get("enabled", "yes") == "yes"
            hot = v.get("hotpluggable") or ("no" if online else "yes")
        else:
            online = i < current
            hot = "no" if online else "yes"
        if online and hot == "no":
            n += 1
    return n, maxv


def smp(ctx: Ctx, cmd: Command) -> None:
    """-smp N[,maxcpus=M],sockets=,dies=,cores=,threads= (the topology, or one core per socket)."""
    n, maxv = vcpu_counts(ctx)
    parts = [str(n)]
    if n != maxv:
        parts.append(f"maxcpus={maxv}")
    topo = ctx.root.find("cpu/topology")
    if topo is not None and topo.get("sockets"):
        parts.append(f"sockets={topo.get('sockets')}")
        if ctx.has("smp-dies"):
            parts.append(f"dies={topo.get('dies') or 1}")
        parts.append(f"cores={topo.get('cores') or 1}")
        parts.append(f"threads={topo.get('threads') or 1}")
    else:
        parts += [f"sockets={maxv}", "cores=1", "threads=1"]
    cmd.add("-smp", ",".join(parts))
