"""The remaining devices as libvirt 9.0 builds them: TPM, input, watchdog, balloon, RNG, IOMMU, panic, shmem, vsock...

Host devices live in `hostdev.py`; its stage is re-exported here for `order.py`.
"""

from __future__ import annotations

import re
import uuid as uuidmod

from lxml import etree

from ..cmdline.command import Command
from ..cmdline.context import Ctx
from ..errors import InputError
from . import address as A
from . import chardev, devutil
from . import props as P
from .graphics import dbus_address
from .hostdev import hostdevs
from .hostfacts import host_fd, state_dir
from .platform import short_name
from .secret import random_bytes

__all__ = ["dbus_vmstate", "hostdevs", "inputs", "iommu", "memballoon", "nvram", "panics", "rngs", "shmems",
           "tpms", "vmcoreinfo", "vmgenid", "vsock", "watchdogs"]

Element = etree._Element


def sanitize_path(path: str) -> str:
    """A path as virFileSanitizePath leaves it: repeated slashes collapsed, no trailing slash."""
    cleaned = re.sub(r"/+", "/", path)
    if path.startswith("//") and not path.startswith("///"):
        cleaned = "/" + cleaned
    if len(cleaned) > 1 and cleaned.endswith("/"):
        cleaned = cleaned[:-1]
    return cleaned


# ---------------------------------------------------------------------------- early devices


def dbus_vmstate(ctx: Ctx, cmd: Command) -> None:
    """-object dbus-vmstate when a helper (slirp) registered D-Bus VM state ids and QEMU has the object."""
    if not ctx.state.get("dbus_vmstate_ids") or not ctx.has("dbus-vmstate"):
        return
    P.add_object(ctx, cmd, {"qom-type": "dbus-vmstate", "id": "dbus-vmstate0", "addr": dbus_address(ctx)})


