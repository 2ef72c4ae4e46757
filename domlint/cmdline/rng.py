"""Random number generators: -object rng-random / rng-egd (with its -chardev) and -device virtio-rng-*."""

from __future__ import annotations

from lxml import etree

from ..errors import InputError
from . import address, alias, chardev
from .command import Command
from .context import Ctx
from .controller import virtio_device

# Where the random backend reads when the XML names no file.
DEFAULT_SOURCE = "/dev/random"


def backend_args(ctx: Ctx, rng: etree._Element) -> list[str]:
    """The -chardev (EGD only) and -object arguments of an RNG's backend."""
    name = alias.name(rng)
    backend = rng.find("backend")
    model = backend.get("model") if backend is not None else None
    if model == "random":
        path = backend.text if backend is not None and backend.text else DEFAULT_SOURCE
        return ["-object", f"rng-random,id={name},filename={path}"]
    if model == "egd":
        return ["-chardev", chardev.chardev_str(ctx, backend, name),
                "-object", f"rng-egd,chardev=char{name},id={name}"]
    raise InputError(ctx.path, rng.sourceline, f"RNG backend '{model}' cannot be given to QEMU")


def _uint(ctx: Ctx, el: etree._Element | None, attr: str) -> int:
    if el is None or el.get(attr) is None:
        return 0
    try:
        return int(el.get(attr), 10)
    except ValueError:
        raise InputError(ctx.path, el.sourceline, f"rate {attr}='{el.get(attr)}' is not a number") from None


def device_str(ctx: Ctx, rng: etree._Element) -> str:
    """The -device value of a virtio RNG, with its rate limit and address."""
    name = alias.name(rng)
    out = f"{virtio_device('virtio-rng', rng)},rng={name}"
    rate = rng.find("rate")
    max_bytes = _uint(ctx, rate, "bytes")
    if max_bytes > 0:
        # QEMU needs a period with max-bytes; libvirt uses a second.
        out += f",max-bytes={max_bytes},period={_uint(ctx, rate, 'period') or 1000}"
    return out + address.suffix(ctx, rng)


def rngs(ctx: Ctx, cmd: Command) -> None:
    """Append each RNG's backend, then its device."""
    for rng in ctx.devices.iterfind("rng"):
        cmd.add(*backend_args(ctx, rng))
        cmd.add("-device", device_str(ctx, rng))
