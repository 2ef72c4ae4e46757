"""libvirt 9.0's domain-wide arguments, worked out from qemu_command.c (qemuBuildCommandLine and its helpers)."""

from __future__ import annotations

import pytest
from emit9 import HOST, ctx_for, domain
from emit9 import unprepared_stage as run

from domlint.cmdline.command import Command
from domlint.cmdline9 import platform
from domlint.commands.argv import libvirt_lines

pytestmark = pytest.mark.libvirt("9.0")


def test_environment_sets_home_and_xdg_to_the_domain_lib_dir() -> None:
    # virCommandAddEnvPassCommon: LC_ALL=C, then PATH/HOME/USER/LOGNAME from libvirtd; privileged:
    # HOME and XDG_* are LIBDIR/domain-ID-NAME (id -1 before start; test host lib dir /tmp/lib).
    env = dict(run(platform.environment, domain()).env)
    assert list(env)[:1] == ["LC_ALL"]
    assert env["HOME"] == "/tmp/lib/domain--1-guest"
    assert env["XDG_CONFIG_HOME"] == "/tmp/lib/domain--1-guest/.config"
    assert env["PATH"] == "/bin"


def test_short_name_cuts_the_name_to_twenty_characters() -> None:
    xml = domain().replace("<name>guest</name>", "<name>" + "a" * 30 + "</name>")
    assert platform.domain_lib_dir(ctx_for(xml)) == "/tmp/lib/domain--1-" + "a" * 20


def test_name_doubles_commas_and_turns_on_debug_threads() -> None:
    xml = domain().replace("<name>guest</name>", "<name>a,b</name>")
    assert run(platform.name, xml).args == ["-name", "guest=a,,b,debug-threads=on"]


def test_master_key_is_keyval_without_qapified_objects_and_json_with() -> None:
    assert run(platform.master_key, domain()).args[1] == \
        "secret,id=masterKey0,format=raw,file=/tmp/lib/domain--1-guest/master-key.aes"
    assert run(platform.master_key, domain(), caps=["object.qapified"]).args[1].startswith(
        '{"qom-type":"secret","id":"masterKey0"')


def test_machine_always_turns_usb_off_and_dump_guest_core_off_by_default() -> None:
    assert run(platform.machine, domain()).args == ["-machine", "pc,usb=off,dump-guest-core=off"]


def test_machine_features_come_before_the_memory_settings() -> None:
    # qemuAppendDomainFeaturesMachineParam (vmport, smm) runs before qemuAppendDomainMemoryMachineParams.
    xml = domain(top="<features><vmport state='off'/><smm state='on'/></features><memoryBacking><nosharepages/>"
                     "</memoryBacking>", machine="q35")
    assert run(platform.machine, xml).args[1] == "q35,usb=off,vmport=off,smm=on,dump-guest-core=off,mem-merge=off"


def test_accel_follows_the_domain_type() -> None:
    assert run(platform.accel, domain()).args == ["-accel", "tcg"]
    assert run(platform.accel, domain(vtype="kvm")).args == ["-accel", "kvm"]


def test_power_uses_no_reboot_only_when_every_action_destroys() -> None:
    # priv->allowReboot is NO only when on_reboot, on_poweroff and on_crash all say destroy.
    xml = domain(top="<on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot><on_crash>destroy</on_crash>")
    assert run(platform.power, xml).args == ["-no-reboot"]
    assert run(platform.power, xml, caps=["set-action"]).args == ["-no-shutdown"]
    assert run(platform.power, domain(), caps=["no-acpi"]).args == ["-no-shutdown", "-no-acpi"]


def test_s3_s4_switches_go_to_ich9_on_q35_with_the_capability() -> None:
    top = "<pm><suspend-to-mem enabled='no'/><suspend-to-disk enabled='yes'/></pm>"
    assert run(platform.power, domain(top=top)).args[1:] == [
        "-global", "PIIX4_PM.disable_s3=1", "-global", "PIIX4_PM.disable_s4=0"]
    got = run(platform.power, domain(top=top, machine="q35"), caps=["ich9-disable-s3"]).args
    assert got[1:] == ["-global", "ICH9-LPC.disable_s3=1", "-global", "PIIX4_PM.disable_s4=0"]


def test_boot_options_end_with_strict() -> None:
    os_ = "<boot dev='hd'/><bootmenu enable='yes' timeout='3000'/><bios rebootTimeout='-1'/>"
    assert run(platform.boot, domain(os=os_)).args == ["-boot", "menu=on,reboot-timeout=-1,splash-time=3000,strict=on"]


def test_monitor_is_the_host_fd() -> None:
    assert run(platform.monitor, domain()).args == [
        "-chardev", "socket,id=charmonitor,fd=1729,server=on,wait=off",
        "-mon", "chardev=charmonitor,id=monitor,mode=control"]


def test_sandbox_only_with_seccomp_and_incoming_stdio_is_the_fd() -> None:
    assert run(platform.sandbox, domain()).args == []
    assert run(platform.sandbox, domain(), caps=["seccomp-sandbox"]).args[1].startswith("on,obsolete=deny")
    assert run(platform.incoming, domain(), migrate_from="stdio", migrate_fd=7).args == ["-incoming", "fd:7"]


def test_smbios_sysinfo_writes_types_in_order() -> None:
    top = ("<sysinfo type='smbios'><bios><entry name='vendor'>V,1</entry></bios>"
           "<system><entry name='product'>P</entry></system></sysinfo>")
    got = run(platform.smbios, domain(top=top, os="<smbios mode='sysinfo'/>")).args
    assert got == ["-smbios", "type=0,vendor=V,,1", "-smbios", "type=1,product=P"]


def test_default_host_lib_dir_is_libvirts() -> None:
    from domlint.host import default_host

    ctx = ctx_for(domain(), host=default_host())
    assert platform.domain_lib_dir(ctx) == "/var/lib/libvirt/qemu/domain--1-guest"
    assert HOST.raw["driver"]["lib_dir"] == "/tmp/lib"


def test_lines_layout_breaks_before_options_and_keeps_values() -> None:
    cmd = Command(env=[("A", "b c")], emulator="/q", args=["-S", "-m", "1", "disk"])
    assert libvirt_lines(cmd) == "A='b c' \\\n/q \\\n-S \\\n-m 1 \\\ndisk"


def test_sev_object_fills_cbitpos_from_qemu_and_reads_the_policy_as_hex() -> None:
    top = "<launchSecurity type='sev'><policy>0x0003</policy><dhCert>AQAA</dhCert></launchSecurity>"
    got = run(platform.launch_security, domain(top=top))
    # No capability file here, so no SEV data: cbitpos and reduced-phys-bits stay 0.
    assert got.args == ["-object", "sev-guest,id=lsec0,cbitpos=0,reduced-phys-bits=0,policy=3,"
                                    "dh-cert-file=/tmp/lib/domain--1-guest/dh_cert.base64"]
