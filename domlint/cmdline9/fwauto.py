"""Firmware as libvirt 9.0 settles it at start: autoselection from QEMU's JSON descriptors (qemu_firmware.c).

The result says which loader QEMU gets (a ROM for -bios, or a flash image with
its NVRAM store), and whether the chosen firmware turned on SMM and the secure
flash. It is computed once per emission and kept in ctx.state["firmware"].
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..cmdline.context import Ctx
from ..errors import HostFactMissing
from . import hostfacts

# The QEMU architecture names of the descriptors' targets.
_QEMU_ARCH = {"i686": "i386", "x86_64": "x86_64", "aarch64": "aarch64", "armv7l": "arm"}

# SEV policy bit for SEV-ES (VIR_QEMU_FIRMWARE_AMD_SEV_ES_POLICY).
_SEV_ES_POLICY = 1 << 2


@dataclass
class Firmware:
    """The loader after firmware selection."""

    loader_type: str | None = None          # rom, pflash or None
    loader_path: str | None = None
    readonly: str | None = None             # yes / no / None
    secure: bool = False
    stateless: bool = False
    nvram_path: str | None = None           # set when QEMU gets an NVRAM flash
    nvram_template: str | None = None
    smm_on: bool = False                    # the firmware requires SMM and the domain left it unset
    descriptor: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _descriptor_dirs(ctx: Ctx) -> list[Path]:
    """Where QEMU's interop descriptors live, lowest priority first (data dir, then config dir)."""
    root = Path(str(ctx.host.raw.get("fs_root") or "/"))
    dirs = [root / "usr/share/qemu/firmware", root / "etc/qemu/firmware"]
    if ctx.setting("privileged", True) is False:
        dirs.append(root / "home/user/.config/qemu/firmware")
    return dirs


def descriptors(ctx: Ctx) -> list[tuple[str, dict[str, Any]]]:
    """The firmware descriptors by file name; a higher directory's file replaces its namesake, an empty one masks it."""
    files: dict[str, Path] = {}
    for d in _descriptor_dirs(ctx):
        if d.is_dir():
            for f in d.iterdir():
                if f.is_file() and f.name.endswith(".json"):
                    files[f.name] = f
    out: list[tuple[str, dict[str, Any]]] = []
    for name in sorted(files):
        path = files[name]
        text = path.read_text(encoding="utf-8")
        if not text.strip():
            continue
        try:
            out.append((str(path), json.loads(text)))
        except ValueError:
            continue
    return out


def _feature_requests(ctx: Ctx) -> dict[str, bool]:
    fw = ctx.root.find("os/firmware")
    if fw is None:
        return {}
    return {f.get("name"): f.get("enabled") == "yes" for f in fw.findall("feature") if f.get("name")}


def _pm(ctx: Ctx, tag: str) -> str | None:
    el = ctx.root.find(f"pm/{tag}")
    return el.get("enabled") if el is not None else None


def _sev_policy(ctx: Ctx) -> int | None:
    sec = ctx.root.find("launchSecurity")
    if sec is None or sec.get("type") != "sev":
        return None
    text = (sec.findtext("policy") or "0").strip()
    return int(text, 16) if text.lower().startswith("0x") else int(text)


def _matches(ctx: Ctx, fw: dict[str, Any], want: str, loader: Any) -> bool:
    """qemuFirmwareMatchDomain: interface, machine/arch, features and flash mode all fit the domain."""
    mapping = fw.get("mapping") or {}
    device = mapping.get("device")
    if ctx.root.find("os").get("firmware") is None and loader is not None:
        exe = (mapping.get("executable") or {}).get("filename")
        if device != "flash" or (loader.text or "").strip() != exe:
            return False
    if want not in (fw.get("interface-types") or []):
        return False
    arch = _QEMU_ARCH.get(ctx.arch, ctx.arch)
    if not any(t.get("architecture") == arch and any(fnmatch.fnmatchcase(ctx.machine, m) for m in t.get("machines", []))
               for t in fw.get("targets") or []):
        return False
    feats = set(fw.get("features") or [])
    if _pm(ctx, "suspend-to-mem") == "yes" and "acpi-s3" not in feats:
        return False
    if _pm(ctx, "suspend-to-disk") == "yes" and "acpi-s4" not in feats:
        return False
    req = _feature_requests(ctx)
    for name, have in (("secure-boot", "secure-boot" in feats), ("enrolled-keys", "enrolled-keys" in feats)):
        if name in req and req[name] != have:
            return False
    if loader is not None and loader.get("secure") == "yes" and "requires-smm" not in feats:
        return False
    if device == "flash":
        mode = mapping.get("mode", "split")
        stateless = loader is not None and loader.get("stateless") == "yes"
        if stateless != (mode == "stateless"):
            return False
    policy = _sev_policy(ctx)
    if policy is not None:
        if "amd-sev" not in feats:
            return False
        if policy & _SEV_ES_POLICY and "amd-sev-es" not in feats:
            return False
    return True


