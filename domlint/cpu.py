"""Guest and host x86 CPUs compared the way libvirt does before it builds -cpu.

libvirt's CPU map (installed with libvirt: one cpu_map.xml in 1.2.8, a
cpu_map/ folder of files listed by index.xml in current releases; domlint
bundles each target's beside its target.json) defines each x86 feature as
CPUID bits and each model as a parent model plus features. A guest CPU in
custom mode asks for a model's features plus those it requires, less those it
disables, forces or makes optional; the host must have all of them, none it
forbids, and, for match='strict', nothing beyond them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lxml import etree

from .errors import InputError

# One CPUID bit: (leaf, register, bit mask).
Bit = tuple[int, str, int]
_REGISTERS = ("eax", "ebx", "ecx", "edx")
# The paravirtual features libvirt 1.2.8 defines itself, beside its map (leaf 0x40000001, eax), in its order.
KVM_FEATURES = (("kvmclock", 0x1), ("kvm_nopiodelay", 0x2), ("kvm_mmu", 0x4), ("kvmclock2", 0x8),
                ("kvm_asyncpf", 0x10), ("kvm_steal_time", 0x20), ("kvm_pv_eoi", 0x40),
                ("kvm_pv_unhalt", 0x80), ("kvmclock_stable_bit", 0x1000000))


@dataclass(frozen=True)
class CpuMap:
    """The x86 part of a libvirt CPU map: features and models as sets of CPUID bits."""

    features: dict[str, frozenset[Bit]]
    models: dict[str, frozenset[Bit]]

    def names(self, bits: frozenset[Bit]) -> list[str]:
        """The features wholly inside bits, in map order (how libvirt names a difference)."""
        return [name for name, own in self.features.items() if own and own <= bits]


def _reg(el: etree._Element, name: str) -> int:
    return int(el.get(name, "0"), 0)


def _bits(el: etree._Element, where: str) -> frozenset[Bit]:
    """The CPUID (and MSR) bits of a feature, in either layout of the map.

    1.2.8 writes <cpuid function=.. eax=.. ebx=.. ecx=.. edx=..>; current libvirt
    writes <cpuid eax_in=.. ecx_in=.. ...> and <msr index=.. eax=.. edx=..>. A
    sub-leaf (ecx_in) is kept above bit 32 of the leaf, an MSR as its own registers.
    """
    out = set()
    try:
        for cpuid in el.iterfind("cpuid"):
            leaf = int(cpuid.get("function") or cpuid.get("eax_in", ""), 0) + (_reg(cpuid, "ecx_in") << 32)
            for reg in _REGISTERS:
                mask = _reg(cpuid, reg)
                out.update((leaf, reg, 1 << b) for b in range(32) if mask >> b & 1)
        for msr in el.iterfind("msr"):
            index = int(msr.get("index", ""), 0)
            for reg in ("eax", "edx"):
                mask = _reg(msr, reg)
                out.update((index, "msr-" + reg, 1 << b) for b in range(32) if mask >> b & 1)
    except ValueError:
        raise InputError(where, el.sourceline, "CPU map: a cpuid function or register is not a number") from None
    return frozenset(out)


def _parse(path: Path) -> etree._Element:
    try:
        return etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    except OSError as exc:
        raise InputError(str(path), None, f"cannot read the CPU map: {exc}") from None
    except etree.XMLSyntaxError as exc:
        raise InputError(str(path), exc.lineno, f"CPU map is not well-formed XML: {exc.msg}") from None


def _x86_entries(path: Path) -> list[tuple[etree._Element, str]]:
    """The children of the map's x86 arch in order, each with the file it came from.

    A file holds them directly (1.2.8's cpu_map.xml); an index (current libvirt's
    cpu_map/index.xml) names the files that do with <include filename=...>.
    """
    root = _parse(path)
    arch = root.find("arch[@name='x86']")
    if arch is None:
        raise InputError(str(path), root.sourceline, "CPU map has no <arch name='x86'>")
    out: list[tuple[etree._Element, str]] = []
    for el in arch:
        if el.tag == "include":
            part = path.parent / str(el.get("filename", ""))
            if part.parent != path.parent:
                raise InputError(str(path), el.sourceline, f"CPU map: include {el.get('filename')!r} is outside the map")
            out.extend((child, str(part)) for child in _parse(part) if isinstance(child.tag, str))
        elif isinstance(el.tag, str):
            out.append((el, str(path)))
    return out


def map_file(path: str | Path) -> Path:
    """The file to read for a map named by the host profile: cpu_map.xml, or a cpu_map/ folder's index.xml."""
    p = Path(path)
    return p / "index.xml" if p.is_dir() else p


