"""What the host offers beyond the domain: guests, machines, CPU, libvirtd's settings.

A profile is YAML checked against schema/host.schema.json. Rules read the
facts below (each None when the profile does not say, so rules that need it
stay silent); the emitter reads the whole profile through `raw`.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from .data import data_file
from .errors import InputError, read_text
from .pathname import StrPath, beside
from .record import field, record
from .yamlcheck import load_checked


@record(frozen=True)
class Guest:
    """One architecture the host can run, through one emulator."""

    arch: str
    emulator: str
    machines: tuple[str, ...]
    aliases: dict[str, str] = field(default_factory=dict)
    # The domain types (qemu, kvm, hvf) it offers; None when the profile does not say.
    domain_types: tuple[str, ...] | None = None


@record(frozen=True)
class Host:
    """A host profile: the facts about a host that verdicts and argv need."""

    name: str
    arch: str = "x86_64"
    guests: tuple[Guest, ...] = ()
    cpu_models: tuple[str, ...] | None = None
    cpu_model: str | None = None
    cpu_vendor: str | None = None
    cpu_features: tuple[str, ...] = ()
    pci_backend: str | None = None
    # libvirtd's own settings (qemu.conf and how it runs).
    privileged: bool | None = None
    hugetlbfs: tuple[str, ...] | None = None
    # Page sizes (KiB, as decimal strings, how rules compare them) of those mounts.
    hugepage_sizes: tuple[str, ...] | None = None
    seccomp_sandbox: bool | None = None
    spice_tls: bool | None = None
    # Whether libvirtd can read the host's own SMBIOS tables.
    smbios: bool | None = None
    # Whether libvirt has its network driver, and the networks that can give a listen address.
    network_driver: bool | None = None
    networks: tuple[str, ...] | None = None
    # libvirt's CPU map (cpu_map.xml, or a cpu_map/ folder with index.xml): x86 models and features as CPUID bits.
    cpu_map: str | None = None
    # The host NUMA nodes a domain may bind memory to, as a cpuset string ('0-7').
    numa_nodes: str | None = None
    # The TPM versions the host's swtpm_setup can set up (None: unknown; empty: no swtpm).
    swtpm_versions: tuple[str, ...] | None = None
    # Secrets by usage id and by UUID (lower case, no dashes).
    secret_usages: tuple[str, ...] | None = None
    secret_uuids: tuple[str, ...] | None = None
    # The archs the host offers a guest for, when the profile says its guest list is complete.
    guest_archs: tuple[str, ...] | None = None
    # The domain types some guest offers, when the guest list is complete and every guest names its own.
    guest_domain_types: tuple[str, ...] | None = None
    # Per arch, the domain types its guest offers (only archs whose guest names them).
    domain_types: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)
    # Per arch, libvirt's capability cache file for that arch's emulator (a snapshot's).
    qemu_caps: dict[str, str] = field(default_factory=dict, compare=False)
    # Facts whose key the profile names, even empty (op unset fires only on those).
    stated: frozenset[str] = frozenset()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def guest(self, arch: str | None, emulator: str | None = None,
              domain_type: str | None = None) -> Guest | None:
        """The guest entry for an arch (preferring one with this emulator)."""
        matches = [g for g in self.guests if arch is None or g.arch == arch]
        if domain_type:
            matches = [g for g in matches if domain_type in (g.domain_types or (domain_type,))] or matches
        for g in matches:
            if emulator and g.emulator == emulator:
                return g
        return matches[0] if matches else None

    def default_arch(self) -> str:
        """The arch libvirt picks when a domain names none."""
        return self.arch if self.guest(self.arch) else (self.guests[0].arch if self.guests else self.arch)


def _strings(values: Any) -> tuple[str, ...] | None:
    return None if values is None else tuple(str(v) for v in values)


# Where each fact that a rule may test with op unset lives in the profile.
_FACT_KEYS = {"pci_backend": ("pci_backend",), "cpu_model": ("cpu", "model"), "cpu_vendor": ("cpu", "vendor"),
              "cpu_models": ("cpu_models",), "smbios": ("smbios",), "network_driver": ("network_driver",),
              "networks": ("networks",), "cpu_map": ("cpu_map",), "secret_usages": ("secrets",),
              "secret_uuids": ("secrets",), "hugetlbfs": ("driver", "hugetlbfs"),
              "hugepage_sizes": ("driver", "hugetlbfs"), "privileged": ("driver", "privileged"),
              "seccomp_sandbox": ("driver", "seccomp_sandbox"), "spice_tls": ("driver", "spice_tls")}


def _stated(raw: dict[str, Any]) -> frozenset[str]:
    out = set()
    for fact, keys in _FACT_KEYS.items():
        node: Any = raw
        for k in keys:
            if not isinstance(node, dict) or k not in node:
                break
            node = node[k]
        else:
            out.add(fact)
    return frozenset(out)


def from_dict(name: str, raw: dict[str, Any]) -> Host:
    """Build a host from its YAML form."""
    guests = tuple(
        Guest(arch=str(g["arch"]), emulator=str(g["emulator"]),
              machines=tuple(str(m) for m in g.get("machines", [])),
              aliases={str(k): str(v) for k, v in (g.get("aliases") or {}).items()},
              domain_types=_strings(g.get("domain_types")))
        for g in raw.get("guests") or ()
    )
    types: dict[str, tuple[str, ...]] = {}
    for g in guests:
        if g.domain_types is not None:
            types[g.arch] = tuple(dict.fromkeys(types.get(g.arch, ()) + g.domain_types))
    cpu = raw.get("cpu") or {}
    driver = raw.get("driver") or {}
    mounts = driver.get("hugetlbfs")
    secrets = raw.get("secrets")
    networks = raw.get("networks")
    return Host(
        name=name, arch=str(raw.get("arch", "x86_64")), guests=guests,
        cpu_models=_strings(raw.get("cpu_models")),
        cpu_model=cpu.get("model"), cpu_vendor=cpu.get("vendor"),
        cpu_features=tuple(cpu.get("features", [])),
        pci_backend=raw.get("pci_backend"),
        privileged=driver.get("privileged"),
        hugetlbfs=None if mounts is None else tuple(str(m["mount"]) for m in mounts),
        hugepage_sizes=None if mounts is None else tuple(str(m["page_size_kib"]) for m in mounts),
        seccomp_sandbox=driver.get("seccomp_sandbox"),
        spice_tls=driver.get("spice_tls"),
        smbios=raw.get("smbios"),
        network_driver=raw.get("network_driver"),
        networks=None if networks is None else tuple(n for n, v in networks.items() if (v or {}).get("address")),
        cpu_map=str(raw["cpu_map"]) if raw.get("cpu_map") else None,
        numa_nodes=None if raw.get("numa_nodes") is None else str(raw["numa_nodes"]),
        swtpm_versions=None if (raw.get("swtpm") or {}).get("tpm_versions") is None
        else tuple(str(v) for v in raw["swtpm"]["tpm_versions"]),
        secret_usages=None if secrets is None else tuple(str(s["usage"]) for s in secrets if s.get("usage")),
        secret_uuids=None if secrets is None else tuple(
            str(s["uuid"]).lower().replace("-", "") for s in secrets if s.get("uuid")),
        guest_archs=tuple(dict.fromkeys(g.arch for g in guests)) if raw.get("guests_complete") else None,
        guest_domain_types=tuple(dict.fromkeys(t for g in guests for t in g.domain_types or ()))
        if raw.get("guests_complete") and guests and all(g.domain_types is not None for g in guests) else None,
        domain_types=types,
        qemu_caps={str(k): str(v) for k, v in (raw.get("qemu_caps") or {}).items()},
        stated=_stated(raw),
        raw=raw,
    )


def load(path: StrPath) -> Host:
    """Load a host profile from a YAML file, checked against schema/host.schema.json."""
    raw = load_checked(path, "host.schema.json", "host profile")
    # Relative paths in a profile (CPU map, storage pools) are relative to the profile file.
    for key in ("cpu_map", "storage_pools"):
        if raw.get(key) and not os.path.isabs(raw[key]):
            raw[key] = beside(path, raw[key])
    if raw.get("qemu_caps"):
        raw["qemu_caps"] = {arch: f if os.path.isabs(f) else beside(path, f) for arch, f in raw["qemu_caps"].items()}
    # 1.2.8 installs one cpu_map.xml; current libvirt a cpu_map/ folder whose index.xml names the rest.
    cpu_map = raw.get("cpu_map")
    if cpu_map and not (os.path.isfile(cpu_map) or os.path.isfile(os.path.join(cpu_map, "index.xml"))):
        text = read_text(path, "host profile").splitlines()
        line = next((i for i, t in enumerate(text, 1) if t.startswith("cpu_map:")), None)
        raise InputError(str(path), line, f"host profile: cpu_map {raw['cpu_map']} is neither a file "
                                          "nor a folder with an index.xml")
    return from_dict(str(raw.get("name") or path), raw)


@cache
def default_host() -> Host:
    """A plain local x86_64 host, for users who name no profile."""
    return load(data_file("host-default.yaml"))


@cache
def example_host() -> Host:
    """The host rule examples run on: an Intel core2duo with QEMU's usual x86 CPU models."""
    return load(data_file("host-example.yaml"))
