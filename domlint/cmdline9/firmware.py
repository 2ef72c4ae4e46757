"""Firmware autoselection as libvirt 9.0 does it before a start (qemu_firmware.c, qemuFirmwareFillDomain).

QEMU's firmware descriptors (JSON files in /usr/share/qemu/firmware, then
/etc/qemu/firmware, then, for an unprivileged driver, ~/.config/qemu/firmware;
a later directory's file masks a same-named one, an empty file masks it away)
are tried in file-name order; the first that suits the domain is written into
it as libvirt does: the <loader> (pflash or ROM), its variable store, SMM and
a secure loader when the firmware needs them. Host paths are read under the
host profile's `fs_root` (default `/`).
"""

from __future__ import annotations

import fnmatch
import json
import os
from pathlib import Path
from typing import Any

from lxml import etree

from ..cmdline.context import Ctx
from ..errors import InputError
from ..values import parse_int

_DIRS = ("usr/share/qemu/firmware", "etc/qemu/firmware")
_USER_DIR = "home/user/.config/qemu/firmware"
_ARCH = {"i686": "i386"}
_INTERFACE = {"efi": "uefi", "bios": "bios"}
# The SEV-ES bit of a launch security policy (VIR_QEMU_FIRMWARE_AMD_SEV_ES_POLICY).
_SEV_ES_POLICY = 1 << 2


def _root(ctx: Ctx) -> Path:
    return Path(str(ctx.host.raw.get("fs_root") or "/"))


def descriptors(ctx: Ctx) -> list[tuple[str, dict[str, Any]]]:
    """The firmware descriptors the host offers, by file name, each from its highest-priority directory."""
    root = _root(ctx)
    dirs = list(_DIRS)
    if not ctx.setting("privileged", True):
        dirs.append(_USER_DIR)
    files: dict[str, Path] = {}
    for rel in dirs:
        base = root / rel
        if base.is_dir():
            for entry in base.iterdir():
                if entry.name.endswith(".json"):
                    files[entry.name] = entry
    out = []
    for name in sorted(files):
        path = files[name]
        if os.path.getsize(path) == 0:
            continue
        try:
            out.append((str(path), json.loads(path.read_text())))
        except (OSError, ValueError) as exc:
            raise InputError(str(path), None, f"cannot read firmware descriptor: {exc}") from None
    return out


def _features(ctx: Ctx) -> dict[str, str]:
    return {f.get("name", ""): f.get("enabled", "") for f in ctx.root.iterfind("os/firmware/feature")}


def _matches(ctx: Ctx, fw: dict[str, Any], interface: str, loader: etree._Element | None) -> bool:
    mapping = fw.get("mapping") or {}
    device = mapping.get("device")
    if loader is not None and ctx.root.find("os").get("firmware") is None:
        path = (loader.text or "").strip()
        if device != "flash" or path != (mapping.get("executable") or {}).get("filename"):
            return False
    if interface not in (fw.get("interface-types") or []):
        return False
    arch = _ARCH.get(ctx.arch, ctx.arch)
    if not any(t.get("architecture") == arch and any(fnmatch.fnmatchcase(ctx.machine, m) for m in t.get("machines") or [])
               for t in fw.get("targets") or []):
        return False
    feats = set(fw.get("features") or [])
    for pm, feat in (("suspend-to-mem", "acpi-s3"), ("suspend-to-disk", "acpi-s4")):
        el = ctx.root.find(f"pm/{pm}")
        if el is not None and el.get("enabled") == "yes" and feat not in feats:
            return False
    wanted = _features(ctx)
    for name, feat in (("secure-boot", "secure-boot"), ("enrolled-keys", "enrolled-keys")):
        if wanted.get(name) == "yes" and feat not in feats:
            return False
        if wanted.get(name) == "no" and feat in feats:
            return False
    if loader is not None and loader.get("secure") == "yes" and "requires-smm" not in feats:
        return False
    if device == "flash":
        mode = mapping.get("mode", "split")
        stateless = loader is not None and loader.get("stateless") == "yes"
        if mode != ("stateless" if stateless else "split"):
            return False
    sec = ctx.root.find("launchSecurity")
    if sec is not None and sec.get("type") == "sev":
        if "amd-sev" not in feats:
            return False
        policy = parse_int((sec.findtext("policy") or "0").strip(), 0) or 0
        if policy & _SEV_ES_POLICY and "amd-sev-es" not in feats:
            return False
    return True


