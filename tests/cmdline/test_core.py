"""The emitter's frame and platform stages: order, machine, memory, CPU, NUMA, clock, boot."""

from __future__ import annotations

import pytest
from emit_helpers import HOST, after, domain, emit_unchecked, emit_words

import domlint


def test_frame_order_and_environment() -> None:
    words = emit_words(domain(), ["name", "uuid"])
    assert words[:5] == ["LC_ALL=C", "PATH=/bin", "HOME=/home/test", "USER=test", "LOGNAME=test"]
    emu = words.index("/usr/bin/qemu-system-x86_64")
    assert words[emu + 1:emu + 4] == ["-name", "guest", "-S"]
    assert words.index("-m") < words.index("-smp") < words.index("-uuid")


def test_machine_option_carries_accel_and_usb_off() -> None:
    assert after(emit_words(domain(), ["machine-opt", "machine-usb-opt"]), "-machine") == [
        "pc-0.11,accel=tcg,usb=off"]
    old = emit_words(domain(vtype="kvm"), ["kvm", "enable-kvm"])
    assert len(after(old, "-M")) == 1 and "-enable-kvm" in old and "-machine" not in old


@pytest.mark.parametrize(("memory", "mib"), [("219136", "214"), ("219137", "215"), ("1", "1")])
def test_memory_rounds_up_to_mib(memory: str, mib: str) -> None:
    xml = domain().replace("219136", memory)
    assert after(emit_words(xml), "-m") == [mib]


def test_plain_hugepages_use_the_default_mount() -> None:
    xml = domain(top="<memoryBacking><hugepages/></memoryBacking>")
    words = emit_words(xml, ["mem-path"])
    assert after(words, "-mem-path") == ["/dev/hugepages2M/libvirt/qemu"]


def test_smp_topology() -> None:
    xml = domain(top="<cpu><topology sockets='2' cores='1' threads='1'/></cpu>").replace(
        "<vcpu>1</vcpu>", "<vcpu current='1'>2</vcpu>")
    assert after(emit_words(xml, ["smp-topology"]), "-smp") == ["1,maxcpus=2,sockets=2,cores=1,threads=1"]
    assert after(emit_words(domain(), ["smp-topology"]), "-smp") == ["1,sockets=1,cores=1,threads=1"]


def _vcpus(xml: str, count: int) -> str:
    """A test domain with count vCPUs instead of one."""
    return xml.replace("<vcpu>1</vcpu>", f"<vcpu>{count}</vcpu>")


def test_numa_cells_with_memory_backends_and_binding() -> None:
    top = ("<numatune><memory mode='strict' nodeset='0-7'/><memnode cellid='0' mode='preferred' nodeset='3'/>"
           "</numatune><cpu><numa><cell id='0' cpus='0' memory='20002'/>"
           "<cell id='1' cpus='1-5,^3' memory='1048576'/></numa></cpu>")
    # The cells name 5 vCPUs; 1.2.8 refuses cells naming more than <vcpu> (virDomainDefParseXML).
    words = emit_words(_vcpus(domain(top=top), 6), ["memory-backend-ram", "numa"])
    assert after(words, "-object") == ["memory-backend-ram,size=20M,id=ram-node0,host-nodes=3,policy=preferred",
                                       "memory-backend-ram,size=1024M,id=ram-node1,host-nodes=0-7,policy=bind"]
    assert after(words, "-numa") == ["node,nodeid=0,cpus=0,memdev=ram-node0",
                                     "node,nodeid=1,cpus=1-2,cpus=4-5,memdev=ram-node1"]
    # Without memory backends a cell's size goes on -numa itself (and per-cell binding is refused).
    plain = top.split("</numatune>")[1]
    assert after(emit_words(_vcpus(domain(top=plain), 6), ["numa"]), "-numa")[1] == "node,nodeid=1,cpus=1-2,cpus=4-5,mem=1024"


