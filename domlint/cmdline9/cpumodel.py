"""The guest CPU definition libvirt 9.0 hands to -cpu: parsed, defaulted and updated at start."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from lxml import etree

from ..cmdline.context import Ctx
from ..errors import HostFactMissing, InputError
from . import x86cpu

# libvirt's x86 feature names whose QEMU spelling differs (virQEMUCapsCPUFeaturesX86).
_X86_TO_QEMU = {"cmp_legacy": "cmp-legacy", "ds_cpl": "ds-cpl", "fxsr_opt": "fxsr-opt", "kvm_pv_eoi": "kvm-pv-eoi",
                "kvm_pv_unhalt": "kvm-pv-unhalt", "lahf_lm": "lahf-lm", "nodeid_msr": "nodeid-msr",
                "pclmuldq": "pclmulqdq", "perfctr_core": "perfctr-core", "perfctr_nb": "perfctr-nb",
                "tsc_adjust": "tsc-adjust"}


@dataclass
class GuestCpu:
    """The parts of <cpu> the command line reads."""

    mode: str = "custom"
    model: str | None = None
    match: str | None = None
    fallback: str | None = None
    vendor_id: str | None = None
    migratable: str | None = None
    # (name, policy) in order; policy force/require/optional/disable/forbid.
    features: list[tuple[str, str]] = field(default_factory=list)
    cache_mode: str | None = None
    maxphys_mode: str | None = None
    maxphys_bits: int | None = None

    @classmethod
    def from_xml(cls, el: etree._Element) -> GuestCpu:
        """Read a <cpu> element."""
        model_el = el.find("model")
        model = (model_el.text or "").strip() if model_el is not None and model_el.text else None
        cpu = cls(mode=el.get("mode") or "custom", model=model or None, match=el.get("match"),
                  fallback=model_el.get("fallback") if model_el is not None else None,
                  vendor_id=model_el.get("vendor_id") if model_el is not None else None,
                  migratable=el.get("migratable"))
        for f in el.findall("feature"):
            cpu.features.append((f.get("name") or "", f.get("policy") or "require"))
        cache = el.find("cache")
        if cache is not None:
            cpu.cache_mode = cache.get("mode")
        addr = el.find("maxphysaddr")
        if addr is not None:
            cpu.maxphys_mode = addr.get("mode")
            cpu.maxphys_bits = int(addr.get("bits")) if addr.get("bits") else None
        return cpu


_PPC64_LEGACY = frozenset({"POWER7_v2.1", "POWER7_v2.3", "POWER7+_v2.1", "POWER8_v1.0"})

# Features QEMU's x86 CPUs never get from libvirt (virQEMUCapsCPUFilterFeatures).
_FILTERED = frozenset({"cmt", "mbm_total", "mbm_local", "osxsave", "ospke"})


def cpu_map_dir(ctx: Ctx) -> str | None:
    """libvirt 9.0's CPU map directory: the host profile's, else the one domlint bundles with the target, else
    the installed one."""
    given = ctx.host.raw.get("cpu_map_dir")
    if given:
        return str(given)
    from ..target import load

    for d in (os.path.join(load("9.0").folder, "cpu_map"), "/usr/share/libvirt/cpu_map"):
        if os.path.isfile(os.path.join(d, "index.xml")):
            return d
    return None


def _x86_map(ctx: Ctx) -> x86cpu.X86Map | None:
    d = cpu_map_dir(ctx)
    return x86cpu.load(d) if d else None


def host_model(ctx: Ctx, cmap: x86cpu.X86Map) -> x86cpu.CpuDef | None:
    """The host CPU model QEMU's capabilities report for host-model (migratable, filtered), or None."""
    from .cpu import caps_file_info

    if caps_file_info(ctx) is not None:
        return _caps_host_model_x86(ctx, cmap)
    if not ctx.host.cpu_model:
        return None
    feats = [[f, "require"] for f in ctx.host.cpu_features
             if f not in _FILTERED and cmap.migratable.get(cmap.aliases.get(f, f), True)]
    return x86cpu.CpuDef(ctx.host.cpu_model, feats, ctx.host.cpu_vendor)


_VENDOR_STRINGS = {"GenuineIntel": "Intel", "AuthenticAMD": "AMD", "HygonGenuine": "Hygon"}