def nvram_path(ctx: Ctx) -> str:
    """The per-domain NVRAM store libvirt creates: NVRAM_DIR/NAME_VARS.fd."""
    base = ctx.setting("nvram_dir") or f"{hostfacts.lib_dir(ctx)}/nvram"
    return f"{base}/{ctx.root.findtext('name') or ''}_VARS.fd"


def _from_xml(ctx: Ctx) -> Firmware:
    loader = ctx.root.find("os/loader")
    fw = Firmware()
    if loader is None:
        return fw
    fw.loader_path = (loader.text or "").strip() or None
    fw.loader_type = loader.get("type") or ("rom" if fw.loader_path else None)
    fw.readonly = loader.get("readonly")
    fw.secure = loader.get("secure") == "yes"
    fw.stateless = loader.get("stateless") == "yes"
    nv = ctx.root.find("os/nvram")
    fw.nvram_template = (nv.get("template") if nv is not None else None) or None
    if fw.loader_type == "pflash" and not fw.stateless:
        if nv is not None:
            fw.nvram_path = (nv.text or "").strip() or nvram_path(ctx)
        elif fw.readonly == "yes":
            # qemuDomainNVRAMPathGenerate: a read-only flash loader gets the default store.
            fw.nvram_path = nvram_path(ctx)
    return fw


def resolve(ctx: Ctx) -> Firmware:
    """The loader QEMU gets, after autoselection (cached per emission)."""
    if "firmware" in ctx.state:
        return ctx.state["firmware"]
    fw = _from_xml(ctx)
    os_el = ctx.root.find("os")
    auto = os_el.get("firmware") if os_el is not None else None
    loader = ctx.root.find("os/loader")
    need = True
    if auto not in ("bios", "efi"):
        # Old style: a read-only flash loader without a template consults the descriptors, failing quietly.
        if fw.loader_type != "pflash" or fw.readonly != "yes" or fw.nvram_template:
            ctx.state["firmware"] = fw
            return fw
        nv = ctx.root.find("os/nvram")
        if nv is not None and nv.get("type") not in (None, "file"):
            ctx.state["firmware"] = fw
            return fw
        need = False
    elif ctx.opts.migrate_from:
        ctx.state["firmware"] = fw
        return fw
    want = "bios" if auto == "bios" or (auto is None and fw.loader_type == "rom") else "uefi"
    chosen = next(((p, d) for p, d in descriptors(ctx) if _matches(ctx, d, want, loader)), None)
    if chosen is None:
        if need:
            # Which firmware QEMU has is what the host's interop descriptors say.
            where = " or ".join(str(d) for d in _descriptor_dirs(ctx))
            raise HostFactMissing(ctx.path, None, f"Unable to find any firmware to satisfy '{auto}' in the "
                                  f"firmware descriptors under {where}", "fs_root")
        ctx.state["firmware"] = fw
        return fw
    _apply(ctx, fw, chosen[0], chosen[1])
    ctx.state["firmware"] = fw
    return fw


def _apply(ctx: Ctx, fw: Firmware, path: str, desc: dict[str, Any]) -> None:
    """qemuFirmwareEnableFeatures: take the descriptor's images, and SMM plus the secure flash if it needs them."""
    mapping = desc.get("mapping") or {}
    fw.descriptor = path
    if mapping.get("device") == "flash":
        fw.loader_type, fw.readonly = "pflash", "yes"
        fw.loader_path = (mapping.get("executable") or {}).get("filename")
        if mapping.get("mode", "split") == "split":
            fw.nvram_template = (mapping.get("nvram-template") or {}).get("filename")
            if not fw.nvram_path:
                fw.nvram_path = nvram_path(ctx)
    elif mapping.get("device") == "memory":
        fw.loader_type, fw.loader_path = "rom", mapping.get("filename")
    elif mapping.get("device") == "kernel":
        fw.extra["kernel"] = mapping.get("filename")
    if "requires-smm" in (desc.get("features") or []):
        smm = ctx.root.find("features/smm")
        if smm is None:
            fw.smm_on = True
        fw.secure = True