def genid(ctx: Ctx) -> str | None:
    """The VM generation id a <genid> asks for: its own, else one libvirt generates (a random version 4 UUID)."""
    el = ctx.root.find("genid")
    if el is None:
        return None
    text = (el.text or "").strip()
    if text:
        try:
            return str(uuidmod.UUID(text))
        except ValueError:
            raise InputError(ctx.path, el.sourceline, f"malformed genid '{text}'") from None
    raw = bytearray(random_bytes(ctx, 16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    return str(uuidmod.UUID(bytes=bytes(raw)))


def vmgenid(ctx: Ctx, cmd: Command) -> None:
    """-device vmgenid with the domain's generation id."""
    guid = genid(ctx)
    if guid is not None:
        P.add_device(ctx, cmd, {"driver": "vmgenid", "guid": guid, "id": "vmgenid0"})


def iommu(ctx: Ctx, cmd: Command) -> None:
    """-device intel-iommu or virtio-iommu (an SMMUv3 is a machine property, nothing here)."""
    el = ctx.devices.find("iommu")
    if el is None:
        return
    model = el.get("model")
    drv = el.find("driver")
    if model == "intel":
        aw_bits = devutil.uint(ctx, drv, "aw_bits", 0)
        P.add_device(ctx, cmd, {"driver": "intel-iommu", "id": devutil.alias(el),
                                  "intremap": devutil.switch(devutil.onoff(drv, "intremap")),
                                  "caching-mode": devutil.onoff(drv, "caching_mode"),
                                  "eim": devutil.switch(devutil.onoff(drv, "eim")),
                                  "device-iotlb": devutil.onoff(drv, "iotlb"),
                                  "aw-bits": aw_bits or None})
    elif model == "virtio":
        P.add_device(ctx, cmd, {"driver": "virtio-iommu", "id": devutil.alias(el),
                                  **A.props(ctx, el)})


# ---------------------------------------------------------------------------- TPM



def tpm_model(ctx: Ctx, tpm: Element) -> str:
    """A TPM's model, libvirt's default (tpm-spapr on ppc64, else tpm-tis) when it names none."""
    model = tpm.get("model")
    if model:
        return model
    return "tpm-spapr" if ctx.arch in ("ppc64", "ppc64le") else "tpm-tis"


def swtpm_socket(ctx: Ctx) -> str:
    """The UNIX socket of the swtpm libvirt starts for an emulated TPM (the host profile may name it)."""
    return str(ctx.host.raw.get("swtpm_socket") or f"{state_dir(ctx)}/swtpm/{short_name(ctx)}-swtpm.sock")


def _tpm_backend(ctx: Ctx, cmd: Command, tpm: Element, alias: str) -> str:
    """The chardev or fd sets of a TPM's backend, and its -tpmdev value."""
    backend = tpm.find("backend")
    btype = backend.get("type") if backend is not None else None
    if btype == "passthrough":
        # libvirt opens the device and its cancel file itself and passes both as fd sets.
        opened = []
        for suffix, fdname in (("-tpm", "tpm_device"), ("-cancel", "tpm_cancel")):
            fdset = chardev.new_fdset(ctx)
            fd = host_fd(ctx, fdname)
            cmd.add("-add-fd", f"set={fdset},fd={fd},opaque={alias}{suffix}")
            opened.append(f"/dev/fdset/{fdset}")
        return f"passthrough,id=tpm-{alias},path={opened[0]},cancel-path={opened[1]}"
    if btype in ("emulator", "external"):
        if btype == "emulator":
            src = chardev.ChrSource(type="unix", path=swtpm_socket(ctx), line=tpm.sourceline)
        else:
            src_el = backend.find("source")
            path = src_el.get("path") if src_el is not None else None
            src = chardev.ChrSource(type=(src_el.get("type") if src_el is not None else None) or "unix",
                                    path=path, line=tpm.sourceline)
        cmd.add(*chardev.backend_args(ctx, src, "chrtpm", kind="tpm"))
        return f"emulator,id=tpm-{alias},chardev=chrtpm"
    raise InputError(ctx.path, tpm.sourceline, f"TPM backend '{btype}' is not supported")


def tpms(ctx: Ctx, cmd: Command) -> None:
    """-tpmdev and -device tpm-* for each TPM; a sPAPR TPM proxy is one -device naming the host device."""
    for tpm in ctx.devices.iterfind("tpm"):
        model = tpm_model(ctx, tpm)
        alias = devutil.alias(tpm) or "tpm0"
        if model == "spapr-tpm-proxy":
            dev = tpm.find("backend/device")
            P.add_device(ctx, cmd, {"driver": model, "id": alias,
                                      "host-path": dev.get("path") if dev is not None else None})
            continue
        cmd.add("-tpmdev", _tpm_backend(ctx, cmd, tpm, alias))
        driver = model
        if model == "tpm-tis" and ctx.arch not in ("i686", "x86_64"):
            driver = "tpm-tis-device"
        P.add_device(ctx, cmd, {"driver": driver, "tpmdev": f"tpm-{alias}", "id": alias,
                                  **A.props(ctx, tpm)})


# ---------------------------------------------------------------------------- input

USB_INPUTS = {"mouse": "usb-mouse", "tablet": "usb-tablet", "keyboard": "usb-kbd"}
VIRTIO_INPUTS = {"mouse": "virtio-mouse", "tablet": "virtio-tablet", "keyboard": "virtio-keyboard",
                 "passthrough": "virtio-input-host"}


def _evdev(inp: Element, attr: str) -> str | None:
    src = inp.find("source")
    path = src.get(attr) if src is not None else None
    return sanitize_path(path) if path else None


def inputs(ctx: Ctx, cmd: Command) -> None:
    """-object input-linux for evdev passthrough, -device usb-*/virtio-* for USB and virtio inputs."""
    for inp in ctx.devices.iterfind("input"):
        itype, bus = inp.get("type", ""), inp.get("bus", "")
        P.add_zpci(ctx, cmd, inp)
        if itype == "evdev":
            src = inp.find("source")
            props: P.Props = {"qom-type": "input-linux", "id": devutil.alias(inp),
                                    "evdev": _evdev(inp, "dev"), "repeat": devutil.onoff(src, "repeat")}
            if src is not None and src.get("grab") == "all":
                props["grab_all"] = True
            if src is not None and src.get("grabToggle"):
                props["grab-toggle"] = src.get("grabToggle")
            P.add_object(ctx, cmd, props)
        elif bus == "usb":
            if itype not in USB_INPUTS:
                raise InputError(ctx.path, inp.sourceline, f"no USB input device of type '{itype}'")
            P.add_device(ctx, cmd, {"driver": USB_INPUTS[itype], "id": devutil.alias(inp),
                                      **A.props(ctx, inp)})
        elif bus == "virtio":
            if itype not in VIRTIO_INPUTS:
                raise InputError(ctx.path, inp.sourceline, f"no virtio input device of type '{itype}'")
            props = A.virtio_props(ctx, inp, VIRTIO_INPUTS[itype], model="")
            props.update({"id": devutil.alias(inp),
                          "evdev": _evdev(inp, "evdev") if itype == "passthrough" else None})
            props.update(A.props(ctx, inp))
            P.add_device(ctx, cmd, props)


# ---------------------------------------------------------------------------- watchdog, balloon, RNG...


def watchdogs(ctx: Ctx, cmd: Command) -> None:
    """-device for the watchdog, then -watchdog-action (dump is QEMU's pause; libvirt dumps itself)."""
    wd = ctx.devices.find("watchdog")
    if wd is None:
        return
    P.add_device(ctx, cmd, {"driver": wd.get("model"), "id": devutil.alias(wd), **A.props(ctx, wd)}, wd)
    action = wd.get("action") or "reset"
    cmd.add("-watchdog-action", "pause" if action == "dump" else action)


def memballoon(ctx: Ctx, cmd: Command) -> None:
    """-device virtio-balloon-* with deflate-on-oom and free-page-reporting."""
    el = ctx.devices.find("memballoon")
    if el is None or el.get("model") in (None, "none"):
        return
    props = A.virtio_props(ctx, el, "virtio-balloon")
    props.update({"id": devutil.alias(el), "deflate-on-oom": devutil.onoff(el, "autodeflate"),
                  "free-page-reporting": devutil.onoff(el, "freePageReporting")})
    props.update(A.props(ctx, el))
    P.add_device(ctx, cmd, props, el)


def _rng_backend(ctx: Ctx, rng: Element, alias: str) -> P.Props:
    backend = rng.find("backend")
    model = backend.get("model") if backend is not None else None
    obj = f"obj{alias}"
    if model == "random":
        path = (backend.text or "").strip() or "/dev/random"
        return {"qom-type": "rng-random", "id": obj, "filename": path}
    if model == "egd":
        return {"qom-type": "rng-egd", "id": obj, "chardev": f"char{alias}"}
    if model == "builtin":
        return {"qom-type": "rng-builtin", "id": obj}
    raise InputError(ctx.path, rng.sourceline, f"unknown RNG backend model '{model}'")


def rngs(ctx: Ctx, cmd: Command) -> None:
    """For each RNG: its EGD chardev, the rng-* object, then the virtio-rng device with its rate limit."""
    for rng in ctx.devices.iterfind("rng"):
        alias = devutil.alias(rng)
        if not alias:
            raise InputError(ctx.path, rng.sourceline, "RNG device is missing alias")
        backend = rng.find("backend")
        if backend is not None and backend.get("model") == "egd":
            cmd.add(*chardev.backend_args(ctx, backend, f"char{alias}", kind="rng"))
        P.add_object(ctx, cmd, _rng_backend(ctx, rng, alias))
        rate = rng.find("rate")
        max_bytes = devutil.uint(ctx, rate, "bytes", 0)
        period = devutil.uint(ctx, rate, "period", 0) if max_bytes else 0
        if max_bytes and not period:
            period = 1000
        props = A.virtio_props(ctx, rng, "virtio-rng")
        props.update({"rng": f"obj{alias}", "id": alias, "max-bytes": max_bytes or None, "period": period or None})
        props.update(A.props(ctx, rng))
        P.add_device(ctx, cmd, props, rng)


def nvram(ctx: Ctx, cmd: Command) -> None:
    """-global spapr-nvram.reg=0x... for a pSeries NVRAM."""
    el = ctx.devices.find("nvram")
    if el is None:
        return
    addr = el.find("address")
    reg = devutil.uint(ctx, addr, "reg", 0, 16) if addr is not None else 0
    cmd.add("-global", f"spapr-nvram.reg={reg:#x}")


def vmcoreinfo(ctx: Ctx, cmd: Command) -> None:
    """-device vmcoreinfo when <features><vmcoreinfo state='on'/>."""
    feat = ctx.root.find("features/vmcoreinfo")
    if feat is not None and feat.get("state", "on") == "on":
        P.add_device(ctx, cmd, {"driver": "vmcoreinfo"})


def panic_model(ctx: Ctx, panic: Element) -> str:
    """A panic device's model, libvirt's default (pseries, s390, else isa) when it names none."""
    model = panic.get("model")
    if model:
        return model
    if ctx.arch in ("ppc64", "ppc64le") and ctx.machine.startswith("pseries"):
        return "pseries"
    if ctx.arch in ("s390", "s390x"):
        return "s390"
    return "isa"


def panics(ctx: Ctx, cmd: Command) -> None:
    """-device pvpanic (with its ioport) for an ISA panic device; the other models need nothing."""
    for panic in ctx.devices.iterfind("panic"):
        if panic_model(ctx, panic) != "isa":
            continue
        props: P.Props = {"driver": "pvpanic"}
        addr = panic.find("address")
        if addr is not None and addr.get("type") == "isa":
            props["ioport"] = devutil.uint(ctx, addr, "iobase", 0, 0)
        P.add_device(ctx, cmd, props)


# ---------------------------------------------------------------------------- shmem, vsock

SHMEM_DEFAULT_SIZE = 4 << 20
# virScaleInteger's units: a bare letter and xiB are powers of 1024, xB powers of 1000.
_SCALE = {"b": 1, "byte": 1, "bytes": 1,
          **{p: 1 << (10 * i) for i, p in enumerate("kmgtpe", 1)},
          **{f"{p}ib": 1 << (10 * i) for i, p in enumerate("kmgtpe", 1)},
          **{f"{p}b": 1000 ** i for i, p in enumerate("kmgtpe", 1)}}


def shmem_size(ctx: Ctx, shmem: Element, model: str) -> int:
    """A shmem region's size in bytes (<size unit=...>, bytes by default; 4 MiB unless a doorbell)."""
    size_el = shmem.find("size")
    if size_el is None or not (size_el.text or "").strip():
        return 0 if model == "ivshmem-doorbell" else SHMEM_DEFAULT_SIZE
    unit = (size_el.get("unit") or "b").lower()
    try:
        return int(size_el.text.strip()) * _SCALE[unit]
    except (KeyError, ValueError):
        raise InputError(ctx.path, size_el.sourceline, "invalid shmem size") from None


def shmems(ctx: Ctx, cmd: Command) -> None:
    """For each shmem: its memory-backend-file (plain), the ivshmem-* device, then its server chardev."""
    for shmem in ctx.devices.iterfind("shmem"):
        model_el = shmem.find("model")
        model = (model_el.get("type") if model_el is not None else None) or "ivshmem"
        alias = devutil.alias(shmem)
        server = shmem.find("server")
        size = shmem_size(ctx, shmem, model)
        if size and size & (size - 1):
            raise InputError(ctx.path, shmem.sourceline, "shmem size must be a power of two")
        if size and size < (1 << 20):
            raise InputError(ctx.path, shmem.sourceline, "shmem size must be at least 1 MiB (1024 KiB)")
        if A.address_type(shmem) != "pci":
            raise InputError(ctx.path, shmem.sourceline,
                             "only 'pci' addresses are supported for the shared memory device")
        msi = shmem.find("msi")
        vectors = devutil.uint(ctx, msi, "vectors", 0, 0) or None
        ioeventfd = devutil.onoff(msi, "ioeventfd")
        if server is not None and model != "ivshmem" and ioeventfd is None:
            ioeventfd = True
        if model == "ivshmem":
            props: P.Props = {"driver": "ivshmem", "id": alias, "size": f"{size >> 20}m",
                                    "shm": None if server is not None else shmem.get("name"),
                                    "chardev": f"char{alias}" if server is not None else None,
                                    "msi": True if msi is not None else None, "vectors": vectors,
                                    "ioeventfd": ioeventfd}
        else:
            if model == "ivshmem-plain":
                P.add_object(ctx, cmd, {"qom-type": "memory-backend-file", "id": f"shmmem-{alias}",
                                              "mem-path": f"/dev/shm/{shmem.get('name')}", "size": size,
                                              "share": True})
            role = shmem.get("role") if server is None else None
            props = {"driver": model, "id": alias,
                     "chardev": f"char{alias}" if server is not None else None,
                     "memdev": None if server is not None else f"shmmem-{alias}",
                     "master": {"master": "on", "peer": "off"}.get(role or ""),
                     "vectors": vectors, "ioeventfd": ioeventfd}
        props.update(A.props(ctx, shmem))
        P.add_device(ctx, cmd, props, shmem)
        if server is not None:
            path = server.get("path")
            path = sanitize_path(path) if path else f"/var/lib/libvirt/shmem-{shmem.get('name')}-sock"
            src = chardev.ChrSource(type="unix", path=path, line=server.sourceline)
            cmd.add(*chardev.backend_args(ctx, src, f"char{alias}", kind="shmem"))


def vsock(ctx: Ctx, cmd: Command) -> None:
    """-device vhost-vsock-* with the guest CID (the host's pick for an automatic one) and the vhost fd."""
    el = ctx.devices.find("vsock")
    if el is None:
        return
    cid_el = el.find("cid")
    cid = devutil.uint(ctx, cid_el, "address", 0)
    auto = devutil.onoff(cid_el, "auto")
    if auto is None:
        auto = cid == 0
    if auto:
        # libvirt takes the first free CID from 3 up; a host profile may say which it gets.
        cid = host_fd(ctx, "vsock_cid")
    props = A.virtio_props(ctx, el, "vhost-vsock", model=el.get("model") or "virtio")
    props.update({"id": devutil.alias(el), "guest-cid": cid,
                  "vhostfd": str(host_fd(ctx, "vsock"))})
    props.update(A.props(ctx, el))
    P.add_device(ctx, cmd, props, el)
