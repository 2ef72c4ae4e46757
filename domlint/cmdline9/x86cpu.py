"""libvirt 9.0's x86 CPU map and the parts of its x86 CPU driver -cpu depends on (src/cpu/cpu_x86.c).

A CPU is a set of CPUID/MSR bits plus a vendor and a signature. The map
(cpu_map/index.xml and the files it includes) gives every feature its bits
and every model its features, vendor, signatures and whether it may be used
to describe a guest or a host. Decoding picks the allowed model that needs
the fewest feature changes to describe some bits (x86Decode).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from lxml import etree

# One bit: ("cpuid", eax_in, ecx_in, register, mask) or ("msr", index, register, mask).
Bit = tuple
Bits = frozenset

_REGS = ("eax", "ebx", "ecx", "edx")
# TSX is broken on these Intel family 6 models (x86DataFilterTSX).
_TSX_BROKEN = (60, 69, 70)
# Penalty base of a disabled feature when comparing candidates (BASE_PENALTY).
_BASE_PENALTY = 2


@dataclass
class Model:
    """A CPU model of the map."""

    name: str
    data: Bits = frozenset()
    vendor: str | None = None
    signatures: list[tuple[int, int, frozenset[int] | None]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    decode_host: bool = True
    decode_guest: bool = True


@dataclass
class X86Map:
    """Features (in map order), models (in map order) and vendors."""

    features: dict[str, Bits]
    migratable: dict[str, bool]
    models: dict[str, Model]
    vendors: list[str]
    aliases: dict[str, str]

    def feature(self, name: str) -> Bits | None:
        """A feature's bits by its libvirt name (9.0 reads the map's aliases but does not look features up by them)."""
        return self.features.get(name)


def _int(text: str | None) -> int:
    return int(text, 0) if text else 0


def _feature_bits(el: etree._Element) -> Bits:
    out: set[Bit] = set()
    for c in el.findall("cpuid"):
        key = ("cpuid", _int(c.get("eax_in")), _int(c.get("ecx_in")))
        for reg in _REGS:
            mask = _int(c.get(reg))
            out.update((*key, reg, 1 << b) for b in range(32) if mask >> b & 1)
    for m in el.findall("msr"):
        for reg in ("eax", "edx"):
            mask = _int(m.get(reg))
            out.update(("msr", _int(m.get("index")), reg, 1 << b) for b in range(32) if mask >> b & 1)
    return frozenset(out)


def _steppings(text: str | None) -> frozenset[int] | None:
    if not text:
        return None
    out: set[int] = set()
    for part in text.split(","):
        if "-" in part:
            a, b = part.split("-")
            out.update(range(int(a), int(b) + 1))
        else:
            out.add(int(part))
    return frozenset(out)


def _includes(path: Path) -> list[etree._Element]:
    root = etree.parse(str(path)).getroot()
    arch = root.find("arch[@name='x86']")
    if arch is None:
        return []
    out: list[etree._Element] = []
    for child in arch:
        if not isinstance(child.tag, str):
            continue
        if child.tag == "include":
            sub = etree.parse(str(path.parent / child.get("filename"))).getroot()
            out.extend(c for c in sub if isinstance(c.tag, str))
        else:
            out.append(child)
    return out


@cache
def load(directory: str) -> X86Map:
    """The x86 map of a libvirt 9.0 cpu_map directory (index.xml and its includes)."""
    features: dict[str, Bits] = {}
    migratable: dict[str, bool] = {}
    aliases: dict[str, str] = {}
    models: dict[str, Model] = {}
    vendors: list[str] = []
    for el in _includes(Path(directory) / "index.xml"):
        if el.tag == "vendor":
            vendors.append(el.get("name"))
        elif el.tag == "feature":
            name = el.get("name")
            features[name] = _feature_bits(el)
            migratable[name] = el.get("migratable") != "no"
            for a in el.findall("alias"):
                aliases[a.get("name")] = name
        elif el.tag == "model":
            models[el.get("name")] = _model(el, features, models)
    return X86Map(features, migratable, models, vendors, aliases)


def _model(el: etree._Element, features: dict[str, Bits], models: dict[str, Model]) -> Model:
    m = Model(el.get("name"))
    parent = el.find("model")
    data: set[Bit] = set()
    if parent is not None and parent.get("name") in models:
        base = models[parent.get("name")]
        data |= base.data
        m.vendor, m.signatures = base.vendor, list(base.signatures)
    dec = el.find("decode")
    if dec is not None:
        m.decode_host, m.decode_guest = dec.get("host") == "on", dec.get("guest") == "on"
    sigs = el.findall("signature")
    if sigs:
        m.signatures = [(int(s.get("family")), int(s.get("model")), _steppings(s.get("stepping"))) for s in sigs]
    vendor = el.find("vendor")
    if vendor is not None:
        m.vendor = vendor.get("name")
    for f in el.findall("feature"):
        if f.get("removed") == "yes":
            m.removed.append(f.get("name"))
        else:
            data |= features.get(f.get("name"), frozenset())
    m.data = frozenset(data)
    return m


# --- CPU definitions --------------------------------------------------------------------------------

@dataclass
class CpuDef:
    """A model plus (name, policy) features, as libvirt's virCPUDef holds them."""

    model: str | None
    features: list[list[str]] = field(default_factory=list)
    vendor: str | None = None

    def update_feature(self, name: str, policy: str) -> None:
        """virCPUDefUpdateFeature: change a listed feature's policy, else append it."""
        for f in self.features:
            if f[0] == name:
                f[1] = policy
                return
        self.features.append([name, policy])

    def add_if_missing(self, name: str, policy: str) -> None:
        """virCPUDefAddFeatureIfMissing."""
        if not any(f[0] == name for f in self.features):
            self.features.append([name, policy])