def _caps_host_model_x86(ctx: Ctx, cmap: x86cpu.X86Map) -> x86cpu.CpuDef | None:
    """virQEMUCapsInitCPUModelX86 (migratable): QEMU's host CPU properties as CPUID bits, decoded into its models."""
    from .cpu import accel_type, caps_file_info

    info = caps_file_info(ctx)
    accel = accel_type(ctx)
    props = info.get("host_props", {}).get(accel)
    if props is None or info.get("host_migratability", {}).get(accel) == "no":
        return None
    back = {v: k for k, v in _X86_TO_QEMU.items()}
    data: set = set()
    vendor = None
    sig = {"family": 0, "model": 0, "stepping": 0}
    for name, kind, value, migratable in props:
        lv_name = back.get(name, name)
        if kind == "boolean":
            if value != "true" or migratable == "no":
                continue
            data |= cmap.features.get(lv_name, frozenset())
        elif kind == "string" and lv_name == "vendor":
            vendor = _VENDOR_STRINGS.get(value or "")
        elif kind == "number" and lv_name in sig:
            sig[lv_name] = int(value or 0)
    signature = (sig["family"], sig["model"], sig["stepping"])
    allowed = qemu_models(ctx)
    return x86cpu.decode(cmap, data, vendor, signature if any(signature) else None, allowed, _blockers(ctx))


def _is_msr(cmap: x86cpu.X86Map, name: str) -> bool:
    """virCPUx86FeatureIsMSR: a feature made of MSR bits."""
    bits = cmap.features.get(name)
    return any(b[0] == "msr" for b in bits or ())


def qemu_models(ctx: Ctx) -> tuple[str, ...] | None:
    """The CPU model names QEMU offers for the domain type (None: any)."""
    from .cpu import accel_type, caps_file_info

    info = caps_file_info(ctx)
    if info is not None:
        accel = accel_type(ctx)
        return tuple(c["name"] for c in info["models"] if c.get("type", accel) == accel)
    return ctx.host.cpu_models


def _blockers(ctx: Ctx) -> dict[str, tuple[str, ...]]:
    from .cpu import accel_type, caps_file_info

    info = caps_file_info(ctx)
    if info is None:
        return {}
    accel = accel_type(ctx)
    return {c["name"]: tuple(b for b in c.get("blockers", "").split(",") if b)
            for c in info["models"] if c.get("type", accel) == accel}


def qemu_features(ctx: Ctx) -> set[str] | None:
    """The CPU feature names QEMU knows (its host CPU properties, libvirt spelling), None when unknown."""
    from .cpu import accel_type, caps_file_info

    info = caps_file_info(ctx)
    if info is None:
        return None
    props = info.get("host_props", {}).get(accel_type(ctx))
    if props is None:
        return None
    back = {v: k for k, v in _X86_TO_QEMU.items()}
    return {back.get(p[0], p[0]) for p in props}


def post_parse(ctx: Ctx, cpu: GuestCpu) -> GuestCpu:
    """qemuDomainDefCPUPostParse: SVE turned on when vector lengths are given; host-passthrough's migratable default."""
    if any(n != "sve" and n.startswith("sve") for n, _ in cpu.features):
        if any(n == "sve" for n, _ in cpu.features):
            cpu.features = [(n, "require" if n == "sve" else p) for n, p in cpu.features]
        else:
            cpu.features.append(("sve", "require"))
    if cpu.mode == "host-passthrough" and cpu.migratable is None and not ctx.opts.migrate_from:
        if ctx.has("cpu.migratable"):
            cpu.migratable = "on"
        elif ctx.arch in ("i686", "x86_64"):
            cpu.migratable = "off"
    return cpu


def _caps_host_cpu(ctx: Ctx) -> tuple[str, list[tuple[str, str]]] | None:
    """The host CPU model a capability file reports for the domain type: model and boolean properties as features."""
    from .cpu import accel_type, caps_file_info

    info = caps_file_info(ctx)
    if info is None:
        return None
    accel = accel_type(ctx)
    model = info.get("host_models", {}).get(accel)
    if not model:
        return None
    feats = [(n, "require" if v == "true" else "disable")
             for n, t, v, _ in info["host_props"].get(accel, []) if t == "boolean"]
    return model, feats


def _update_s390(ctx: Ctx, cpu: GuestCpu) -> GuestCpu:
    """virCPUs390Update: a host-model CPU becomes the host's model and features, the guest's features on top."""
    if cpu.mode != "host-model":
        return cpu
    host = _caps_host_cpu(ctx)
    if host is None:
        return cpu
    feats = list(host[1])
    for name, policy in cpu.features:
        idx = next((i for i, (n, _) in enumerate(feats) if n == name), None)
        if idx is None:
            feats.append((name, policy))
        else:
            feats[idx] = (name, policy)
    cpu.mode, cpu.match, cpu.model, cpu.features = "custom", "exact", host[0], feats
    return cpu


