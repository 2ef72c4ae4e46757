"""Guest CPU models on x86: which QEMU model and which +/- features stand for the guest <cpu>.

A CPU is a set of CPUID bits (domlint.cpu reads the map they come from).
The CPU map (the host profile's, else libvirt 1.2.8's own, bundled with
domlint) gives each feature and model its bits. The guest's bits come from the host CPU and
the guest's model and feature policies; QEMU is then given the allowed model
closest to them (the preferred one if allowed) plus the differences. The
order of features follows libvirt's map, which it walks last-defined first.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from lxml import etree

from ..cpu import KVM_FEATURES, Bit, demand, target_map
from ..cpu import CpuMap as MapData
from ..cpu import load_map as read_map
from ..errors import HostFactMissing, InputError
from ..target import resolve
from .context import Ctx

Bits = frozenset[Bit]


@dataclass(frozen=True)
class CpuMap:
    """Features and models in the order libvirt walks them, with its own paravirtual features."""

    features: tuple[tuple[str, Bits], ...]
    models: tuple[tuple[str, Bits], ...]
    data: MapData

    def feature(self, name: str) -> Bits | None:
        """The bits of a named feature."""
        return next((b for n, b in self.features if n == name), None)

    def model(self, name: str) -> Bits | None:
        """The bits of a named model."""
        return next((b for n, b in self.models if n == name), None)


@cache
def load_map(path: str) -> CpuMap:
    """The CPU map at path, ordered for decoding (InputError when it cannot be read)."""
    data = read_map(path)
    features = dict(data.features)
    for name, mask in KVM_FEATURES:
        features[name] = frozenset((0x40000001, "eax", 1 << b) for b in range(32) if mask >> b & 1)
    # libvirt prepends each definition to its list, so the last one defined is met first.
    # The paravirtual features are names a guest <cpu> may use as well (the rules' cpu-map test takes them).
    return CpuMap(tuple(reversed(list(features.items()))), tuple(reversed(list(data.models.items()))),
                  MapData(features, data.models))


def _cpu_map(ctx: Ctx) -> CpuMap | None:
    # Every libvirt host has its release's map: the profile's, else the one domlint bundles for 1.2.8.
    path = ctx.host.cpu_map or target_map(resolve("1.2.8").folder)
    return load_map(path) if path else None


def _to_features(cpu_map: CpuMap, data: set[Bit]) -> list[str]:
    """Name the features that make up some bits, in map order, consuming them."""
    names = []
    for name, bits in cpu_map.features:
        if bits and bits <= data:
            data -= bits
            names.append(name)
    return names


def _decode(cpu_map: CpuMap, data: Bits, allowed: tuple[str, ...] | None,
            preferred: str | None) -> tuple[str, list[str], list[str]] | None:
    """The closest allowed model to some bits, with the features to add and to remove."""
    best: tuple[str, list[str], list[str]] | None = None
    for name, bits in cpu_map.models:
        if allowed is not None and name not in allowed:
            continue
        extra = _to_features(cpu_map, set(data - bits))
        missing = _to_features(cpu_map, set(bits - data))
        candidate = (name, extra, missing)
        if preferred and name == preferred:
            return candidate
        if best is None or len(best[1]) + len(best[2]) > len(extra) + len(missing):
            best = candidate
    return best


def _guest_features(cpu_el: etree._Element) -> list[tuple[str, str]]:
    return [(f.get("name", ""), f.get("policy", "require")) for f in cpu_el.iterfind("feature")]


def guest_model_str(ctx: Ctx) -> tuple[str, bool]:
    """'model,+feat,-feat' for a guest <cpu> that names a model or mode ('' for none), and svm."""
    cpu_el = ctx.root.find("cpu")
    if cpu_el is None:
        return "", False
    mode = cpu_el.get("mode", "custom")
    model = (cpu_el.findtext("model") or "").strip()
    if mode == "custom" and not model:
        return "", False
    if mode == "host-passthrough":
        return "host", False
    if ctx.arch not in ("i686", "x86_64"):
        return "", False
    cpu_map = _cpu_map(ctx)
    host_model = ctx.host.cpu_model
    host_features = ctx.host.cpu_features
    match = cpu_el.get("match", "exact")
    features = _guest_features(cpu_el)
    # Dropping -cpu would print a command line for a different guest: say what is missing instead.
    if cpu_map is None:
        raise HostFactMissing(ctx.path, cpu_el.sourceline, "the guest CPU needs a readable CPU map", "cpu_map")
    if not host_model and mode == "host-model" and not ctx.opts.migrate_from:
        raise HostFactMissing(ctx.path, cpu_el.sourceline, "mode='host-model' copies the host CPU, which the host "
                              "profile does not describe (model, vendor, features)", "cpu")
    if not host_model:
        # A host profile without a CPU: the guest is built for a host that has exactly what it
        # requires (the only hosts that can run it), so -cpu is the guest's model and features as asked.
        host_model = model
        host_features = tuple(name for name, policy in features if policy in ("require", "force"))
    if mode == "host-model" and not ctx.opts.migrate_from:
        # The host's model and features stand in for the guest's; the guest's features override.
        model, match = host_model, "exact"
        merged = {f: "require" for f in host_features}
        merged.update(dict(features))
        features = list(merged.items())
    data = _guest_data(cpu_map, host_model, host_features, model, match, features)
    if data is None:
        # libvirt stops here too: it cannot turn names its CPU map lacks into CPUID bits.
        raise InputError(ctx.path, cpu_el.sourceline,
                         f"the CPU map names no model '{model}' or lacks one of the guest's or host's features")
    preferred = host_model if match == "minimum" else model
    fb = cpu_el.find("model")
    fallback = fb.get("fallback", "allow") if fb is not None else "allow"
    allowed = ctx.host.cpu_models
    if allowed is not None and preferred not in allowed and fallback != "allow":
        return "", False
    decoded = _decode(cpu_map, data, allowed, preferred)
    if decoded is None:
        return "", False
    name, extra, missing = decoded
    out = name
    vendor_id = fb.get("vendor_id") if fb is not None else None
    if vendor_id:
        out += f",vendor={vendor_id}"
    out += "".join(f",+{f}" for f in extra) + "".join(f",-{f}" for f in missing)
    svm = cpu_map.feature("svm")
    return out, bool(svm and svm <= data)


def _guest_data(cpu_map: CpuMap, host_model: str, host_features: tuple[str, ...], model: str, match: str,
                features: list[tuple[str, str]]) -> Bits | None:
    """The guest's CPUID bits: the host's, trimmed to what the guest asked for (exact), +force -disable."""
    need = demand(cpu_map.data, host_model, host_features, model, features)
    if need is None:
        return None
    guest = need.host - need.extra if match == "exact" else need.host
    return (guest | need.of("force")) - need.of("disable")
