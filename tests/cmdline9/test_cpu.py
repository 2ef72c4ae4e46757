"""libvirt 9.0's -cpu and -smp, worked out from qemuBuildCpuCommandLine and qemuBuildSmpCommandLine."""

from __future__ import annotations

import pytest
from emit9 import ctx_for, domain

from domlint.cmdline.command import Command
from domlint.cmdline9 import cpu

pytestmark = pytest.mark.libvirt("9.0")


def run(stage, xml: str, caps=()) -> list[str]:
    cmd = Command(emulator="qemu")
    stage(ctx_for(xml, caps), cmd)
    return cmd.args


def test_no_cpu_no_flags_no_cpu_argument() -> None:
    assert run(cpu.cpu, domain()) == []


def test_i686_on_the_x86_64_emulator_is_forced_to_qemu32() -> None:
    assert run(cpu.cpu, domain(arch="i686")) == ["-cpu", "qemu32"]


def test_flags_without_a_model_use_the_arch_default() -> None:
    top = "<features><apic eoi='on'/></features><clock offset='utc'><timer name='kvmclock' present='no'/></clock>"
    assert run(cpu.cpu, domain(top=top)) == ["-cpu", "qemu64,kvmclock=off,kvm-pv-eoi=on"]


def test_custom_model_features_in_written_order_with_qemu_spelling() -> None:
    top = ("<cpu match='exact'><model>core2duo</model><feature name='lahf_lm' policy='require'/>"
           "<feature name='nx' policy='disable'/></cpu>")
    assert run(cpu.cpu, domain(top=top)) == ["-cpu", "core2duo,lahf-lm=on,nx=off"]


def test_hyperv_spinlocks_are_hex() -> None:
    top = "<features><hyperv><relaxed state='on'/><spinlocks state='on' retries='12287'/></hyperv></features>"
    assert run(cpu.cpu, domain(top=top)) == ["-cpu", "qemu64,hv-relaxed=on,hv-spinlocks=0x2fff"]


def test_smp_without_topology_is_one_core_per_socket() -> None:
    xml = domain().replace("<vcpu>1</vcpu>", "<vcpu current='2'>4</vcpu>")
    assert run(cpu.smp, xml) == ["-smp", "2,maxcpus=4,sockets=4,cores=1,threads=1"]


def test_smp_writes_dies_only_with_the_capability() -> None:
    top = "<cpu><topology sockets='1' dies='1' cores='2' threads='1'/></cpu>"
    xml = domain(top=top).replace("<vcpu>1</vcpu>", "<vcpu>2</vcpu>")
    assert run(cpu.smp, xml) == ["-smp", "2,sockets=1,cores=2,threads=1"]
    assert run(cpu.smp, xml, caps=["smp-dies"]) == ["-smp", "2,sockets=1,dies=1,cores=2,threads=1"]


def test_host_model_becomes_the_host_model_and_its_features_in_order() -> None:
    # x86UpdateHostModel: the capabilities' host model (the host's CPU: core2duo with its 13 features,
    # in the host's order) replaces host-model; libvirt's names print with QEMU's spelling.
    got = run(cpu.cpu, domain(top="<cpu mode='host-model'/>"))
    assert got == ["-cpu", "core2duo,ds=on,acpi=on,ss=on,ht=on,tm=on,pbe=on,ds-cpl=on,vmx=on,est=on,tm2=on,"
                           "cx16=on,xtpr=on,lahf-lm=on"]


def test_optional_features_follow_the_host() -> None:
    # The host has tm but not sse4a: optional tm becomes required, optional sse4a disabled.
    top = ("<cpu match='exact'><model>core2duo</model><feature name='tm' policy='optional'/>"
           "<feature name='sse4a' policy='optional'/></cpu>")
    assert run(cpu.cpu, domain(top=top)) == ["-cpu", "core2duo,tm=on,sse4a=off"]


def test_a_model_qemu_lacks_falls_back_to_the_closest_allowed_one() -> None:
    # Westmere is not among the test QEMU's models: virCPUx86Translate decodes its CPUID bits into
    # the allowed model needing the fewest changes, then re-applies the guest's own features.
    # In the 9.0 map Westmere is Nehalem plus aes, so without aes it is exactly Nehalem.
    top = "<cpu match='exact'><model>Westmere</model><feature policy='disable' name='aes'/></cpu>"
    assert run(cpu.cpu, domain(top=top)) == ["-cpu", "Nehalem,aes=off"]
    # Westmere is Conroe plus aes, cx16, popcnt, sse4.1 and sse4.2: without four of them Conroe plus cx16
    # (one added feature) beats Nehalem (three disabled, each weighted 2, 3, 4).
    top = ("<cpu match='exact'><model>Westmere</model><feature policy='disable' name='aes'/>"
           "<feature policy='disable' name='popcnt'/><feature policy='disable' name='sse4.1'/>"
           "<feature policy='disable' name='sse4.2'/></cpu>")
    assert run(cpu.cpu, domain(top=top)) == ["-cpu", "Conroe,cx16=on,aes=off,popcnt=off,sse4.1=off,sse4.2=off"]


def test_sve_lengths_turn_sve_on() -> None:
    top = "<cpu mode='host-passthrough'><feature policy='require' name='sve128'/></cpu>"
    xml = domain(top=top, arch="aarch64", machine="virt", vtype="kvm", emulator="/usr/bin/qemu-system-aarch64")
    assert run(cpu.cpu, xml) == ["-cpu", "host,sve128=on,sve=on"]
