"""What the host offers beyond the domain: guests, machines, CPU models."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from .data import data_file
from .yamlcheck import load_checked


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


def from_dict(name: str, raw: dict[str, Any]) -> Host:
    """Build a host from its YAML form."""
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
        pci_backend=raw.get("pci_backend"), raw=raw,
    )


def load(path: str | Path) -> Host:
    """Load a host profile from a YAML file, checked against schema/host.schema.json."""
    raw = load_checked(path, "host.schema.json", "host profile")
    return from_dict(str(raw.get("name") or path), raw)


@cache
def default_host() -> Host:
    """A plain local x86_64 host, for users who name no profile."""
    return load(data_file("host-default.yaml"))


@cache
def example_host() -> Host:
    """The host rule examples run on: an Intel core2duo with QEMU's usual x86 CPU models."""
    return load(data_file("host-example.yaml"))
