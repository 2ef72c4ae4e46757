"""libvirt 9.0's guest memory arguments, worked out from qemuBuildMemCommandLine, qemuBuildMemoryBackendProps,
qemuBuildNumaCommandLine and qemuDomainAlignMemorySizes."""

from __future__ import annotations

import pytest
from emit9 import ctx_for, domain
from emit9 import unprepared_stage as run

from domlint.cmdline9 import memory

pytestmark = pytest.mark.libvirt("9.0")

NUMA = ("<cpu><numa><cell id='1' cpus='1' memory='100000' unit='KiB'/>"
        "<cell id='0' cpus='0' memory='109568' unit='KiB'/></numa></cpu>")


def test_m_is_rounded_up_to_a_mebibyte_at_start() -> None:
    # 219136 KiB = 214 MiB exactly; 219137 KiB rounds up to 215 MiB.
    assert run(memory.memory, domain()).args[:2] == ["-m", "214"]
    xml = domain().replace("219136", "219137")
    assert run(memory.memory, xml).args[:2] == ["-m", "215"]
    # An incoming migration keeps the sizes as they are (no qemuDomainAlignMemorySizes).
    assert run(memory.memory, xml, migrate_from="stdio").args[:2] == ["-m", "214"]


def test_default_ram_backend_when_the_machine_names_its_ram() -> None:
    got = run(memory.memory, domain(), machines=[{"name": "pc", "defaultRAMid": "pc.ram"}]).args
    assert got == ["-m", "214", "-object", "memory-backend-ram,id=pc.ram,size=224395264", "-overcommit", "mem-lock=off"]


def test_hugepages_give_a_file_backend_with_prealloc_on_the_mount_of_that_size() -> None:
    top = "<memoryBacking><hugepages/></memoryBacking>"
    got = run(memory.memory, domain(top=top), machines=[{"name": "pc", "defaultRAMid": "pc.ram"}],
              caps=["object.qapified"]).args
    assert got[3] == ('{"qom-type":"memory-backend-file","id":"pc.ram","mem-path":"/dev/hugepages2M/libvirt/qemu/'
                      '-1-guest","prealloc":true,"size":224395264}')


def test_numa_cells_by_id_with_mem_when_the_machine_supports_numa_memory() -> None:
    got = run(memory.numa, domain(top=NUMA), machines=[{"name": "pc", "numaMemSupported": "yes"}]).args
    # 109568 KiB = 107 MiB; 100000 KiB rounds up to 98 MiB.
    assert got == ["-numa", "node,nodeid=0,cpus=0,mem=107", "-numa", "node,nodeid=1,cpus=1,mem=98"]


def test_numa_cells_get_ram_backends_otherwise() -> None:
    got = run(memory.numa, domain(top=NUMA)).args
    assert got[:4] == ["-object", "memory-backend-ram,id=ram-node0,size=112197632",
                       "-numa", "node,nodeid=0,cpus=0,memdev=ram-node0"]


def test_bind_policy_writes_host_nodes_as_ranges_in_keyval() -> None:
    top = NUMA + "<numatune><memory mode='strict' nodeset='0-2,5'/></numatune>"
    got = run(memory.numa, domain(top=top)).args
    assert got[1] == "memory-backend-ram,id=ram-node0,size=112197632,host-nodes=0-2,host-nodes=5,policy=bind"


def test_dimm_alias_follows_its_slot() -> None:
    top = NUMA + "<maxMemory slots='4' unit='KiB'>1048576</maxMemory>"
    dev = ("<memory model='dimm'><target><size unit='KiB'>131072</size><node>0</node></target>"
           "<address type='dimm' slot='2'/></memory><memory model='dimm'><target><size unit='KiB'>131072</size>"
           "<node>0</node></target></memory>")
    ctx = ctx_for(domain(top=top, devices=dev))
    assert memory.memory_aliases(ctx) == ["dimm2", "dimm0"]


def test_iothread_ids_fill_the_lowest_free_ids_after_the_written_ones() -> None:
    # virDomainIOThreadIDDefArrayInit: <iothreads>3</iothreads> with id 2 written gives 2, then 1 and 3.
    top = "<iothreads>3</iothreads><iothreadids><iothread id='2' thread_pool_min='1' thread_pool_max='4'/></iothreadids>"
    got = run(memory.iothreads, domain(top=top)).args
    assert got == ["-object", "iothread,id=iothread2,thread-pool-min=1,thread-pool-max=4",
                   "-object", "iothread,id=iothread1", "-object", "iothread,id=iothread3"]


def test_a_dimm_gets_a_backend_and_a_pc_dimm_in_its_slot() -> None:
    # Memory hotplug assigns the first free slot; the module is rounded up to 2 MiB; the backend is mem+alias.
    top = NUMA + "<maxMemory slots='4' unit='KiB'>1048576</maxMemory>"
    dev = "<memory model='dimm'><target><size unit='KiB'>130000</size><node>1</node></target></memory>"
    got = run(memory.memory_devices, domain(top=top, devices=dev)).args
    assert got == ["-object", "memory-backend-ram,id=memdimm0,size=134217728",
                   "-device", "pc-dimm,node=1,memdev=memdimm0,id=dimm0,slot=0"]


def test_file_backed_memory_lives_under_the_memory_backing_dir() -> None:
    top = NUMA + "<memoryBacking><source type='file'/><access mode='shared'/></memoryBacking>"
    got = run(memory.numa, domain(top=top)).args
    assert got[1] == ("memory-backend-file,id=ram-node0,mem-path=/var/lib/libvirt/qemu/ram/-1-guest/ram-node0,"
                      "share=on,size=112197632")
