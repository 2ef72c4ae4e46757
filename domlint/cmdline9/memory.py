"""Guest memory as libvirt 9.0 builds it: -m, memory backends, iothreads, NUMA, memory devices."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from ..cmdline.command import Command
from ..cmdline.context import Ctx
from ..errors import HostFactMissing, InputError
from . import address as A
from . import hostfacts, platform
from . import props as P

# The page size of the host (KiB): a "huge" page of this size is no huge page at all.
SYSTEM_PAGE_KIB = 4

# numatune modes as QEMU's memory backend policy.
_POLICY = {"strict": "bind", "preferred": "preferred", "interleave": "interleave", "restrictive": "restrictive"}


# --- sizes -----------------------------------------------------------------------------------------

def _kib(el: etree._Element | None, default_unit: str = "kib") -> int:
    if el is None or not (el.text or "").strip():
        return 0
    b = platform.scaled_bytes(el.text, el.get("unit"), default_unit)
    return (b + 1023) // 1024


def _attr_kib(el: etree._Element, attr: str, unit_attr: str = "unit") -> int:
    value = el.get(attr)
    if not value:
        return 0
    return (platform.scaled_bytes(value, el.get(unit_attr), "kib") + 1023) // 1024


def _round_up(value: int, align: int) -> int:
    return (value + align - 1) // align * align


def _is_ppc64(ctx: Ctx) -> bool:
    return ctx.arch in ("ppc64", "ppc64le")


def size_alignment(ctx: Ctx) -> int:
    """KiB the initial memory and NUMA cells are rounded up to (256 MiB on ppc64, else 1 MiB)."""
    return 256 * 1024 if _is_ppc64(ctx) else 1024


def module_alignment(ctx: Ctx) -> int:
    """KiB memory modules are rounded up to (256 MiB on ppc64, else 2 MiB)."""
    return 256 * 1024 if _is_ppc64(ctx) else 2048


def numa_cells(ctx: Ctx) -> list[etree._Element]:
    """The guest NUMA cells by their id (libvirt stores cell N at index N, whatever the XML order)."""
    cells = ctx.root.findall("cpu/numa/cell")
    return sorted(cells, key=lambda c: int(c.get("id")) if (c.get("id") or "").isdigit() else cells.index(c))


def aligning(ctx: Ctx) -> bool:
    """True when libvirt aligns memory sizes at start: a new start, not an incoming migration."""
    return not ctx.opts.migrate_from


def abi_update(ctx: Ctx) -> bool:
    """True when the domain was parsed with libvirt's ABI-update flag (a fresh define)."""
    return bool(ctx.setting("parse_abi_update"))


def cell_kib(ctx: Ctx, cell: etree._Element) -> int:
    """A NUMA cell's memory, aligned at start."""
    size = _attr_kib(cell, "memory")
    return _round_up(size, size_alignment(ctx)) if aligning(ctx) else size


def memory_device_list(ctx: Ctx) -> list[etree._Element]:
    """The <memory> devices in order."""
    return ctx.devices.findall("memory")


def _pseries_nvdimm(size: int, label: int) -> int:
    # The guest-visible area (size - label) rounds down to 256 MiB; the label stays on top.
    align = 256 * 1024
    return (size - label) // align * align + label


def _parsed_module_kib(ctx: Ctx, dev: etree._Element) -> int:
    """A memory device's size after define (ppc64 modules are aligned there under ABI update)."""
    size = _kib(dev.find("target/size"))
    if abi_update(ctx) and _is_ppc64(ctx):
        if dev.get("model") == "nvdimm":
            return _pseries_nvdimm(size, _kib(dev.find("target/label/size")))
        return _round_up(size, 256 * 1024)
    return size


def module_kib(ctx: Ctx, dev: etree._Element) -> int:
    """A memory device's size as QEMU gets it (aligned at start)."""
    size = _parsed_module_kib(ctx, dev)
    if not aligning(ctx):
        return size
    if dev.get("model") == "nvdimm" and _is_ppc64(ctx):
        return _pseries_nvdimm(size, _kib(dev.find("target/label/size")))
    return _round_up(size, module_alignment(ctx))


