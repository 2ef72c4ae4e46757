"""Guest NUMA cells: -object memory-backend-* and -numa node."""

from __future__ import annotations

from lxml import etree

from ..values import format_cpuset, is_digits, parse_cpuset
from .command import Command
from .context import Ctx
from .memory import hugetlbfs_for, hugetlbfs_path, kib

# numatune modes as QEMU's memory backends name the policy.
_POLICY = {"strict": "bind", "preferred": "preferred", "interleave": "interleave"}


def _cell_nodeset(ctx: Ctx, cell_id: int) -> tuple[str | None, str]:
    """The host nodes a cell's memory is bound to, and the mode (memnode first, then <memory>)."""
    tune = ctx.root.find("numatune")
    if tune is None:
        return None, "strict"
    global_mem = tune.find("memory")
    mode = global_mem.get("mode", "strict") if global_mem is not None else "strict"
    for node in tune.iterfind("memnode"):
        if node.get("cellid") == str(cell_id):
            return node.get("nodeset"), node.get("mode", mode)
    if global_mem is not None and global_mem.get("placement", "static") == "static":
        return global_mem.get("nodeset"), mode
    return None, mode


def _cell_page(ctx: Ctx, cell_id: int) -> int | None:
    """The hugepage size (KiB) backing one cell: a <page> naming the cell, else one naming no cells."""
    master = None
    for page in ctx.root.iterfind("memoryBacking/hugepages/page"):
        nodeset = page.get("nodeset")
        if nodeset is None:
            master = page
            continue
        if cell_id in (parse_cpuset(nodeset) or set()):
            return kib(page.get("size"), page.get("unit"))
    return kib(master.get("size"), master.get("unit")) if master is not None else None


def _cell_id(cell: etree._Element) -> int:
    text = cell.get("id") or ""
    return int(text) if is_digits(text) else 0


def _split(mask: str, key: str) -> str:
    """'0-3,8' as ',key=0-3,key=8': QEMU takes one range per key."""
    return "".join(f",{key}={part}" for part in mask.split(","))


def numa(ctx: Ctx, cmd: Command) -> None:
    """For each <cell>: a memory backend object when QEMU has them, then -numa node."""
    # libvirt keeps cells indexed by their id, whatever order the XML lists them in.
    cells = sorted(ctx.root.iterfind("cpu/numa/cell"), key=_cell_id)
    backends = ctx.has("memory-backend-ram") or ctx.has("memory-backend-file")
    for cell in cells:
        pos = _cell_id(cell)
        mem_mib = -(-kib(cell.get("memory"), cell.get("unit")) // 1024)
        cpus = format_cpuset(parse_cpuset(cell.get("cpus") or "") or set())
        if backends:
            page = _cell_page(ctx, pos)
            mount = hugetlbfs_for(ctx, page) if page is not None else None
            if mount is not None:
                obj = f"memory-backend-file,prealloc=yes,mem-path={hugetlbfs_path(mount)}"
            else:
                obj = "memory-backend-ram"
            obj += f",size={mem_mib}M,id=ram-node{pos}"
            nodeset, mode = _cell_nodeset(ctx, pos)
            if nodeset:
                obj += _split(format_cpuset(parse_cpuset(nodeset) or set()), "host-nodes")
                obj += f",policy={_POLICY.get(mode, mode)}"
            cmd.add("-object", obj)
        node = f"node,nodeid={pos}" + _split(cpus, "cpus")
        node += f",memdev=ram-node{pos}" if backends else f",mem={mem_mib}"
        cmd.add("-numa", node)