def test_numa_cell_on_hugepages_of_its_size() -> None:
    top = ("<memoryBacking><hugepages><page size='1' unit='GiB' nodeset='1'/></hugepages></memoryBacking>"
           "<cpu><numa><cell id='0' cpus='0' memory='262144'/><cell id='1' cpus='1' memory='262144'/></numa></cpu>")
    objs = after(emit_words(_vcpus(domain(top=top), 2), ["memory-backend-file"]), "-object")
    assert objs[0].startswith("memory-backend-ram,")
    assert objs[1].startswith("memory-backend-file,prealloc=yes,mem-path=/dev/hugepages1G/libvirt/qemu,")


@pytest.mark.parametrize(("clock", "caps", "rtc"), [
    ("<clock offset='utc'/>", ["rtc"], "base=utc"),
    ("<clock offset='localtime'/>", ["rtc"], "base=localtime"),
    # The pinned host clock is 2009-02-13T23:31:30 UTC; the host zone is 30 minutes behind UTC.
    ("<clock offset='variable' adjustment='60' basis='utc'/>", ["rtc"], "base=2009-02-13T23:32:30"),
    ("<clock offset='variable' adjustment='0' basis='localtime'/>", ["rtc"], "base=2009-02-13T23:01:30"),
    ("<clock offset='utc'><timer name='rtc' track='guest' tickpolicy='catchup'/></clock>", ["rtc"],
     "base=utc,clock=vm,driftfix=slew"),
])
def test_rtc(clock: str, caps: list[str], rtc: str) -> None:
    assert after(emit_words(domain(top=clock), caps), "-rtc") == [rtc]


def test_timezone_sets_tz_and_old_qemu_gets_localtime() -> None:
    words = emit_words(domain(top="<clock offset='timezone' timezone='Europe/Paris'/>"))
    assert "TZ=Europe/Paris" in words and "-localtime" in words


@pytest.mark.parametrize(("os", "caps", "boot"), [
    ("<boot dev='cdrom'/><boot dev='hd'/>", [], "dc"),
    ("<boot dev='network'/><bootmenu enable='yes'/>", ["boot-menu"], "order=n,menu=on"),
    ("<boot dev='hd'/>", ["boot-index", "boot-strict"], "strict=on"),
    ("<boot dev='hd'/><bootmenu enable='no'/>", ["boot-index", "boot-menu"], "menu=off"),
])
def test_boot(os: str, caps: list[str], boot: str) -> None:
    assert after(emit_words(domain(os=os), caps), "-boot") == [boot]


def test_direct_kernel_boot() -> None:
    os = "<kernel>/boot/vmlinuz</kernel><initrd>/boot/initrd</initrd><cmdline>console=ttyS0 ro</cmdline>"
    words = emit_words(domain(os=os))
    assert after(words, "-kernel") == ["/boot/vmlinuz"] and after(words, "-append") == ["console=ttyS0 ro"]


@pytest.mark.parametrize(("cpu", "expected"), [
    # The host is a core2duo with extra features: exact keeps the model plus what is required,
    # minus what is disabled; minimum takes everything the host has.
    ("<cpu match='exact'><model>core2duo</model><feature policy='require' name='vmx'/>"
     "<feature policy='disable' name='sse2'/></cpu>", "core2duo,+vmx,-sse2"),
    ("<cpu match='minimum'><model>core2duo</model></cpu>",
     "core2duo,+lahf_lm,+xtpr,+cx16,+tm2,+est,+vmx,+ds_cpl,+pbe,+tm,+ht,+ss,+acpi,+ds"),
    ("<cpu mode='host-passthrough'/>", "host"),
    ("<cpu match='exact'><model fallback='allow'>core2duo</model></cpu>", "core2duo"),
])
@pytest.mark.corpus
def test_cpu_models(cpu: str, expected: str) -> None:
    assert after(emit_words(domain(top=cpu, vtype="kvm"), ["cpu-host", "kvm"]), "-cpu") == [expected]


def test_paravirt_flags_extend_the_default_model() -> None:
    top = ("<features><apic eoi='on'/><hyperv><relaxed state='on'/><spinlocks state='on' retries='4095'/>"
           "</hyperv></features><clock offset='utc'><timer name='kvmclock' present='no'/></clock>")
    words = emit_words(domain(top=top, arch="i686", emulator="/usr/bin/qemu-system-x86_64"))
    assert after(words, "-cpu") == ["qemu32,-kvmclock,+kvm_pv_eoi,hv_relaxed,hv_spinlocks=0xfff"]