def cpu_data(cmap: X86Map, model: str | None, features: list[list[str]]) -> tuple[set[Bit], Model | None]:
    """x86ModelFromCPU(cpu, -1): the model's bits plus required/forced features, less disabled/forbidden ones."""
    base = cmap.models.get(model) if model else None
    data = set(base.data) if base else set()
    for name, policy in features:
        bits = cmap.feature(name)
        if bits is None:
            continue
        if policy in ("require", "force", "host"):
            data |= bits
        elif policy in ("disable", "forbid"):
            data -= bits
    return data, base


def _to_features(cmap: X86Map, data: set[Bit], policy: str) -> list[list[str]]:
    out: list[list[str]] = []
    for name, bits in cmap.features.items():
        if bits and bits <= data:
            data -= bits
            out.append([name, policy])
    return out


def _sig_match(sigs: list[tuple[int, int, frozenset[int] | None]], sig: tuple[int, int, int] | None) -> bool:
    if not sig:
        return False
    fam, mod, step = sig
    return any(f == fam and m == mod and (s is None or step in s) for f, m, s in sigs)


def _penalty(features: list[list[str]]) -> tuple[int, int]:
    """(weighted count, disabled weight) of a candidate's feature list (virCPUx86CompareCandidateFeatureList)."""
    enabled = len(features)
    disabled = 0
    penalty = _BASE_PENALTY
    for _, policy in features:
        if policy == "disable":
            enabled -= 1
            disabled += penalty
            penalty += 1
    return enabled + disabled, disabled


def decode(cmap: X86Map, data: set[Bit], vendor: str | None, sig: tuple[int, int, int] | None,
           allowed: tuple[str, ...] | None, blockers: dict[str, tuple[str, ...]] | None = None) -> CpuDef | None:
    """x86Decode for a guest CPU: the allowed model closest to the bits, with features to add and remove."""
    data = set(data)
    if vendor == "Intel" and sig and sig[0] == 6 and ((sig[1] == 63 and sig[2] < 4) or sig[1] in _TSX_BROKEN):
        for name in ("hle", "rtm"):
            data -= cmap.features.get(name, frozenset())
    best: CpuDef | None = None
    best_model: Model | None = None
    for model in reversed(list(cmap.models.values())):
        if allowed is not None and model.name not in allowed:
            continue
        if vendor and model.vendor and vendor != model.vendor:
            continue
        extra = set(data) - model.data
        missing = set(model.data) - data
        for b in (blockers or {}).get(model.name, ()):
            bits = cmap.feature(b)
            if bits and not bits <= extra:
                missing |= bits
        cand = CpuDef(model.name, _to_features(cmap, extra, "require") + _to_features(cmap, missing, "disable"))
        for name in model.removed:
            cand.add_if_missing(name, "disable")
        if not model.decode_guest:
            continue
        if best is None:
            best, best_model = cand, model
            continue
        if sig:
            cur_ok, cand_ok = _sig_match(best_model.signatures, sig), _sig_match(model.signatures, sig)
            if cur_ok and not cand_ok:
                continue
            if cand_ok and not cur_ok:
                best, best_model = cand, model
                continue
        cur = _penalty(best.features)
        new = _penalty(cand.features)
        if new[0] < cur[0] or (new[0] == cur[0] and new[1] < cur[1]):
            best, best_model = cand, model
    return best


def translate(cmap: X86Map, cpu: CpuDef, allowed: tuple[str, ...] | None,
              blockers: dict[str, tuple[str, ...]] | None = None) -> CpuDef | None:
    """virCPUx86Translate: describe the CPU with an allowed model, then reapply its own features."""
    data, base = cpu_data(cmap, cpu.model, cpu.features)
    vendor = base.vendor if base else None
    sig = None
    if base and base.signatures:
        fam, mod, steps = base.signatures[0]
        sig = (fam, mod, min(steps) if steps else 0)
    out = decode(cmap, data, vendor, sig, allowed, blockers)
    if out is None:
        return None
    for name, policy in cpu.features:
        out.update_feature(name, policy)
    return out
