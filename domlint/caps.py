"""QEMU capability sets: built-in profiles, name lists and libvirt cache files, per target."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from functools import cache, partial
from typing import TYPE_CHECKING, Any

from . import cache as diskcache
from .errors import InputError, UsageError
from .pathname import read_bytes
from .target import Target, resolve

if TYPE_CHECKING:
    from .pathname import StrPath


class Caps(frozenset[str]):
    """A set of libvirt capability flag names, with where it came from and what else the source says.

    Beyond the flags a source may know the QEMU version (as libvirt stores it,
    7002050 for 7.2.50), the architecture, the machine types (name, alias,
    default, CPU limit) and the CPU model names per accelerator. Each is empty
    or None when the source does not say, so that nothing depends on it.

    `argv_facts` is the rest of what libvirt reads from a capability file to
    build the command line (see `read_argv_facts`): QEMU's host CPU, its CPU
    definitions, every attribute of its machine types, GIC and SEV. A built-in
    profile loads it only when the emitter asks (it is large and `check` never
    needs it).
    """

    source: str
    version: int | None
    arch: str | None
    machines: tuple[dict[str, Any], ...]
    cpu_models: dict[str, tuple[str, ...]]

    def __new__(cls, flags: frozenset[str] | set[str] | list[str] | tuple[str, ...],
                source: str = "", version: int | None = None, arch: str | None = None,
                machines: tuple[dict[str, Any], ...] = (),
                cpu_models: dict[str, tuple[str, ...]] | None = None,
                argv_facts: dict[str, Any] | Callable[[], dict[str, Any] | None] | None = None) -> Caps:
        obj = super().__new__(cls, flags)
        obj.source = source
        obj.version = version
        obj.arch = arch
        obj.machines = machines
        obj.cpu_models = cpu_models or {}
        obj._argv_facts = argv_facts
        return obj

    @property
    def argv_facts(self) -> dict[str, Any] | None:
        """What the source says beyond flags for the command line (read_argv_facts), or None when it says nothing."""
        facts = self.__dict__.get("_argv_facts")
        if callable(facts):
            facts = self._argv_facts = facts()
        return facts

    def like(self, flags: frozenset[str] | set[str], machines: tuple[dict[str, Any], ...] | None = None) -> Caps:
        """A copy with other flags (and machines), keeping every other fact of the source."""
        return Caps(flags, self.source, self.version, self.arch, self.machines if machines is None else machines,
                    self.cpu_models, self.__dict__.get("_argv_facts"))

    def with_flags(self, *extra: str) -> Caps:
        """A copy with extra flags added."""
        return self.like(self | set(extra))



def all_caps(target: Target | str | None = None) -> Caps:
    """Every capability present: only checks that hold for any QEMU fire."""
    t = resolve(target)
    return Caps(t.caps_names, "all capabilities (no source given)")


def _with_retired(names: list[str] | tuple[str, ...], t: Target) -> frozenset[str]:
    # A retired flag is one every QEMU the release supports has, so it no
    # longer tests it: counted present, a rule gated on it behaves as the release does.
    return frozenset(names) | t.retired


class _Profiles(diskcache.Packed):
    """A target's built-in profiles by name, each read and unpacked when asked for (a check reads one), and their
    arches."""

    def __init__(self, arches: dict[str, str | None], bodies: Sequence[bytes | None]) -> None:
        super().__init__(diskcache.Keyed(list(arches), bodies))
        self._arches = arches

    def arch_of(self, name: str) -> str | None:
        """The architecture a profile names (None: none, which means x86_64), without reading the profile."""
        return self._arches[name]


@cache
def _profile_table(folder: str) -> _Profiles:
    path = os.path.join(folder, "qemu-profiles.yaml")

    def build() -> tuple[dict[str, str | None], list[list[bytes | None]]]:
        import marshal

        import yaml  # imported only on a cache miss

        with open(path, encoding="utf-8") as fh:
            table = {str(name): dict(body) for name, body in yaml.safe_load(fh).items()}
        return {name: body.get("arch") for name, body in table.items()}, [[marshal.dumps(b) for b in table.values()]]
    arches, (bodies,) = diskcache.load_split("profiles", [path], build)
    return _Profiles(arches, bodies)


def profiles(target: Target | str | None = None) -> dict[str, tuple[str, ...]]:
    """Built-in profiles of a target: name to capability flags."""
    return {name: tuple(body["flags"]) for name, body in _profile_table(resolve(target).folder).items()}


# The command-line facts of the built-in profiles, beside qemu-profiles.yaml (tools/qemu_profiles.py).
ARGV_FACTS_FILE = "qemu-profiles-argv.json"


@cache
def _argv_fact_table(folder: str) -> dict[str, dict[str, Any]]:
    import json

    path = os.path.join(folder, ARGV_FACTS_FILE)
    if not os.path.isfile(path):
        return {}
    return json.loads(read_bytes(path))  # type: ignore[no-any-return]


def _profile_argv_facts(folder: str, name: str) -> dict[str, Any] | None:
    return _argv_fact_table(folder).get(name)


def profile_info(target: Target | str | None = None) -> dict[str, dict[str, Any]]:
    """Built-in profiles of a target: name to its facts (flags, version, arch, ...), as the data file holds them."""
    return dict(_profile_table(resolve(target).folder))


def _checked(names: list[str], where: str, t: Target) -> list[str]:
    known = set(t.caps_names)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(f"{where}: unknown capability name(s) for {t.label}: {', '.join(unknown)}")
    return names


def from_list(text: str, target: Target | str | None = None) -> Caps:
    """Capabilities from a comma-separated list of flag names."""
    t = resolve(target)
    names = [n.strip() for n in text.split(",") if n.strip()]
    return Caps(_with_retired(_checked(names, "--caps", t), t), "--caps")


def _version_of(name: str) -> tuple[int, ...]:
    parts = name.removeprefix("qemu-").split("-")[0].split(".")
    return tuple(int(p) for p in parts if p.isdigit())


def from_profile(name: str, target: Target | str | None = None) -> Caps:
    """Capabilities of a built-in profile (`qemu-1.6.0`, `1.6.0`, or `qemu-7.2.50-x86_64`)."""
    t = resolve(target)
    table = _profile_table(t.folder)
    key = name if name in table else f"qemu-{name}"
    if key not in table:
        raise UsageError(f"unknown capability profile {name!r} for {t.label}; known: {', '.join(table)}")
    return _from_info(table[key], f"profile {key}", t, partial(_profile_argv_facts, t.folder, key))


def _from_info(info: dict[str, Any], source: str, t: Target,
               argv_facts: dict[str, Any] | Callable[[], dict[str, Any] | None] | None = None) -> Caps:
    return Caps(_with_retired(list(info["flags"]), t), source, version=info.get("version_number"),
                arch=info.get("arch"), machines=tuple(info.get("machines", ())),
                cpu_models={k: tuple(v) for k, v in (info.get("cpu_models") or {}).items()},
                argv_facts=argv_facts if argv_facts is not None else info.get("argv_facts"))


# Guest architectures that only a QEMU binary of another architecture runs: there is no
# qemu-system-ppc64le, libvirt runs such a guest with qemu-system-ppc64 (virQEMUCapsIsArchSupported).
BINARY_ARCH = {"ppc64le": "ppc64"}


def newest_profile(target: Target | str | None = None, arch: str | None = None) -> Caps:
    """The newest built-in profile of a target (for arch, when one is given and a profile has it)."""
    # Asked once per checked file: built once per target and arch.
    return _newest_profile(resolve(target), arch)


@cache
def _newest_profile(t: Target, arch: str | None) -> Caps:
    table = _profile_table(t.folder)
    arch = BINARY_ARCH.get(arch, arch) if arch else arch
    names = [n for n in table if arch and table.arch_of(n) == arch] or \
        [n for n in table if table.arch_of(n) in (None, "x86_64")]
    caps = from_profile(max(names, key=_version_of), t)
    if arch and caps.arch and caps.arch != arch:
        # A stand-in for a binary no profile describes: its flags, but not the
        # architecture, machine types, CPU models or host CPU of another binary.
        return Caps(caps, caps.source, caps.version)
    return caps


def read_qemu_caps(path: StrPath) -> dict[str, Any]:
    """The facts of a libvirt capability cache file (`<qemuCaps>`): flags, version, arch, machines, CPU models."""
    from .parse import parse_file

    doc = parse_file(path, roots=None)
    root = doc.root
    flags = [str(el.get("name", "")) for el in root.iter("flag")]
    if not flags:
        raise InputError(str(path), None, "no <flag name=.../> elements found")
    info: dict[str, Any] = {"flags": flags, "lines": {str(el.get("name")): el.sourceline for el in root.iter("flag")}}
    number = (root.findtext("version") or "").strip()
    if number.isdigit():
        n = int(number)
        info["version_number"] = n
        info["version"] = f"{n // 1000000}.{n // 1000 % 1000}.{n % 1000}"
    arch = (root.findtext("arch") or "").strip()
    if arch:
        info["arch"] = arch
    machines = []
    for m in root.iter("machine"):
        entry = {k: m.get(k) for k in ("type", "name", "alias", "maxCpus", "default", "defaultRAMid")
                 if m.get(k) is not None}
        machines.append(entry)
    if machines:
        info["machines"] = machines
    models: dict[str, list[str]] = {}
    for c in root.iter("cpu"):
        if c.get("name") and c.get("type") and c.getparent() is root:
            models.setdefault(str(c.get("type")), []).append(str(c.get("name")))
    if models:
        info["cpu_models"] = models
    info["argv_facts"] = read_argv_facts(root)
    return info


def read_argv_facts(root: Any) -> dict[str, Any]:
    """What libvirt reads from a capability file for the command line beyond flags and model names.

    machines: every attribute of each machine type (defaultCPU, defaultRAMid,
    numaMemSupported...); models: each CPU definition's attributes (type, name,
    typename, usable) and its blockers joined by commas; gic: the GIC versions;
    host_props, host_models, host_migratability: QEMU's host CPU per accelerator
    (<hostCPU>: what a host-model CPU becomes, virQEMUCapsInitHostCPUModel), its
    properties as [name, type, value, migratable]; sev: cbitpos and reducedPhysBits.
    """
    machines = [dict(m.attrib) for m in root.findall("machine")]
    models: list[dict[str, str]] = []
    for c in root.findall("cpu"):
        entry = dict(c.attrib)
        entry["blockers"] = ",".join(b.get("name", "") for b in c.findall("blocker"))
        models.append(entry)
    gics = [dict(g.attrib) for g in root.findall("gic")]
    host_props = {h.get("type"): [[p.get("name"), p.get("type"), p.get("value"), p.get("migratable")]
                                  for p in h.findall("property")]
                  for h in root.findall("hostCPU")}
    host_migratability = {h.get("type"): h.get("migratability") for h in root.findall("hostCPU")}
    host_models = {h.get("type"): h.get("model") for h in root.findall("hostCPU")}
    sev = root.find("sev")
    sev_info = {k: int(sev.findtext(k)) for k in ("cbitpos", "reducedPhysBits")
                if sev is not None and (sev.findtext(k) or "").strip().isdigit()}
    return {"machines": machines, "models": models, "gic": gics, "host_props": host_props,
            "host_models": host_models, "host_migratability": host_migratability, "sev": sev_info}


def from_file(path: StrPath, target: Target | str | None = None, warn: Any = None) -> Caps:
    """Capabilities from libvirt's capability cache file (or any XML holding <flag name='...'/> elements).

    Flag names the target does not know are left out with a warning (a newer
    libvirt wrote the file); warn(message) receives it, standard error by default.
    """
    t = resolve(target)
    info = read_qemu_caps(path)
    lines = info.pop("lines")
    known = set(t.caps_names)
    unknown = sorted({n for n in info["flags"] if n not in known})
    if unknown:
        first = min(lines[n] or 0 for n in unknown)
        message = (f"{path}:{first}: warning: {len(unknown)} capability name(s) {t.label} does not know, "
                   f"left out: {', '.join(unknown)}")
        (warn or (lambda m: sys.stderr.write(m + "\n")))(message)
        info["flags"] = [n for n in info["flags"] if n in known]
    return _from_info(info, str(path), t)


_HOST_FILES: dict[tuple[str, str], Caps] = {}


def of_host(host: Any, target: Target | str | None = None, arch: str | None = None) -> Caps | None:
    """The capability cache file a host profile names for arch (its qemu_caps, as a snapshot writes them), or None.

    None too when the profile says another major libvirt release wrote the files than the target's."""
    path = (getattr(host, "qemu_caps", None) or {}).get(arch or getattr(host, "arch", None) or "x86_64")
    if not path:
        return None
    t = resolve(target)
    # A cache another libvirt generation wrote names other flags (1.2.8's are not 9.0's): not used then.
    written = str((getattr(host, "raw", None) or {}).get("libvirt_version") or "")
    if written and written.split(".")[0] != t.release.split(".")[0]:
        return None
    key = (str(path), t.name)
    if key not in _HOST_FILES:
        _HOST_FILES[key] = from_file(path, t)
    return _HOST_FILES[key]