def test_power_switches() -> None:
    top = "<on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot><on_crash>destroy</on_crash>"
    assert "-no-reboot" in emit_words(domain(top=top), ["no-reboot"])
    assert "-no-reboot" not in emit_words(domain(), ["no-reboot"])
    assert "-no-shutdown" in emit_words(domain(), ["no-shutdown"], json_monitor=True)


def test_monitor_styles() -> None:
    assert after(emit_words(domain()), "-monitor") == ["unix:/tmp/test-monitor,server,nowait"]
    words = emit_words(domain(), ["chardev"], json_monitor=True)
    assert after(words, "-mon") == ["chardev=charmonitor,id=monitor,mode=control"]


@pytest.mark.parametrize(("src", "caps", "value"), [
    ("stdio", ["migrate-qemu-fd"], "fd:7"),
    ("stdio", ["migrate-qemu-exec"], "exec:cat"),
    ("tcp:10.0.0.1:5000", ["migrate-qemu-tcp"], "tcp:10.0.0.1:5000"),
])
def test_incoming(src: str, caps: list[str], value: str) -> None:
    assert after(emit_words(domain(), caps, migrate_from=src, migrate_fd=7), "-incoming") == [value]


def test_smbios_from_sysinfo() -> None:
    top = ("<sysinfo type='smbios'><bios><entry name='vendor'>LENOVO</entry></bios>"
           "<system><entry name='manufacturer'>Fedora</entry><entry name='family'>Virt</entry></system></sysinfo>")
    words = emit_words(domain(top=top, os="<boot dev='hd'/><smbios mode='sysinfo'/>"), ["smbios-type"])
    assert after(words, "-smbios") == ["type=0,vendor=LENOVO", "type=1,manufacturer=Fedora,family=Virt"]


def test_numa_cells_go_out_in_id_order() -> None:
    top = ("<cpu><numa><cell id='1' cpus='1' memory='1024'/><cell id='0' cpus='0' memory='1024'/></numa></cpu>")
    xml = domain(top=top).replace("<vcpu>1</vcpu>", "<vcpu>2</vcpu>")
    assert after(emit_words(xml), "-numa") == ["node,nodeid=0,cpus=0,mem=1", "node,nodeid=1,cpus=1,mem=1"]


def test_cpu_model_without_a_cpu_map_uses_the_one_libvirt_128_ships() -> None:
    # Every 1.2.8 host has its CPU map: a profile naming none gets the bundled one, the same as the corpus's.
    bare = domlint.host.from_dict("bare", {k: v for k, v in HOST.raw.items() if k != "cpu_map"})
    xml = domain(top="<cpu match='exact'><model>Penryn</model><feature policy='disable' name='sse4.1'/></cpu>",
                 vtype="kvm")
    with_map = after(domlint.emit(xml, caps={"kvm"}, host=HOST).words(), "-cpu")
    assert with_map and after(domlint.emit(xml, caps={"kvm"}, host=bare).words(), "-cpu") == with_map


@pytest.mark.parametrize("adjustment", ["abc", "99999999999999999999999", "+5", "1.5"])
def test_unreadable_variable_clock_adjustment_counts_as_zero(adjustment: str) -> None:
    # libvirt reads it with XPath's number() and keeps 0 unless that gives a whole long long.
    def rtc(value: str) -> list[str]:
        return emit_unchecked(domain(top=f"<clock offset='variable' adjustment='{value}' basis='utc'/>"), ["rtc"])

    assert rtc(adjustment) == rtc("0") != rtc("3600")


def test_unreadable_utc_clock_adjustment_is_an_input_error() -> None:
    with pytest.raises(domlint.InputError, match="clock adjustment 'abc'"):
        emit_unchecked(domain(top="<clock offset='utc' adjustment='abc'/>"), ["rtc"])


@pytest.mark.corpus
def test_a_cpu_feature_the_map_lacks_is_an_input_error() -> None:
    xml = domain(top="<cpu match='exact'><model>core2duo</model><feature policy='require' name='warpdrive'/></cpu>",
                 vtype="kvm")
    with pytest.raises(domlint.InputError, match="CPU map"):
        emit_unchecked(xml, ["kvm", "cpu-host"])