def initial_kib(ctx: Ctx) -> int:
    """The guest's initial memory (total less memory devices); with NUMA at start, the aligned cells' total."""
    cells = numa_cells(ctx)
    if cells and aligning(ctx):
        return sum(cell_kib(ctx, c) for c in cells)
    modules = sum(_parsed_module_kib(ctx, d) for d in memory_device_list(ctx))
    total = _kib(ctx.root.find("memory"))
    if cells and (total == 0 or abi_update(ctx)):
        total = sum(_attr_kib(c, "memory") for c in cells) + modules
    initial = total - modules
    return _round_up(initial, size_alignment(ctx)) if aligning(ctx) else initial


def hugepages(ctx: Ctx) -> list[tuple[int, str | None]]:
    """The <hugepages> pages as (size KiB, nodeset): a bare <hugepages/> is one page of the default size."""
    hp = ctx.root.find("memoryBacking/hugepages")
    if hp is None:
        return []
    pages = hp.findall("page")
    if not pages:
        return [(0, None)]
    return [(_attr_kib(p, "size"), p.get("nodeset")) for p in pages]


def parse_set(text: str | None) -> list[int]:
    """A libvirt bitmap string (0-3,^2,5) as a sorted list."""
    if not text:
        return []
    on: set[int] = set()
    off: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        target = off if part.startswith("^") else on
        part = part.lstrip("^")
        if "-" in part:
            a, b = part.split("-", 1)
            target.update(range(int(a), int(b) + 1))
        else:
            target.add(int(part))
    return sorted(on - off)


def format_set(values: list[int]) -> str:
    """A sorted list as libvirt's bitmap string (0-3,5)."""
    return ",".join(P.number_ranges(values))


# --- driver facts ---------------------------------------------------------------------------------

def default_hugepage_kib(ctx: Ctx) -> int:
    """The default huge page size of the host's hugetlbfs mounts."""
    mounts, assumed = hostfacts.hugetlbfs_mounts(ctx)
    if not mounts:
        if assumed:
            raise HostFactMissing(ctx.path, None, f"huge pages need the host's hugetlbfs mounts, and "
                                            f"{ctx.host.arch} has no usual default", "driver.hugetlbfs")
        raise InputError(ctx.path, None, "hugetlbfs filesystem is not mounted or disabled by administrator config")
    default = ctx.setting("default_hugepage_kib")
    for m in mounts:
        if default and int(m["page_size_kib"]) == int(default):
            return int(m["page_size_kib"])
    return int(mounts[0]["page_size_kib"])


def hugepage_path(ctx: Ctx, page_kib: int) -> str:
    """The per-domain directory on the hugetlbfs mount of this page size."""
    mounts, assumed = hostfacts.hugetlbfs_mounts(ctx)
    for m in mounts:
        if int(m["page_size_kib"]) == page_kib:
            return f"{m['mount']}/libvirt/qemu/{platform.short_name(ctx)}"
    message = f"Unable to find any usable hugetlbfs mount for {page_kib} KiB"
    if assumed:
        raise HostFactMissing(ctx.path, None, f"{message} (only the default /dev/hugepages is assumed)",
                                        "driver.hugetlbfs")
    raise InputError(ctx.path, None, message)


def backing_path(ctx: Ctx, alias: str) -> str:
    """A file-backed memory object's file under the driver's memory backing dir."""
    base = ctx.setting("memory_backing_dir") or f"{hostfacts.lib_dir(ctx)}/ram"
    return f"{base}/{platform.short_name(ctx)}/{alias}"


# --- numatune -------------------------------------------------------------------------------------

def _numatune_memory(ctx: Ctx) -> etree._Element | None:
    return ctx.root.find("numatune/memory")


def _memnode(ctx: Ctx, cell: int) -> etree._Element | None:
    if cell < 0:
        return None
    for m in ctx.root.findall("numatune/memnode"):
        if m.get("cellid") == str(cell) and m.get("nodeset"):
            return m
    return None


def auto_placement(ctx: Ctx) -> bool:
    """True when numad places the memory (numatune placement auto, or implied by vcpu placement auto)."""
    mem = _numatune_memory(ctx)
    if mem is not None and mem.get("placement"):
        return mem.get("placement") == "auto"
    if mem is not None and mem.get("nodeset"):
        return False
    vcpu = ctx.root.find("vcpu")
    return vcpu is not None and vcpu.get("placement") == "auto"


