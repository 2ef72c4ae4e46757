"""Video devices as libvirt 9.0 builds them (qemuBuildVideoCommandLine, qemuDeviceVideoGetModel)."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from ..cmdline.command import Command
from ..cmdline.context import Ctx
from ..errors import InputError
from . import address as A
from . import devutil
from . import props as P
from .hostfacts import host_fd

Element = etree._Element

# The video RAM (KiB) libvirt gives a model that names none (virDomainVideoDefaultRAM, QEMU guests).
DEFAULT_VRAM_KIB = {"vga": 16384, "cirrus": 16384, "vmvga": 16384, "bochs": 16384, "xen": 4096, "qxl": 65536}
QXL_VGAMEM_DEFAULT_KIB = 16384
# Models with a VGA-compatible variant for the primary card, and the variant's name.
PRIMARY_MODELS = {"vga": "VGA", "cirrus": "cirrus-vga", "vmvga": "vmware-svga", "qxl": "qxl-vga",
                  "bochs": "bochs-display", "ramfb": "ramfb"}


@dataclass
class Video:
    """One video device after libvirt's post-parse: its model, memory sizes (KiB), heads and whether it is primary."""

    el: Element
    type: str
    primary: bool
    vhost_user: bool
    heads: int
    ram: int
    vram: int
    vram64: int
    vgamem: int
    accel3d: bool | None


def _round_pow2(value: int) -> int:
    """VIR_ROUND_UP_POWER_OF_TWO: the next power of two at or above value (0 stays 0)."""
    if value <= 0:
        return 0
    return 1 << (value - 1).bit_length()


def default_model(ctx: Ctx) -> str | None:
    """The model of a <video> without one (qemuDomainDefaultVideoDevice)."""
    arch, machine = ctx.arch, ctx.machine
    if arch in ("ppc64", "ppc64le"):
        return "vga"
    virt = machine == "virt" or machine.startswith("virt-")
    if (virt and arch in ("armv6l", "armv7l", "aarch64", "riscv32", "riscv64")) or arch in ("s390", "s390x"):
        return "virtio"
    if ctx.has("cirrus-vga"):
        return "cirrus"
    if ctx.has("vga"):
        return "vga"
    return None


def _model_uint(ctx: Ctx, model: Element | None, attr: str, default: int = 0) -> int:
    if model is None or model.get(attr) is None:
        return default
    try:
        return int(model.get(attr, ""), 10)
    except ValueError:
        raise InputError(ctx.path, model.sourceline, f"cannot parse video {attr} '{model.get(attr)}'") from None


def videos_of(ctx: Ctx) -> list[Video]:
    """The domain's video devices in libvirt's order (a primary='yes' one first), post-parse defaults filled in."""
    found: list[Video] = []
    for el in ctx.devices.iterfind("video"):
        model = el.find("model")
        vtype = (model.get("type") if model is not None else None) or default_model(ctx) or "default"
        drv = el.find("driver")
        accel = model.find("acceleration") if model is not None else None
        ram = _model_uint(ctx, model, "ram")
        vram = _model_uint(ctx, model, "vram")
        if ram == 0 and vtype == "qxl":
            ram = DEFAULT_VRAM_KIB["qxl"]
        if vram == 0:
            vram = DEFAULT_VRAM_KIB.get(vtype, 0)
        vgamem = _model_uint(ctx, model, "vgamem")
        if vtype == "qxl" and not vgamem:
            vgamem = QXL_VGAMEM_DEFAULT_KIB
        video = Video(el, vtype, model is not None and devutil.onoff(model, "primary") is True,
                      drv is not None and drv.get("name") == "vhostuser", _model_uint(ctx, model, "heads", 1),
                      _round_pow2(ram), _round_pow2(vram), _model_uint(ctx, model, "vram64"), vgamem,
                      devutil.onoff(accel, "accel3d"))
        if video.primary:
            found.insert(0, video)
        else:
            found.append(video)
    if found and found[0].type != "none":
        found[0].primary = True
    return found


def device_model(ctx: Ctx, video: Video) -> tuple[str, bool, bool]:
    """QEMU's device for a video, whether it is a virtio device, and whether its name takes the bus suffix."""
    primary_vga = video.primary and _supports_vga(ctx, video)
    if video.vhost_user:
        return ("vhost-user-vga", False, False) if primary_vga else ("vhost-user-gpu", True, True)
    if primary_vga:
        if video.type == "virtio":
            gl = ctx.has("virtio-vga-gl") and video.accel3d is True
            return ("virtio-vga-gl" if gl else "virtio-vga"), True, False
        model = PRIMARY_MODELS.get(video.type)
    elif video.type == "qxl":
        model = "qxl"
    elif video.type == "virtio":
        gl = ctx.has("virtio-gpu-gl-pci") and video.accel3d is True
        return ("virtio-gpu-gl" if gl else "virtio-gpu"), True, True
    else:
        model = None
    if not model:
        raise InputError(ctx.path, video.el.sourceline, f"invalid model for video type '{video.type}'")
    return model, False, False


def _supports_vga(ctx: Ctx, video: Video) -> bool:
    if video.type != "virtio":
        return True
    return ctx.has("vhost-user-vga") if video.vhost_user else ctx.has("virtio-vga")


def video_props(ctx: Ctx, video: Video) -> P.Props:
    """The -device properties of one video device (qemuBuildDeviceVideoCmd)."""
    model, virtio, suffix = device_model(ctx, video)
    el = video.el
    out = A.virtio_props(ctx, el, model, model="", bus_suffix=suffix) if virtio else {"driver": model}
    virgl = None
    if not video.vhost_user and video.type == "virtio" and video.accel3d is not None and \
            ctx.has("virtio-gpu.virgl"):
        virgl = video.accel3d
    out.update({"id": devutil.alias(el), "virgl": virgl,
                "max_outputs": video.heads if video.type in ("qxl", "virtio") and video.heads else None})
    if video.type == "qxl":
        out["ram_size"] = video.ram * 1024 or None
        out["vram_size"] = video.vram * 1024 or None
        if ctx.has("qxl.vram64_size_mb"):
            out["vram64_size_mb"] = video.vram64 // 1024
        if ctx.has("qxl.vgamem_mb"):
            out["vgamem_mb"] = video.vgamem // 1024
    elif video.vhost_user:
        out["chardev"] = f"chr-vu-{devutil.alias(el)}"
    elif (video.type == "vga" and ctx.has("VGA.vgamem_mb")) or \
            (video.type == "vmvga" and ctx.has("vmware-svga.vgamem_mb")):
        out["vgamem_mb"] = video.vram // 1024 or None
    elif video.type == "bochs":
        out["vgamem"] = video.vram * 1024 or None
    res = el.find("model/resolution")
    if res is not None:
        out["xres"] = devutil.uint(ctx, res, "x") or None
        out["yres"] = devutil.uint(ctx, res, "y") or None
    out.update(A.props(ctx, el))
    return out


def vhost_user_fd(ctx: Ctx) -> int:
    """The fd of the socket libvirt opens to a vhost-user GPU helper."""
    return host_fd(ctx, "vhost_user_video")


def videos(ctx: Ctx, cmd: Command) -> None:
    """-chardev for a vhost-user GPU, then the zpci and -device of each video device except type none."""
    for video in videos_of(ctx):
        if video.type == "none":
            continue
        if video.vhost_user:
            cmd.add("-chardev", f"socket,id=chr-vu-{devutil.alias(video.el)},fd={vhost_user_fd(ctx)}")
        P.add_device(ctx, cmd, video_props(ctx, video), video.el)
