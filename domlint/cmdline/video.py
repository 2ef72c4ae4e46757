"""Video: -vga, or -device VGA / cirrus-vga / vmware-svga / qxl-vga / qxl, and qxl memory sizes."""

from __future__ import annotations

from lxml import etree

from ..domain import VIDEO_VRAM_KIB, default_video_model
from ..errors import InputError
from . import address, alias, devices
from .command import Command
from .context import Ctx

# Model to its -vga name ("" for xen: its framebuffer needs no option).
VGA_NAME = {"vga": "std", "cirrus": "cirrus", "vmvga": "vmware", "xen": "", "qxl": "qxl"}
# Model to the primary -device name, and the capability that device needs.
PRIMARY_DEVICE = {"vga": ("VGA", "VGA"), "cirrus": ("cirrus-vga", "cirrus-vga"),
                  "vmvga": ("vmware-svga", "vmware-svga"), "qxl": ("qxl-vga", "device-qxl-vga")}
# The most KiB QEMU can take as a byte count in 32 bits.
_MAX_KIB = 0xFFFFFFFF // 1024


default_model = default_video_model


def model_of(root: etree._Element, video: etree._Element) -> str:
    """A video device's model type, defaulted."""
    model = video.find("model")
    return (model.get("type") if model is not None else None) or default_model(root)


def default_vram(model: str) -> int:
    """The video RAM (KiB) libvirt assumes for a model."""
    return VIDEO_VRAM_KIB.get(model, 0)


def _kib(ctx: Ctx, video: etree._Element, attr: str, default: int) -> int:
    model = video.find("model")
    text = model.get(attr) if model is not None else None
    if text is None:
        return default
    try:
        value = int(text, 10)
    except ValueError:
        raise InputError(ctx.path, video.sourceline, f"video {attr} '{text}' is not a number") from None
    if value > _MAX_KIB:
        raise InputError(ctx.path, video.sourceline, f"video {attr} must be at most {_MAX_KIB} KiB")
    return value


def sizes(ctx: Ctx, video: etree._Element) -> tuple[int, int]:
    """(ram, vram) in KiB with libvirt's defaults; ram is 0 for anything but qxl."""
    model = model_of(ctx.root, video)
    ram = _kib(ctx, video, "ram", 65536) if model == "qxl" else 0
    return ram, _kib(ctx, video, "vram", default_vram(model))


def device_str(ctx: Ctx, video: etree._Element, primary: bool, index: int) -> str:
    """The -device value of one video device (a secondary one is always plain qxl)."""
    model = model_of(ctx.root, video)
    name = PRIMARY_DEVICE[model][0] if primary else "qxl"
    opt = f"{name},id={alias.name(video) or f'video{index}'}"
    if model == "qxl":
        ram, vram = sizes(ctx, video)
        opt += f",ram_size={ram * 1024},vram_size={vram * 1024}"
    return opt + address.suffix(ctx, video)


def _primary_as_device(ctx: Ctx, model: str) -> bool:
    if not ctx.has("device-video-primary") or model not in PRIMARY_DEVICE:
        return False
    return ctx.has(PRIMARY_DEVICE[model][1])


def videos(ctx: Ctx, cmd: Command) -> None:
    """Every video device as -device, or the primary as -vga (+ qxl -global sizes) and the rest as -device qxl."""
    devs = devices.videos(ctx)
    if not devs:
        if not ctx.has("device") and ctx.has("vga", "vga-none"):
            cmd.add("-vga", "none")
        return
    primary = devs[0]
    model = model_of(ctx.root, primary)
    if _primary_as_device(ctx, model):
        for i, v in enumerate(devs):
            cmd.add("-device", device_str(ctx, v, i == 0, i))
        return
    if ctx.has("vga"):
        if model != "xen":
            if model not in VGA_NAME:
                raise InputError(ctx.path, primary.sourceline, f"QEMU has no '{model}' video card")
            cmd.add("-vga", VGA_NAME[model])
            ram, vram = sizes(ctx, primary)
            if model == "qxl" and (ram or vram) and ctx.has("device"):
                dev = "qxl-vga" if ctx.has("device-qxl-vga") else "qxl"
                if ram:
                    cmd.add("-global", f"{dev}.ram_size={ram * 1024}")
                if vram:
                    cmd.add("-global", f"{dev}.vram_size={vram * 1024}")
        for i, v in enumerate(devs[1:], start=1):
            cmd.add("-device", device_str(ctx, v, False, i))
        return
    # QEMUs before -vga: only a switch for the standard and VMware adapters.
    if model == "vga":
        cmd.add("-std-vga")
    elif model == "vmvga":
        cmd.add("-vmwarevga")