def auto_nodeset(ctx: Ctx) -> list[int]:
    """The nodes numad advises (the host profile's `numad_nodeset`, else node 0)."""
    return parse_set(str((ctx.host.raw.get("numad_nodeset")) or ctx.setting("numad_nodeset") or "0"))


def numatune_mode(ctx: Ctx, cell: int) -> str:
    """The memory mode of a cell (its memnode, else the domain's), strict when none is written."""
    node = _memnode(ctx, cell)
    if node is not None:
        return node.get("mode") or "strict"
    mem = _numatune_memory(ctx)
    if mem is not None:
        return mem.get("mode") or "strict"
    return "strict"


def numatune_nodeset(ctx: Ctx, cell: int) -> list[int] | None:
    """The host nodes a cell's (or the domain's) memory is bound to, or None."""
    mem = _numatune_memory(ctx)
    specified = mem is not None or auto_placement(ctx)
    node = _memnode(ctx, cell)
    if node is None and not specified:
        return None
    if auto_placement(ctx):
        return auto_nodeset(ctx)
    if node is not None:
        return parse_set(node.get("nodeset"))
    return parse_set(mem.get("nodeset")) if mem is not None and mem.get("nodeset") else None


# --- backends ---------------------------------------------------------------------------------------

@dataclass
class MemSpec:
    """What a memory backend is built from: a NUMA cell, the default RAM or a memory device."""

    alias: str
    size_kib: int
    # The name of a file-backed object's file under the memory backing dir (the device's alias).
    path_alias: str = ""
    target_node: int = -1
    access: str | None = None
    discard: str | None = None
    pagesize_kib: int = 0
    source_nodes: list[int] | None = None
    model: str | None = None
    nvdimm_path: str | None = None
    nvdimm_pmem: bool = False
    align_kib: int = 0


def _cell(ctx: Ctx, index: int) -> etree._Element | None:
    cells = numa_cells(ctx)
    return cells[index] if 0 <= index < len(cells) else None


def _pagesize(ctx: Ctx, spec: MemSpec) -> tuple[int, bool, bool, bool]:
    """(page size KiB, needs huge pages, uses huge pages, preallocate) as qemuBuildMemoryGetPagesize decides."""
    pagesize = spec.pagesize_kib
    need = use = bool(pagesize)
    if not pagesize:
        master = None
        chosen = None
        for size, nodeset in hugepages(ctx):
            if not nodeset:
                master = (size, nodeset)
                continue
            if spec.target_node < 0:
                continue
            if spec.target_node in parse_set(nodeset):
                need = True
                chosen = (size, nodeset)
                break
        page = chosen or master
        if page is not None:
            pagesize = page[0]
            use = True
    if pagesize == SYSTEM_PAGE_KIB:
        pagesize, need, use = 0, False, False
    elif use and pagesize == 0:
        pagesize = default_hugepage_kib(ctx)
    alloc = ctx.root.find("memoryBacking/allocation")
    prealloc = alloc is not None and alloc.get("mode") == "immediate"
    if spec.nvdimm_path:
        if not spec.nvdimm_pmem and spec.model != "virtio-pmem":
            prealloc = True
    elif use:
        prealloc = True
    return pagesize, need, use, prealloc


def _mem_source(ctx: Ctx) -> str | None:
    src = ctx.root.find("memoryBacking/source")
    return src.get("type") if src is not None else None