def target_map(folder: str) -> str | None:
    """The CPU map a target's libvirt ships (bundled beside its target.json), or None."""
    for candidate in (os.path.join(folder, "cpu_map.xml"), os.path.join(folder, "cpu_map", "index.xml")):
        if os.path.isfile(candidate):
            return candidate
    return None


@cache
def load_map(path: str) -> CpuMap:
    """Read the x86 models and features of a libvirt CPU map (a cpu_map.xml, or a cpu_map/ folder or its index.xml)."""
    entries = _x86_entries(map_file(path))
    features = {str(f.get("name")): _bits(f, where) for f, where in entries if f.tag == "feature"}
    models: dict[str, frozenset[Bit]] = {}
    for m, where in entries:
        if m.tag != "model":
            continue
        bits: set[Bit] = set()
        parent = m.find("model")
        if parent is not None:
            if parent.get("name") not in models:
                raise InputError(where, parent.sourceline,
                                 f"CPU map: model {m.get('name')} builds on unknown model {parent.get('name')}")
            bits |= models[str(parent.get("name"))]
        for f in m.iterfind("feature"):
            if f.get("name") not in features:
                raise InputError(where, f.sourceline, f"CPU map: model {m.get('name')} names unknown feature {f.get('name')}")
            bits |= features[str(f.get("name"))]
        models[str(m.get("name"))] = frozenset(bits)
    return CpuMap(features, models)


@dataclass(frozen=True)
class Demand:
    """What a guest CPU asks of the host, in CPUID bits."""

    host: frozenset[Bit]                  # everything the host CPU has
    policy: dict[str, frozenset[Bit]]     # the guest's named features, by policy
    wanted: frozenset[Bit]                # the model and required features, less forced, optional, disabled

    def of(self, policy: str) -> frozenset[Bit]:
        """The bits of the guest's features with one policy."""
        return self.policy.get(policy, frozenset())

    @property
    def extra(self) -> frozenset[Bit]:
        """Host bits the guest neither wants nor names: what match='exact' drops and 'strict' refuses."""
        return self.host - self.wanted - self.of("optional") - self.of("disable") - self.of("force")


def demand(cpu_map: CpuMap, host_model: str, host_features: tuple[str, ...], guest_model: str,
           guest_features: list[tuple[str, str]]) -> Demand | None:
    """The guest CPU's demand on the host CPU, or None when the map lacks one of the names."""
    if host_model not in cpu_map.models or guest_model not in cpu_map.models:
        return None
    known = set(cpu_map.features)
    if any(n not in known for n in host_features) or any(n not in known for n, _ in guest_features):
        return None
    host = set(cpu_map.models[host_model])
    for name in host_features:
        host |= cpu_map.features[name]
    by_policy: dict[str, set[Bit]] = {}
    for name, policy in guest_features:
        by_policy.setdefault(policy, set()).update(cpu_map.features[name])
    policy = {k: frozenset(v) for k, v in by_policy.items()}
    wanted = set(cpu_map.models[guest_model]) | policy.get("require", frozenset())
    wanted -= policy.get("force", frozenset()) | policy.get("optional", frozenset()) | policy.get("disable", frozenset())
    return Demand(frozenset(host), policy, frozenset(wanted))


def incompatibility(cpu_map: CpuMap, host_model: str, host_features: tuple[str, ...],
                    guest_model: str, guest_features: list[tuple[str, str]], match: str) -> str | None:
    """Why the host cannot run this guest CPU, or None (also None for names the map lacks)."""
    need = demand(cpu_map, host_model, host_features, guest_model, guest_features)
    if need is None:
        return None
    forbidden = need.of("forbid") & need.host
    if forbidden:
        return f"the host CPU has features the guest CPU forbids: {', '.join(cpu_map.names(forbidden))}"
    missing = need.wanted - need.host
    if missing:
        return f"the host CPU ({host_model}) lacks features the guest CPU needs: {', '.join(cpu_map.names(missing))}"
    if match == "strict" and need.extra:
        return ("match='strict' allows no host features beyond the guest CPU's, but the host has "
                f"{', '.join(cpu_map.names(need.extra))}")
    return None


def guest_cpu_problem(cpu_map_path: str | Path, host_model: str, host_features: tuple[str, ...],
                      cpu: etree._Element) -> str | None:
    """The incompatibility of a <cpu> element (custom mode) with the host CPU, or None."""
    model = (cpu.findtext("model") or "").strip()
    if not model:
        return None
    features = [(str(f.get("name")), f.get("policy") or "require") for f in cpu.iterfind("feature")]
    return incompatibility(load_map(str(cpu_map_path)), host_model, host_features, model, features,
                           cpu.get("match") or "exact")
