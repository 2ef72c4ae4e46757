"""The firmware's flash devices as libvirt 9.0 opens them: -blockdev nodes named libvirt-pflashN-*.

A pflash loader is pflash0 (its code, read-only when the loader says so) and
its variable store pflash1 (a file, or any source an <nvram type=...> names,
a network one included). Which loader and store the domain gets, after
autoselection and the driver's default store, is the core family's
`fwauto.resolve`; -machine names the format nodes this stage records
(ctx.state pflash0/pflash1, read by platform.pflash_nodes, which asks `pflash_nodes`
when it runs on its own).
"""

from __future__ import annotations

from ..cmdline.command import Command
from ..cmdline.context import Ctx
from . import blockdev
from . import fwauto as firmware
from .blockdev import Image

_PREFIX = ("libvirt-pflash0", "libvirt-pflash1")


def images(ctx: Ctx) -> list[Image]:
    """pflash0 (the firmware code) and, when there is one, pflash1 (its variable store)."""
    fw = firmware.resolve(ctx)
    loader = ctx.root.find("os/loader")
    if fw.loader_type != "pflash":
        return []
    code = Image(el=loader if loader is not None else ctx.root.find("os"), src=None, type="file",
                 path=fw.loader_path, format="raw", readonly=fw.readonly == "yes", top=True, node_prefix=_PREFIX[0])
    out = [code]
    nvram = _nvram(ctx, fw)
    if nvram is not None:
        out.append(nvram)
    return out


def _nvram(ctx: Ctx, fw: firmware.Firmware) -> Image | None:
    el = ctx.root.find("os/nvram")
    path = (el.text or "").strip() if el is not None else ""
    if fw.stateless or not (fw.nvram_path or path or (el is not None and el.get("type"))):
        return None
    if el is not None and el.get("type"):
        # <nvram type='file|block|network'> holds a full storage source.
        img = blockdev.image(ctx, el, el.get("type", "file"), "raw")
    elif path:
        # The store the domain names, also when autoselection supplied the loader.
        img = Image(el=el, src=None, type="file", path=path, format="raw", top=True)  # type: ignore[arg-type]
    elif fw.nvram_path:
        img = Image(el=el if el is not None else ctx.root.find("os"), src=None, type="file", path=fw.nvram_path,
                    format="raw", top=True)
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
    found = images(ctx)
    if found:
        # What core's -machine names as pflash0= / pflash1= (platform.pflash_nodes).
        ctx.state["pflash0"] = found[0].format_node
        ctx.state["pflash1"] = found[1].format_node if len(found) > 1 else None
    for img in found:
        for opt, value in blockdev.image_args(ctx, img):
            cmd.add(opt, value)