def update(ctx: Ctx, cpu: GuestCpu) -> GuestCpu:
    """The CPU after qemuProcessUpdateGuestCPU: host-model and optional features resolved against the host
    model, removed features disabled, an unknown model translated to an allowed one, unknown features dropped."""
    cpu = post_parse(ctx, cpu)
    if ctx.host.arch.startswith("ppc64") and cpu.model in _PPC64_LEGACY:
        # virCPUppc64ConvertLegacy (the host's CPU driver): POWERx_vN.N models are plain POWERx.
        cpu.model = cpu.model[:len("POWERx")]
    if ctx.arch.startswith("s390"):
        return _update_s390(ctx, cpu)
    if ctx.arch not in ("i686", "x86_64") or cpu.mode in ("host-passthrough", "maximum"):
        return cpu
    if cpu.mode == "custom" and not cpu.model:
        return cpu
    cmap = _x86_map(ctx)
    if cmap is None:
        if cpu.mode == "host-model":
            # Printing "-cpu host" would describe another guest: say what is missing instead.
            raise HostFactMissing(ctx.path, None, "a host-model CPU is turned into -cpu with libvirt's CPU map, "
                                  "and none is bundled or installed", "cpu_map_dir")
        return cpu
    if cpu.mode == "host-model" and ctx.opts.migrate_from and cpu.model:
        cpu.mode = "custom"
    guest = x86cpu.CpuDef(cpu.model, [[n, p] for n, p in cpu.features])
    relative = cpu.mode == "host-model" or cpu.match == "minimum" or any(p == "optional" for _, p in cpu.features)
    if relative:
        host = host_model(ctx, cmap)
        if host is not None and not ctx.has("cpu-unavailable-features"):
            # QEMU that cannot report unavailable features gets no MSR features in the host model.
            host.features = [f for f in host.features if not _is_msr(cmap, f[0])]
        if host is None:
            raise HostFactMissing(ctx.path, None, "a host-model CPU or optional CPU features need the host's CPU, "
                                  "which QEMU's capabilities give (a built-in profile, --qemu-caps) and a flag list "
                                  "does not", "cpu")
        host_data, _ = x86cpu.cpu_data(cmap, host.model, host.features)
        for f in guest.features:
            if f[1] == "optional":
                bits = cmap.feature(f[0])
                f[1] = "require" if bits is not None and bits <= host_data else "disable"
        if cpu.mode == "host-model" or cpu.match == "minimum":
            updated = x86cpu.CpuDef(host.model, [list(f) for f in host.features])
            for name, policy in guest.features:
                updated.update_feature(name, policy)
            guest = updated
            cpu.mode, cpu.match = "custom", "exact"
    model = cmap.models.get(guest.model or "")
    if model is None:
        raise InputError(ctx.path, None, f"Unknown CPU model {guest.model}")
    for name in model.removed:
        guest.add_if_missing(name, "disable")
    allowed = qemu_models(ctx)
    if allowed is not None and guest.model not in allowed:
        if (cpu.fallback or "allow") != "allow":
            return cpu
        translated = x86cpu.translate(cmap, guest, allowed, _blockers(ctx))
        if translated is None:
            return cpu
        guest = translated
    guest.features = [f for f in guest.features if f[0] not in _FILTERED]
    known = qemu_features(ctx)
    if known is not None:
        guest.features = [f for f in guest.features if f[1] not in ("disable", "forbid") or f[0] in known]
    cpu.model = guest.model
    cpu.features = [(n, p) for n, p in guest.features]
    cpu.fallback = "forbid"
    return cpu


def feature_to_qemu(arch: str, name: str) -> str:
    """A CPU feature's QEMU spelling."""
    if arch in ("i686", "x86_64"):
        return _X86_TO_QEMU.get(name, name)
    return name


def model_arg(ctx: Ctx, cpu: GuestCpu) -> str | None:
    """-cpu's model part with vendor and features, or None when libvirt writes no model."""
    if cpu.mode == "custom" and not cpu.model:
        return None
    if cpu.mode in ("host-passthrough", "maximum"):
        parts = ["max" if cpu.mode == "maximum" else "host"]
        if ctx.arch == "armv7l" and ctx.host.arch == "aarch64":
            parts.append("aarch64=off")
        if cpu.migratable in ("on", "off") and ctx.has("cpu.migratable"):
            parts.append(f"migratable={cpu.migratable}")
    elif cpu.mode == "host-model":
        parts = ["host"]
    else:
        parts = [cpu.model or ""]
    if cpu.vendor_id:
        parts.append(f"vendor={cpu.vendor_id}")
    for name, policy in cpu.features:
        qname = feature_to_qemu(ctx.arch, name)
        if policy in ("force", "require"):
            parts.append(f"{qname}=on")
        elif policy in ("disable", "forbid"):
            parts.append(f"{qname}=off")
    return ",".join(parts)