def backend_props(ctx: Ctx, spec: MemSpec, force: bool, system_memory: bool) -> tuple[P.Props, bool]:
    """A memory-backend-* object's properties, and whether the configuration needs one (qemuBuildMemoryBackendProps)."""
    access = spec.access
    discard = spec.discard
    if spec.target_node >= 0:
        cell = _cell(ctx, spec.target_node)
        if cell is not None:
            access = access or cell.get("memAccess")
            discard = discard or cell.get("discard")
    if not access:
        el = ctx.root.find("memoryBacking/access")
        access = el.get("mode") if el is not None else None
    if not discard:
        discard = "yes" if ctx.root.find("memoryBacking/discard") is not None else None
    mode = numatune_mode(ctx, spec.target_node)
    node_specified = _memnode(ctx, spec.target_node) is not None
    pagesize, need_huge, use_huge, prealloc = _pagesize(ctx, spec)
    source = _mem_source(ctx)
    mem_prealloc = bool(ctx.state.get("mem_prealloc"))

    props: P.Props = {}
    canonical_off = False
    if spec.model == "sgx-epc":
        backend = "memory-backend-epc"
        if not mem_prealloc:
            prealloc = True
    elif not spec.nvdimm_path and source == "memfd":
        backend = "memory-backend-memfd"
        if use_huge:
            props["hugetlb"] = True
            props["hugetlbsize"] = pagesize << 10
        if access in ("shared", "private"):
            props["share"] = access == "shared"
        canonical_off = system_memory
    elif use_huge or spec.nvdimm_path or access or source == "file":
        backend = "memory-backend-file"
        if spec.nvdimm_path:
            path = spec.nvdimm_path
        elif use_huge:
            path = hugepage_path(ctx, pagesize)
        else:
            path = backing_path(ctx, spec.path_alias or spec.alias)
        props["mem-path"] = path
        if not spec.nvdimm_path and discard in ("yes", "no"):
            props["discard-data"] = discard == "yes"
        if access in ("shared", "private"):
            props["share"] = access == "shared"
        canonical_off = system_memory
    else:
        backend = "memory-backend-ram"
    if canonical_off and ctx.has("memory-backend-file.x-use-canonical-path-for-ramblock-id"):
        props["x-use-canonical-path-for-ramblock-id"] = False
    if spec.model == "virtio-mem":
        if not ctx.has("virtio-mem-pci.prealloc") and mem_prealloc:
            props["prealloc"] = False
        if ctx.has("memory-backend-file.reserve"):
            props["reserve"] = False
    elif not mem_prealloc:
        if prealloc:
            props["prealloc"] = True
        alloc = ctx.root.find("memoryBacking/allocation")
        threads = alloc.get("threads") if alloc is not None else None
        if threads and int(threads) > 0:
            props["prealloc-threads"] = int(threads)
    props["size"] = spec.size_kib * 1024
    if spec.align_kib:
        props["align"] = spec.align_kib * 1024
    if spec.nvdimm_pmem:
        props["pmem"] = True
    nodes = spec.source_nodes if spec.source_nodes is not None else numatune_nodeset(ctx, spec.target_node)
    if nodes and mode != "restrictive":
        props["host-nodes"] = nodes
        props["policy"] = _POLICY[mode]
    needed = (need_huge or spec.source_nodes is not None or node_specified or bool(spec.nvdimm_path)
              or bool(access) or source in ("file", "memfd") or force)
    return {"qom-type": backend, "id": spec.alias, **props}, needed


def thread_context(ctx: Ctx, cmd: Command, props: P.Props) -> None:
    """A thread-context object for preallocating on the backend's host nodes (QEMU 7.2+), linked from the backend."""
    if not ctx.has("thread-context") or not props.get("host-nodes") or props.get("prealloc") is not True:
        return
    tc = f"tc-{props['id']}"
    P.add_object(ctx, cmd, {"qom-type": "thread-context", "id": tc, "node-affinity": list(props["host-nodes"])})
    props["prealloc-context"] = tc


def _mem_path_args(ctx: Ctx, cmd: Command) -> None:
    """-mem-prealloc / -mem-path for QEMUs without a default RAM id (huge pages or file memory without NUMA)."""
    mem_path = None
    prealloc = False
    pages = hugepages(ctx)
    if pages and pages[0][0] != SYSTEM_PAGE_KIB:
        size = pages[0][0] or default_hugepage_kib(ctx)
        mem_path = hugepage_path(ctx, size)
        prealloc = True
    elif _mem_source(ctx) == "file":
        mem_path = backing_path(ctx, "ram")
    alloc = ctx.root.find("memoryBacking/allocation")
    if alloc is not None and alloc.get("mode") == "immediate":
        prealloc = True
    if prealloc and not ctx.state.get("mem_prealloc"):
        cmd.add("-mem-prealloc")
        ctx.state["mem_prealloc"] = True
    if mem_path:
        cmd.add("-mem-path", mem_path)


def max_memory(ctx: Ctx) -> tuple[int, int] | None:
    """(slots, max KiB, aligned at start) when the domain allows memory hotplug (<maxMemory>)."""
    el = ctx.root.find("maxMemory")
    if el is None:
        return None
    size = _kib(el)
    return int(el.get("slots") or 0), _round_up(size, size_alignment(ctx)) if aligning(ctx) else size