def _needs_lookup(ctx: Ctx) -> str | None:
    """The interface to look for, or None when libvirt leaves the domain's firmware alone."""
    os_el = ctx.root.find("os")
    wanted = os_el.get("firmware")
    if wanted in _INTERFACE:
        return _INTERFACE[wanted]
    loader = os_el.find("loader")
    # A read-only pflash loader without an NVRAM template, whose store is missing or
    # local and absent, is completed from a matching descriptor if there is one.
    if loader is None or loader.get("type") != "pflash" or loader.get("readonly") != "yes":
        return None
    nvram = os_el.find("nvram")
    if nvram is not None and nvram.get("template"):
        return None
    if nvram is not None and nvram.get("type") not in (None, "file"):
        return None
    path = (nvram.text or "").strip() if nvram is not None else ""
    if nvram is not None and nvram.get("type") == "file":
        src = nvram.find("source")
        path = src.get("file", "") if src is not None else ""
    if path and (_root(ctx) / path.lstrip("/")).exists():
        return None
    return "uefi"


def fill(ctx: Ctx) -> None:
    """Choose the domain's firmware from the host's descriptors and write it into the domain, once."""
    if ctx.state.get("firmware.filled"):
        return
    ctx.state["firmware.filled"] = True
    interface = _needs_lookup(ctx)
    if interface is None:
        return
    os_el = ctx.root.find("os")
    auto = os_el.get("firmware") in _INTERFACE
    loader = os_el.find("loader")
    for _, fw in descriptors(ctx):
        if _matches(ctx, fw, interface, loader):
            _apply(ctx, os_el, fw)
            if auto:
                del os_el.attrib["firmware"]
            return
    if auto:
        raise InputError(ctx.path, os_el.sourceline,
                         f"Unable to find any firmware to satisfy '{os_el.get('firmware')}'")


def _apply(ctx: Ctx, os_el: etree._Element, fw: dict[str, Any]) -> None:
    mapping = fw.get("mapping") or {}
    device = mapping.get("device")
    loader = os_el.find("loader")
    if device in ("flash", "memory") and loader is None:
        loader = etree.SubElement(os_el, "loader")
    if device == "flash":
        assert loader is not None
        loader.set("type", "pflash")
        loader.set("readonly", "yes")
        loader.text = (mapping.get("executable") or {}).get("filename", "")
        if mapping.get("mode", "split") == "split":
            nvram = os_el.find("nvram")
            if nvram is None:
                nvram = etree.SubElement(os_el, "nvram")
            nvram.set("template", (mapping.get("nvram-template") or {}).get("filename", ""))
            if not (nvram.text or "").strip() and nvram.get("type") is None:
                nvram_dir = ctx.setting("nvram_dir") or "/var/lib/libvirt/qemu/nvram"
                nvram.text = f"{nvram_dir}/{ctx.root.findtext('name') or ''}_VARS.fd"
    elif device == "memory":
        assert loader is not None
        loader.set("type", "rom")
        loader.text = mapping.get("filename", "")
    elif device == "kernel":
        kernel = os_el.find("kernel")
        if kernel is None:
            kernel = etree.SubElement(os_el, "kernel")
        kernel.text = mapping.get("filename", "")
    if "requires-smm" in (fw.get("features") or []):
        features = ctx.root.find("features")
        if features is None:
            features = etree.SubElement(ctx.root, "features")
        smm = features.find("smm")
        if smm is None:
            etree.SubElement(features, "smm", {"state": "on"})
        elif smm.get("state") == "off":
            raise InputError(ctx.path, smm.sourceline, "domain has SMM turned off but chosen firmware requires it")
        if loader is not None:
            loader.set("secure", "yes")
