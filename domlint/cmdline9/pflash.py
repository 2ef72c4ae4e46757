"""The firmware's flash devices as libvirt 9.0 opens them: -blockdev nodes named libvirt-pflashN-*.

A <loader type='pflash'> is pflash0 (its code, read-only when the loader says
so) and its <nvram> pflash1 (the variable store, a file or a network source).
A read-only loader without an <nvram> gets the driver's per-domain store,
NVRAM_DIR/NAME_VARS.fd, unless it is stateless. The core family's -machine
names the format nodes (`pflash_nodes`). Firmware autoselection
(`firmware.fill`) writes the chosen <loader> and <nvram> into the domain first,
as libvirt fills def->os.loader.
"""

from __future__ import annotations

from lxml import etree

from ..cmdline.command import Command
from ..cmdline.context import Ctx
from . import blockdev, firmware
from .blockdev import Image

_PREFIX = ("libvirt-pflash0", "libvirt-pflash1")


def _loader(ctx: Ctx) -> etree._Element | None:
    loader = ctx.root.find("os/loader")
    if loader is None or loader.get("type") != "pflash":
        return None
    return loader


def images(ctx: Ctx) -> list[Image]:
    """pflash0 (the firmware code) and, when there is one, pflash1 (its variable store)."""
    loader = _loader(ctx)
    if loader is None:
        return []
    code = Image(el=loader, src=None, type="file", path=(loader.text or "").strip() or None, format="raw",
                 readonly=loader.get("readonly") == "yes", top=True, node_prefix=_PREFIX[0])
    out = [code]
    nvram = _nvram(ctx, loader)
    if nvram is not None:
        out.append(nvram)
    return out


def _nvram(ctx: Ctx, loader: etree._Element) -> Image | None:
    el = ctx.root.find("os/nvram")
    path = (el.text or "").strip() if el is not None else ""
    if el is not None and el.get("type"):
        img = blockdev.image(ctx, el, el.get("type", "file"), "raw")
    elif path:
        img = Image(el=el, src=None, type="file", path=path, format="raw", top=True)  # type: ignore[arg-type]
    elif loader.get("readonly") == "yes" and loader.get("stateless") != "yes":
        # The driver's own variable store for this domain (qemuDomainNVRAMPathFormat).
        nvram_dir = ctx.setting("nvram_dir") or "/var/lib/libvirt/qemu/nvram"
        name = ctx.root.findtext("name") or ""
        img = Image(el=loader, src=None, type="file", path=f"{nvram_dir}/{name}_VARS.fd", format="raw", top=True)
    else:
        return None
    img.node_prefix = _PREFIX[1]
    img.readonly = False
    return img


def pflash_nodes(ctx: Ctx) -> list[str]:
    """The format nodes -machine names as pflash0= and pflash1= (in that order; empty without a pflash loader)."""
    return [img.format_node for img in images(ctx)]


def pflash(ctx: Ctx, cmd: Command) -> None:
    """-blockdev (and any secret/TLS objects) for the firmware flash and its variable store."""
    # libvirt picks the firmware while preparing the domain; the first stage that needs it does here.
    firmware.fill(ctx)
    found = images(ctx)
    if found:
        # What core's -machine names as pflash0= / pflash1= (platform.pflash_nodes).
        ctx.state["pflash0"] = found[0].format_node
        ctx.state["pflash1"] = found[1].format_node if len(found) > 1 else None
    for img in found:
        for opt, value in blockdev.image_args(ctx, img):
            cmd.add(opt, value)