# --- stages ----------------------------------------------------------------------------------------

def memory(ctx: Ctx, cmd: Command) -> None:
    """-m, the default RAM backend (or -mem-path), -overcommit mem-lock."""
    initial = initial_kib(ctx)
    hotplug = max_memory(ctx)
    if hotplug and hotplug[1] > 0:
        cmd.add("-m", f"size={initial}k,slots={hotplug[0]},maxmem={hotplug[1]}k")
    else:
        cmd.add("-m", str(initial // 1024))
    ram_id = platform.default_ram_id(ctx)
    if not numa_cells(ctx):
        if ram_id:
            spec = MemSpec(alias=ram_id, size_kib=initial)
            props, _ = backend_props(ctx, spec, force=False, system_memory=True)
            thread_context(ctx, cmd, props)
            P.add_object(ctx, cmd, props)
        else:
            _mem_path_args(ctx, cmd)
    locked = ctx.root.find("memoryBacking/locked") is not None
    cmd.add("-overcommit", f"mem-lock={'on' if locked else 'off'}")


def iothreads(ctx: Ctx, cmd: Command) -> None:
    """-object iothread per I/O thread id (plus the main loop's pool when <defaultiothread> sets one)."""
    for tid, el in iothread_ids(ctx):
        props: P.Props = {"qom-type": "iothread", "id": f"iothread{tid}"}
        if el is not None:
            for attr in ("thread_pool_min", "thread_pool_max"):
                if el.get(attr) is not None and int(el.get(attr)) >= 0:
                    props[attr.replace("_", "-")] = int(el.get(attr))
        P.add_object(ctx, cmd, props)
    main = ctx.root.find("defaultiothread")
    if main is not None:
        props = {"qom-type": "main-loop", "id": "main-loop"}
        for attr in ("thread_pool_min", "thread_pool_max"):
            if main.get(attr) is not None and int(main.get(attr)) >= 0:
                props[attr.replace("_", "-")] = int(main.get(attr))
        P.add_object(ctx, cmd, props)


def iothread_ids(ctx: Ctx) -> list[tuple[int, etree._Element | None]]:
    """The I/O thread ids: those <iothreadids> lists, then the lowest free ids up to <iothreads>."""
    written = [(int(e.get("id")), e) for e in ctx.root.findall("iothreadids/iothread") if e.get("id")]
    count = int((ctx.root.findtext("iothreads") or "0").strip() or 0)
    used = {i for i, _ in written}
    out: list[tuple[int, etree._Element | None]] = list(written)
    nxt = 1
    while len(out) < count:
        if nxt not in used:
            out.append((nxt, None))
            used.add(nxt)
        nxt += 1
    return out


def _cpus_args(text: str | None) -> str:
    values = parse_set(text)
    if not values:
        return ""
    return "".join(f",cpus={part}" for part in format_set(values).split(","))


def numa(ctx: Ctx, cmd: Command) -> None:
    """-numa node per cell (with memory backends where needed), distances and HMAT."""
    cells = numa_cells(ctx)
    if not cells:
        return
    info = platform.machine_info(ctx)
    need = not (info and info.get("numaMemSupported") == "yes")
    hmat = has_hmat(ctx)
    need = need or hmat
    backends: list[P.Props] = []
    for i, cell in enumerate(cells):
        spec = MemSpec(alias=f"ram-node{i}", size_kib=cell_kib(ctx, cell), target_node=i)
        props, needed = backend_props(ctx, spec, force=False, system_memory=False)
        backends.append(props)
        need = need or needed
    if not need:
        _mem_path_args(ctx, cmd)
    master = next((i for i, c in enumerate(cells) if parse_set(c.get("cpus"))), 0)
    for i, cell in enumerate(cells):
        if need:
            thread_context(ctx, cmd, backends[i])
            P.add_object(ctx, cmd, backends[i])
        value = f"node,nodeid={i}{_cpus_args(cell.get('cpus'))}"
        if hmat:
            initiator = _initiator(ctx, i, cell)
            value += f",initiator={initiator if initiator >= 0 else master}"
        value += f",memdev=ram-node{i}" if need else f",mem={cell_kib(ctx, cell) // 1024}"
        cmd.add("-numa", value)
    _distances(ctx, cmd, cells)
    if hmat:
        _hmat(ctx, cmd, cells)


def _initiator(ctx: Ctx, index: int, cell: etree._Element) -> int:
    """A cell's HMAT initiator: itself when it has vCPUs, else the lowest-latency (or widest) source, or -1."""
    if parse_set(cell.get("cpus")):
        return index
    best_lat: tuple[int, int] | None = None
    best_bw: tuple[int, int] | None = None
    inter = ctx.root.find("cpu/numa/interconnects")
    for el in (inter if inter is not None else []):
        if not isinstance(el.tag, str) or el.get("target") != str(index):
            continue
        value, source = int(el.get("value") or 0), int(el.get("initiator") or 0)
        if el.tag == "latency" and (best_lat is None or value < best_lat[0]):
            best_lat = (value, source)
        elif el.tag == "bandwidth" and value > (best_bw[0] if best_bw else 0):
            best_bw = (value, source)
    if best_lat is not None:
        return best_lat[1]
    return best_bw[1] if best_bw is not None else -1


def has_hmat(ctx: Ctx) -> bool:
    """True when the NUMA description has interconnects or caches (ACPI HMAT)."""
    numa_el = ctx.root.find("cpu/numa")
    if numa_el is None:
        return False
    inter = numa_el.find("interconnects")
    return (inter is not None and len(inter) > 0) or numa_el.find("cell/cache") is not None


def _distances(ctx: Ctx, cmd: Command, cells: list[etree._Element]) -> None:
    table: dict[tuple[int, int], int] = {}
    for i, cell in enumerate(cells):
        for s in cell.findall("distances/sibling"):
            table[(i, int(s.get("id")))] = int(s.get("value"))
    if not table:
        return
    n = len(cells)
    for i in range(n):
        for j in range(n):
            value = table.get((i, j)) or table.get((j, i)) or (10 if i == j else 20)
            cmd.add("-numa", f"dist,src={i},dst={j},val={value}")


_HIERARCHY = {None: "memory", "0": "memory", "1": "first-level", "2": "second-level", "3": "third-level"}
_ASSOC = {"none": "none", "direct": "direct", "full": "complex"}
_CACHE_POLICY = {"none": "none", "writeback": "write-back", "writethrough": "write-through"}


def _hmat(ctx: Ctx, cmd: Command, cells: list[etree._Element]) -> None:
    inter = ctx.root.find("cpu/numa/interconnects")
    for el in (inter if inter is not None else []):
        if not isinstance(el.tag, str):
            continue
        kind = el.tag
        value = f"hmat-lb,initiator={el.get('initiator')},target={el.get('target')}," \
                f"hierarchy={_HIERARCHY.get(el.get('cache'), 'memory')},data-type={el.get('type')}-"
        if kind == "latency":
            value += f"latency,latency={el.get('value')}"
        else:
            value += f"bandwidth,bandwidth={_attr_kib(el, 'value')}K"
        cmd.add("-numa", value)
    for i, cell in enumerate(cells):
        for cache in cell.findall("cache"):
            size = _attr_kib(cache.find("size"), "value") if cache.find("size") is not None else 0
            value = f"hmat-cache,node-id={i},size={size}K,level={cache.get('level')}"
            if cache.get("associativity") in _ASSOC:
                value += f",associativity={_ASSOC[cache.get('associativity')]}"
            if cache.get("policy") in _CACHE_POLICY:
                value += f",policy={_CACHE_POLICY[cache.get('policy')]}"
            line = cache.find("line")
            if line is not None and line.get("value") and _attr_kib(line, "value") > 0:
                value += f",line={line.get('value')}"
            cmd.add("-numa", value)


_DEVICE_DRIVER = {"dimm": "pc-dimm", "nvdimm": "nvdimm", "virtio-pmem": "virtio-pmem-pci",
                  "virtio-mem": "virtio-mem-pci"}


def memory_spec(ctx: Ctx, dev: etree._Element, alias: str) -> MemSpec:
    """The backend description of a <memory> device."""
    node = dev.findtext("target/node")
    source = dev.find("source")
    spec = MemSpec(alias=f"mem{alias}", path_alias=alias, size_kib=module_kib(ctx, dev), model=dev.get("model"),
                   target_node=int(node) if node and node.strip() else -1, access=dev.get("access"),
                   discard=dev.get("discard"))
    if source is not None:
        page = source.find("pagesize")
        if page is not None:
            spec.pagesize_kib = _kib(page)
        nodes = source.findtext("nodemask")
        if nodes:
            spec.source_nodes = parse_set(nodes)
        path = source.findtext("path")
        if path:
            spec.nvdimm_path = path.strip()
        spec.nvdimm_pmem = source.find("pmem") is not None
        align = source.find("alignsize")
        if align is not None:
            spec.align_kib = _kib(align)
    return spec


def memory_device_props(ctx: Ctx, dev: etree._Element, alias: str, spec: MemSpec) -> P.Props:
    """The -device properties of a memory device (qemuBuildMemoryDeviceProps)."""
    model = dev.get("model") or "dimm"
    prealloc = False
    if model == "virtio-mem" and ctx.has("virtio-mem-pci.prealloc"):
        prealloc = _pagesize(ctx, spec)[3]
    target = dev.find("target")
    props: P.Props = {"driver": _DEVICE_DRIVER[model]}
    if spec.target_node >= 0:
        props["node"] = spec.target_node
    for tag, key in (("label/size", "label-size"), ("block", "block-size"), ("requested", "requested-size")):
        size = _kib(target.find(tag)) if target is not None else 0
        if size:
            props[key] = size * 1024
    uuid = dev.findtext("uuid")
    if uuid:
        props["uuid"] = uuid.strip()
    if target is not None and target.find("readonly") is not None:
        props["unarmed"] = True
    props["memdev"] = f"mem{alias}"
    if prealloc:
        props["prealloc"] = True
    props["id"] = alias
    props.update(A.props(ctx, dev))
    return props


_ALIAS_PREFIX = {"dimm": "dimm", "nvdimm": "nvdimm", "virtio-pmem": "virtiopmem", "virtio-mem": "virtiomem",
                 "sgx-epc": "epc"}


def dimm_slots(ctx: Ctx) -> dict[int, int]:
    """The DIMM slot of each DIMM/NVDIMM (by position): as written, else the lowest free one (with memory hotplug)."""
    devs = memory_device_list(ctx)
    slots: dict[int, int] = {}
    for i, dev in enumerate(devs):
        addr = dev.find("address")
        if addr is not None and addr.get("type") == "dimm" and addr.get("slot") is not None:
            slots[i] = int(addr.get("slot"), 0)
    if max_memory(ctx) is None:
        return slots
    used = set(slots.values())
    for i, dev in enumerate(devs):
        if dev.get("model") in ("dimm", "nvdimm") and i not in slots:
            nxt = next(n for n in range(len(devs) + len(used) + 1) if n not in used)
            used.add(nxt)
            slots[i] = nxt
    return slots


def memory_aliases(ctx: Ctx) -> list[str]:
    """Each memory device's alias: a written one, else PREFIX+slot for DIMMs, PREFIX+next free index otherwise."""
    out: list[str] = []
    slots = dimm_slots(ctx)
    for i, dev in enumerate(memory_device_list(ctx)):
        alias = A.alias_of(dev)
        if not alias:
            prefix = _ALIAS_PREFIX.get(dev.get("model") or "dimm", "dimm")
            if prefix in ("dimm", "nvdimm"):
                alias = f"{prefix}{slots.get(i, 0)}"
            else:
                taken = [int(a[len(prefix):]) for a in out if a.startswith(prefix) and a[len(prefix):].isdigit()]
                alias = f"{prefix}{max(taken) + 1 if taken else 0}"
        out.append(alias)
    return out


def memory_devices(ctx: Ctx, cmd: Command) -> None:
    """-object memory-backend-* and -device pc-dimm/nvdimm/virtio-pmem-pci/virtio-mem-pci per <memory> device."""
    aliases = memory_aliases(ctx)
    slots = dimm_slots(ctx)
    for i, dev in enumerate(memory_device_list(ctx)):
        alias = aliases[i]
        spec = memory_spec(ctx, dev, alias)
        props, _ = backend_props(ctx, spec, force=True, system_memory=False)
        thread_context(ctx, cmd, props)
        P.add_object(ctx, cmd, props)
        if dev.get("model") in _DEVICE_DRIVER:
            props = memory_device_props(ctx, dev, alias, spec)
            if i in slots and "slot" not in props:
                props["slot"] = slots[i]
            P.add_device(ctx, cmd, props)
