"""What the host offers beyond the domain: guests, machines, CPU models."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from .data import data_file
from .errors import InputError


@dataclass(frozen=True)
class Guest:
    """One architecture the host can run, through one emulator."""

    arch: str
    emulator: str
    machines: tuple[str, ...]
    aliases: dict[str, str] = field(default_factory=dict)
    domain_types: tuple[str, ...] = ("qemu",)


@dataclass(frozen=True)
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
    # libvirtd's own settings (qemu.conf and how it runs); None where unknown.
    privileged: bool | None = None
    hugetlbfs: tuple[str, ...] | None = None
    seccomp_sandbox: bool | None = None
    smbios: bool | None = None
    # qemu.conf spice_tls: whether SPICE displays may have a TLS port.
    spice_tls: bool | None = None
    # Page sizes (KiB, as decimal strings) of the hugetlbfs mounts libvirt uses.
    hugepage_sizes: tuple[str, ...] | None = None
    # Whether libvirt has its network driver, and the virtual networks it can
    # give a listen address (active, with an IP address).
    network_driver: bool | None = None
    networks: tuple[str, ...] | None = None
    # libvirt's CPU map (cpu_map.xml): x86 models and features as CPUID bits.
    cpu_map: str | None = None
    # libvirt secrets by usage id and by UUID (lower case, no dashes); None where unknown.
    secret_usages: tuple[str, ...] | None = None
    secret_uuids: tuple[str, ...] | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def guest(self, arch: str | None, emulator: str | None = None,
              domain_type: str | None = None) -> Guest | None:
        """The guest entry for an arch (preferring one with this emulator)."""
        matches = [g for g in self.guests if arch is None or g.arch == arch]
        if domain_type:
            matches = [g for g in matches if domain_type in g.domain_types] or matches
        for g in matches:
            if emulator and g.emulator == emulator:
                return g
        return matches[0] if matches else None

    def default_arch(self) -> str:
        """The arch libvirt picks when a domain names none."""
        return self.arch if self.guest(self.arch) else (self.guests[0].arch if self.guests else self.arch)


def from_dict(name: str, raw: dict[str, Any], lines: dict[str, int] | None = None) -> Host:
    """Build a host from its YAML form (lines: where each top-level key is, for errors)."""
    guests = tuple(
        Guest(arch=str(g["arch"]), emulator=str(g["emulator"]),
              machines=tuple(str(m) for m in g.get("machines", [])),
              aliases={str(k): str(v) for k, v in (g.get("aliases") or {}).items()},
              domain_types=tuple(g.get("domain_types", ["qemu"])))
        for g in raw.get("guests", [])
    )
    cpu = raw.get("cpu") or {}
    models = raw.get("cpu_models")
    return Host(
        name=name, arch=str(raw.get("arch", "x86_64")), guests=guests,
        cpu_models=tuple(models) if models is not None else None,
        cpu_model=cpu.get("model"), cpu_vendor=cpu.get("vendor"),
        cpu_features=tuple(cpu.get("features", [])),
        pci_backend=raw.get("pci_backend"),
        privileged=_switch(name, raw, "privileged", lines),
        hugetlbfs=tuple(str(m) for m in raw["hugetlbfs"] or ()) if "hugetlbfs" in raw else None,
        seccomp_sandbox=_switch(name, raw, "seccomp_sandbox", lines),
        smbios=_switch(name, raw, "smbios", lines),
        spice_tls=_switch(name, raw, "spice_tls", lines),
        hugepage_sizes=_page_sizes(name, raw, lines),
        network_driver=_switch(name, raw, "network_driver", lines),
        networks=tuple(str(n) for n in raw["networks"] or ()) if "networks" in raw else None,
        cpu_map=str(raw["cpu_map"]) if raw.get("cpu_map") is not None else None,
        secret_usages=_secrets(raw, "usages"), secret_uuids=_secrets(raw, "uuids"), raw=raw,
    )


def _page_sizes(name: str, raw: dict[str, Any], lines: dict[str, int] | None) -> tuple[str, ...] | None:
    """The hugetlbfs page sizes in KiB, as decimal strings (how rules compare them), or None."""
    if raw.get("hugepage_sizes") is None:
        return None
    sizes = raw["hugepage_sizes"]
    if not isinstance(sizes, list) or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0
                                              for n in sizes):
        raise InputError(name, (lines or {}).get("hugepage_sizes"),
                         f"host profile: hugepage_sizes must be a list of page sizes in KiB, not {sizes!r}")
    return tuple(str(n) for n in sizes)


def _secrets(raw: dict[str, Any], kind: str) -> tuple[str, ...] | None:
    """The secrets a profile lists (uuids canonical), or None when it has no secrets section."""
    if not isinstance(raw.get("secrets"), dict):
        return None
    names = [str(n) for n in raw["secrets"].get(kind) or ()]
    return tuple(n.lower().replace("-", "") for n in names) if kind == "uuids" else tuple(names)


def _switch(name: str, raw: dict[str, Any], key: str, lines: dict[str, int] | None) -> bool | None:
    """A true/false setting of the profile, None when the profile does not say."""
    value = raw.get(key)
    if value is not None and not isinstance(value, bool):
        raise InputError(name, (lines or {}).get(key), f"host profile: {key} must be true or false, not {value!r}")
    return value


def load(path: str | Path) -> Host:
    """Load a host profile from a YAML file."""
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise InputError(str(path), None, f"cannot read host profile: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(str(path), mark.line + 1 if mark else None,
                         "host profile is not valid YAML") from None
    if not isinstance(raw, dict):
        raise InputError(str(path), 1, "host profile must be a mapping")
    node = yaml.compose(Path(path).read_text(), Loader=yaml.SafeLoader)
    lines = {str(k.value): k.start_mark.line + 1 for k, _ in node.value}
    host = from_dict(str(path), raw, lines)
    if host.cpu_map is not None:
        # A relative CPU map path is relative to the profile, like an include.
        cpu_map = Path(path).parent / host.cpu_map
        if not cpu_map.is_file():
            raise InputError(str(path), lines.get("cpu_map"), f"host profile: cpu_map {host.cpu_map} is not a file")
        host = replace(host, cpu_map=str(cpu_map))
    return host


@cache
def default_host() -> Host:
    """A plain local x86_64 host, for users who name no profile."""
    return load(data_file("host-default.yaml"))


@cache
def example_host() -> Host:
    """The host rule examples run on: an Intel core2duo with QEMU's usual x86 CPU models."""
    return load(data_file("host-example.yaml"))
