"""Guest memory: -m, hugepage backing, memory locking and I/O threads."""

from __future__ import annotations

from lxml import etree

from ..errors import InputError
from ..values import is_digits, parse_size, within_limit
from .command import Command
from .context import Ctx


def kib(text: str | None, unit: str | None) -> int:
    """A libvirt size (a number and its unit) in KiB; 0 when absent or unreadable."""
    if not (text or "").strip():
        return 0
    return (parse_size(text.strip(), unit) or 0) // 1024


def size_kib(el: etree._Element | None) -> int:
    """A size element (<memory unit='...'>N</memory>) in KiB; 0 when absent or unreadable."""
    return 0 if el is None else kib(el.text, el.get("unit"))


def max_memory_kib(ctx: Ctx) -> int:
    """The most memory the guest can have: <memory>, which sets -m."""
    return size_kib(ctx.root.find("memory"))


def hugetlbfs_path(mount: dict) -> str:
    """Where libvirt keeps its guests' hugepage files under a hugetlbfs mount."""
    return f"{mount['mount']}/libvirt/qemu"


def hugetlbfs_for(ctx: Ctx, page_kib: int | None) -> dict | None:
    """The host's hugetlbfs mount for a page size (None: the default page size)."""
    mounts = ctx.setting("hugetlbfs") or []
    if not mounts:
        return None
    if page_kib is None:
        default = ctx.setting("default_hugepage_kib")
        return next((m for m in mounts if m.get("page_size_kib") == default), mounts[0])
    return next((m for m in mounts if m.get("page_size_kib") == page_kib), None)


def memory(ctx: Ctx, cmd: Command) -> None:
    """-m in MiB (rounded up), -mem-prealloc -mem-path for plain <hugepages/>, -realtime mlock=."""
    kib = max_memory_kib(ctx)
    cmd.add("-m", str(-(-kib // 1024)))
    huge = ctx.root.find("memoryBacking/hugepages")
    if huge is not None and huge.find("page") is None:
        mount = hugetlbfs_for(ctx, None)
        if mount is not None:
            cmd.add("-mem-prealloc", "-mem-path", hugetlbfs_path(mount))
    if ctx.has("mlock"):
        locked = ctx.root.find("memoryBacking/locked") is not None
        cmd.add("-realtime", f"mlock={'on' if locked else 'off'}")


def iothreads(ctx: Ctx, cmd: Command) -> None:
    """One -object iothread per <iothreads>, numbered from 1."""
    text = (ctx.root.findtext("iothreads") or "").strip()
    if is_digits(text) and ctx.has("iothread"):
        count = int(text)
        message = within_limit(count, "<iothreads>")
        if message:
            raise InputError(ctx.path, ctx.root.find("iothreads").sourceline, message)
        for i in range(1, count + 1):
            cmd.add("-object", f"iothread,id=iothread{i}")
