"""The TPM: -tpmdev passthrough and -device tpm-tis."""

from __future__ import annotations

from lxml import etree

from ..errors import InputError
from . import alias
from .command import Command
from .context import Ctx


def _escape_commas(text: str) -> str:
    """QEMU option values double their commas."""
    return text.replace(",", ",,")


def cancel_path(ctx: Ctx, tpm: etree._Element, device: str) -> str:
    """The sysfs file that cancels a command on the host TPM at device."""
    if "/" not in device:
        raise InputError(ctx.path, tpm.sourceline, f"TPM device path '{device}' is not a path")
    return f"/sys/class/misc/{device.rsplit('/', 1)[1]}/device/cancel"


def backend_str(ctx: Ctx, tpm: etree._Element) -> str:
    """The -tpmdev value of a TPM."""
    backend = tpm.find("backend")
    btype = backend.get("type") if backend is not None else None
    if btype != "passthrough":
        raise InputError(ctx.path, tpm.sourceline, f"TPM backend '{btype}' cannot be given to QEMU")
    dev = backend.find("device")
    path = dev.get("path") if dev is not None and dev.get("path") else "/dev/tpm0"
    return (f"passthrough,id=tpm-{alias.name(tpm)},path={_escape_commas(path)},"
            f"cancel-path={_escape_commas(cancel_path(ctx, tpm, path))}")


def device_str(tpm: etree._Element) -> str:
    """The -device value of a TPM."""
    name = alias.name(tpm)
    return f"{tpm.get('model', 'tpm-tis')},tpmdev=tpm-{name},id={name}"


def tpm(ctx: Ctx, cmd: Command) -> None:
    """Append the TPM backend and device."""
    el = ctx.devices.find("tpm")
    if el is not None:
        cmd.add("-tpmdev", backend_str(ctx, el), "-device", device_str(el))
