"""The guest CPU definition libvirt 9.0 hands to -cpu: parsed, defaulted and updated at start."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from ..cmdline.context import Ctx

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


def update(ctx: Ctx, cpu: GuestCpu) -> GuestCpu:
    """The CPU after start-time updates (host-model expansion, model fallback): the plain cases so far."""
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
