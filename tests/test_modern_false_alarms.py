"""Domains that current libvirt accepts and domlint once flagged: no 9.0 rule may flag them again.

Each case is XML as KubeVirt, virt-install, OpenStack nova or libvirt itself writes it today, with the
one construct that used to draw a false alarm. Under libvirt 9.0 (the default target too) none may
give an error. Where libvirt 1.2.8 refused the construct, `--libvirt 1.2.8` must still give that
error, from the rule named in the case (the 1.2.8 rule book reproduces 1.2.8, so it stays right for
1.2.8); where 1.2.8 accepted it as well, only the 9.0 side is asserted.

Every case was also defined with libvirt 9.0.0 and its QEMU 7.2 (`virsh -c qemu:///embed?root=DIR
domxml-to-native qemu-argv`, which runs the define-time validation and the start-time preparation):
x86_64 cases gave a command line (timer-tsc-frequency only on a host whose TSC runs at that frequency,
a host fact the default host profile does not give, so no rule may fire on it without one); the two
pSeries cases, for which no ppc64 QEMU was at hand, are
upstream's own accepted forms (the pseries-phb-simple and pseries-many-buses tests, and what
`virsh dumpxml` writes for a pSeries guest with a console).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import run_cli

# KubeVirt's virt-launcher: the PIT discards lost ticks in every domain it writes.
KUBEVIRT = """\
<domain type='kvm'>
  <name>default_vmi-fedora</name>
  <uuid>5a9fc181-957e-5c32-9e5a-2de5e9673531</uuid>
  <metadata>
    <kubevirt xmlns="http://kubevirt.io">
      <uid>7b3a1e2e-3b40-4a7e-9b5e-4cbb8f2f6a51</uid>
    </kubevirt>
  </metadata>
  <memory unit='KiB'>2097152</memory>
  <currentMemory unit='KiB'>2097152</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <iothreads>1</iothreads>
  <sysinfo type='smbios'>
    <system>
      <entry name='manufacturer'>KubeVirt</entry>
      <entry name='product'>None</entry>
      <entry name='uuid'>5a9fc181-957e-5c32-9e5a-2de5e9673531</entry>
      <entry name='family'>KubeVirt</entry>
    </system>
  </sysinfo>
  <os>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
    <smbios mode='sysinfo'/>
  </os>
  <features>
    <acpi/>
  </features>
  <cpu mode='host-model' check='partial'>
    <topology sockets='1' dies='1' cores='1' threads='1'/>
  </cpu>
  <clock offset='utc'>
    <timer name='pit' tickpolicy='discard'/>
    <timer name='rtc' tickpolicy='catchup'/>
    <timer name='hpet' present='no'/>
  </clock>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk' model='virtio-non-transitional'>
      <driver name='qemu' type='raw' cache='none' error_policy='stop' discard='unmap'/>
      <source file='/var/run/kubevirt-private/vmi-disks/containerdisk/disk.img'/>
      <target dev='vda' bus='virtio'/>
      <alias name='ua-containerdisk'/>
    </disk>
    <controller type='usb' index='0' model='none'/>
    <controller type='scsi' index='0' model='virtio-non-transitional'/>
    <controller type='virtio-serial' index='0' model='virtio-non-transitional'/>
    <interface type='ethernet'>
      <mac address='02:5c:a4:00:00:01'/>
      <target dev='tap0' managed='no'/>
      <model type='virtio-non-transitional'/>
      <mtu size='1480'/>
      <alias name='ua-default'/>
      <rom enabled='no'/>
    </interface>
    <serial type='unix'>
      <source mode='bind' path='/var/run/kubevirt-private/7b3a1e2e/virt-serial0'/>
      <target type='isa-serial' port='0'>
        <model name='isa-serial'/>
      </target>
    </serial>
    <console type='unix'>
      <source mode='bind' path='/var/run/kubevirt-private/7b3a1e2e/virt-serial0'/>
      <target type='serial' port='0'/>
    </console>
    <channel type='unix'>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>
    <input type='mouse' bus='ps2'/>
    <input type='keyboard' bus='ps2'/>
    <graphics type='vnc'>
      <listen type='socket' socket='/var/run/kubevirt-private/7b3a1e2e/virt-vnc'/>
    </graphics>
    <audio id='1' type='none'/>
    <video>
      <model type='vga' vram='16384' heads='1' primary='yes'/>
    </video>
    <memballoon model='virtio-non-transitional'>
      <stats period='10'/>
    </memballoon>
  </devices>
</domain>
"""

# OpenStack nova: a q35 instance; FEATURES, CLOCK and DISKS are filled in per case.
NOVA = """\
<domain type='kvm'>
  <name>instance-0000002a</name>
  <uuid>9b6b5c1e-4c4f-4e58-8a0a-7a3e1d2f3c4b</uuid>
  <metadata>
    <nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1">
      <nova:name>web-1</nova:name>
      <nova:flavor name="m1.medium">
        <nova:memory>4096</nova:memory>
        <nova:vcpus>4</nova:vcpus>
      </nova:flavor>
    </nova:instance>
  </metadata>
  <memory unit='KiB'>4194304</memory>
  <currentMemory unit='KiB'>4194304</currentMemory>
  <vcpu placement='static'>4</vcpu>
  <sysinfo type='smbios'>
    <system>
      <entry name='manufacturer'>OpenStack Foundation</entry>
      <entry name='product'>OpenStack Nova</entry>
      <entry name='serial'>9b6b5c1e-4c4f-4e58-8a0a-7a3e1d2f3c4b</entry>
      <entry name='uuid'>9b6b5c1e-4c4f-4e58-8a0a-7a3e1d2f3c4b</entry>
      <entry name='family'>Virtual Machine</entry>
    </system>
  </sysinfo>
  <os>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
    <boot dev='hd'/>
    <smbios mode='sysinfo'/>
  </os>
  <features>
    <acpi/>
    <apic/>
FEATURES  </features>
  <cpu mode='host-passthrough' check='none' migratable='on'>
    <topology sockets='4' dies='1' cores='1' threads='1'/>
  </cpu>
  <clock offset='utc'>
    <timer name='pit' tickpolicy='delay'/>
    <timer name='rtc' tickpolicy='catchup'/>
    <timer name='hpet' present='no'/>
CLOCK  </clock>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
DISKS    <interface type='bridge'>
      <mac address='fa:16:3e:5b:1c:2d'/>
      <source bridge='br-int'/>
      <virtualport type='openvswitch'>
        <parameters interfaceid='0f3c2e55-8b1e-4d4c-9d0e-2c6d9f7a1b3e'/>
      </virtualport>
      <target dev='tap0f3c2e55-8b'/>
      <model type='virtio'/>
      <mtu size='1442'/>
    </interface>
    <serial type='pty'>
      <log file='/var/lib/nova/instances/9b6b5c1e-4c4f-4e58-8a0a-7a3e1d2f3c4b/console.log' append='off'/>
      <target type='isa-serial' port='0'/>
    </serial>
    <console type='pty'>
      <target type='serial' port='0'/>
    </console>
    <input type='tablet' bus='usb'/>
    <graphics type='vnc' autoport='yes' listen='0.0.0.0'/>
    <video>
      <model type='virtio' heads='1' primary='yes'/>
    </video>
    <memballoon model='virtio'>
      <stats period='10'/>
    </memballoon>
    <rng model='virtio'>
      <backend model='random'>/dev/urandom</backend>
    </rng>
  </devices>
</domain>
"""

NOVA_ROOT_DISK = """\
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='none'/>
      <source file='/var/lib/nova/instances/9b6b5c1e-4c4f-4e58-8a0a-7a3e1d2f3c4b/disk'/>
      <target dev='vda' bus='virtio'/>
    </disk>
"""


def nova(features: str = "", clock: str = "", disks: str = NOVA_ROOT_DISK) -> str:
    """The nova instance with extra <features> children, <clock> timers and disks."""
    return NOVA.replace("FEATURES", features).replace("CLOCK", clock).replace("DISKS", disks)


# virt-install --os-variant fedora37 --graphics spice --video qxl, then a second (virtio) card added.
VIRT_INSTALL_DESKTOP = """\
<domain type='kvm'>
  <name>fedora37-desktop</name>
  <uuid>0d4c3b3a-1f6a-4b5e-8a0c-3c3f1e6a9d21</uuid>
  <metadata>
    <libosinfo:libosinfo xmlns:libosinfo="http://libosinfo.org/xmlns/libvirt/domain/1.0">
      <libosinfo:os id="http://fedoraproject.org/fedora/37"/>
    </libosinfo:libosinfo>
  </metadata>
  <memory unit='KiB'>4194304</memory>
  <currentMemory unit='KiB'>4194304</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
    <boot dev='hd'/>
  </os>
  <features>
    <acpi/>
    <apic/>
    <vmport state='off'/>
  </features>
  <cpu mode='host-passthrough' check='none' migratable='on'/>
  <clock offset='utc'>
    <timer name='rtc' tickpolicy='catchup'/>
    <timer name='pit' tickpolicy='delay'/>
    <timer name='hpet' present='no'/>
  </clock>
  <pm>
    <suspend-to-mem enabled='no'/>
    <suspend-to-disk enabled='no'/>
  </pm>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' discard='unmap'/>
      <source file='/var/lib/libvirt/images/fedora37-desktop.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
DISKS    <controller type='usb' index='0' model='qemu-xhci' ports='15'/>
    <interface type='network'>
      <mac address='52:54:00:6a:1b:2c'/>
      <source network='default'/>
      <model type='virtio'/>
    </interface>
    <channel type='spicevmc'>
      <target type='virtio' name='com.redhat.spice.0'/>
    </channel>
    <input type='tablet' bus='usb'/>
    <graphics type='spice' autoport='yes'>
      <listen type='address'/>
      <image compression='off'/>
    </graphics>
    <sound model='ich9'/>
    <audio id='1' type='spice'/>
    <video>
      <model type='qxl' ram='65536' vram='65536' vgamem='16384' heads='1' primary='yes'/>
    </video>
VIDEO    <memballoon model='virtio'/>
    <rng model='virtio'>
      <backend model='random'>/dev/urandom</backend>
    </rng>
  </devices>
</domain>
"""


def desktop(disks: str = "", video: str = "") -> str:
    """The virt-install desktop guest with extra disks and video cards."""
    return VIRT_INSTALL_DESKTOP.replace("DISKS", disks).replace("VIDEO", video)


# A pSeries guest as virt-install writes it on POWER; DEVICES filled in per case.
PSERIES = """\
<domain type='kvm'>
  <name>rhel9-ppc</name>
  <uuid>3e1c9a2b-7f44-4c1e-9b8d-2a6f0c5d4e13</uuid>
  <memory unit='KiB'>4194304</memory>
  <currentMemory unit='KiB'>4194304</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='ppc64le' machine='pseries-7.1'>hvm</type>
    <boot dev='hd'/>
  </os>
  <cpu mode='host-model' check='none'/>
  <clock offset='utc'/>
  <devices>
    <emulator>/usr/bin/qemu-system-ppc64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/rhel9-ppc.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
DEVICES    <interface type='network'>
      <mac address='52:54:00:3c:4d:5e'/>
      <source network='default'/>
      <model type='virtio'/>
    </interface>
    <memballoon model='virtio'/>
  </devices>
</domain>
"""


def pseries(devices: str) -> str:
    """The pSeries guest with extra devices."""
    return PSERIES.replace("DEVICES", devices)


@dataclass(frozen=True)
class Case:
    """A domain current libvirt accepts; rule_128: the 1.2.8 rule that must still refuse it ('' if 1.2.8 took it)."""

    xml: str
    rule_128: str


CASES = {
    # libvirt 1.2.8 refused pit tickpolicy merge and discard ("unsupported pit tickpolicy");
    # 9.0 maps discard to kvm-pit.lost_tick_policy=discard.
    "pit-tickpolicy-discard": Case(KUBEVIRT, "clock-pit-tickpolicy"),
    # The <kvm> feature element knew only <hidden> in 1.2.8; its parser refused any other child.
    "kvm-hint-dedicated": Case(nova(features="    <kvm>\n      <hint-dedicated state='on'/>\n    </kvm>\n"),
                               "features-kvm-unknown"),
    "kvm-poll-control": Case(nova(features="    <kvm>\n      <poll-control state='on'/>\n    </kvm>\n"),
                             "features-kvm-unknown"),
    "kvm-pv-ipi": Case(nova(features="    <kvm>\n      <pv-ipi state='off'/>\n    </kvm>\n"), "features-kvm-unknown"),
    "kvm-dirty-ring": Case(nova(features="    <kvm>\n      <dirty-ring state='on' size='4096'/>\n    </kvm>\n"),
                           "features-kvm-unknown"),
    "kvm-features-together": Case(nova(features="    <kvm>\n      <hidden state='on'/>\n"
                                                "      <hint-dedicated state='on'/>\n"
                                                "      <poll-control state='on'/>\n"
                                                "      <pv-ipi state='on'/>\n"
                                                "      <dirty-ring state='on' size='16384'/>\n    </kvm>\n"),
                                  "features-kvm-unknown"),
    # 1.2.8 took only qxl as a secondary card ("video type %s is only valid as primary video card");
    # 9.0 takes qxl and virtio (virtio-gpu-pci) there.
    "video-secondary-virtio": Case(desktop(video="    <video>\n      <model type='virtio' heads='1'/>\n    </video>\n"),
                                   "video-secondary-not-qxl"),
    # 1.2.8 refused the tsc and platform timers ("unsupported timer type"); 9.0 sets tsc-frequency, or
    # leaves the tsc alone with only present='yes'. KubeVirt writes the frequency of the node the VM
    # started on; 9.0 refuses it at start only on a host whose TSC differs (beyond 250 ppm, without TSC
    # scaling): a host fact, unknown without a host profile that gives it.
    "timer-tsc-frequency": Case(nova(clock="    <timer name='tsc' frequency='2419200000'/>\n"), "clock-timer-unsupported"),
    "timer-tsc-present": Case(nova(clock="    <timer name='tsc' present='yes'/>\n"), "clock-timer-unsupported"),
    # virt-install --disk ...,transient=on: 1.2.8 refused every transient disk ("not supported yet").
    "disk-transient": Case(desktop(disks="""\
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/scratch.qcow2'/>
      <target dev='vdb' bus='virtio'/>
      <transient/>
    </disk>
"""), "disk-transient"),
    # A replicated gluster volume reached through any of three servers: 1.2.8 built a gluster:// URI
    # and took exactly one host ("protocol '%s' accepts only one host"); 9.0 hands QEMU the server list.
    "gluster-several-hosts": Case(nova(disks="""\
    <disk type='network' device='disk'>
      <driver name='qemu' type='raw' cache='none'/>
      <source protocol='gluster' name='vmstore/instances/9b6b5c1e-4c4f-4e58-8a0a-7a3e1d2f3c4b/disk'>
        <host name='gluster1.example.com' port='24007'/>
        <host name='gluster2.example.com' port='24007'/>
        <host name='gluster3.example.com' port='24007'/>
      </source>
      <target dev='vda' bus='virtio'/>
    </disk>
"""), "disk-network-hosts"),
    # Several PHBs on pSeries: 1.2.8's parser took a pci-root only at index 0 ("pci-root and pcie-root
    # controllers should have index 0"); 9.0 makes each further pci-root a spapr-pci-host-bridge.
    "pseries-several-phbs": Case(pseries("""\
    <controller type='pci' index='0' model='pci-root'>
      <model name='spapr-pci-host-bridge'/>
      <target index='0'/>
    </controller>
    <controller type='pci' index='1' model='pci-root'>
      <model name='spapr-pci-host-bridge'/>
      <target index='1'/>
    </controller>
    <controller type='pci' index='2' model='pci-root'>
      <model name='spapr-pci-host-bridge'/>
      <target index='2'/>
    </controller>
"""), "controller-pci-root-index"),
    # What `virsh dumpxml` writes for a pSeries guest with a console: the console is the first serial
    # port and repeats its spapr-vio address; libvirt skips that console alias when it assigns and
    # checks device addresses. libvirt 1.2.8 wrote and read the same form (its device walk skips
    # that console too), so 1.2.8 must accept it as well: see the test below.
    "pseries-serial-console-one-address": Case(pseries("""\
    <serial type='pty'>
      <target type='spapr-vio-serial' port='0'>
        <model name='spapr-vty'/>
      </target>
      <address type='spapr-vio' reg='0x30000000'/>
    </serial>
    <console type='pty'>
      <target type='serial' port='0'/>
      <address type='spapr-vio' reg='0x30000000'/>
    </console>
"""), ""),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("modern")
    out = {}
    for name, case in CASES.items():
        out[name] = root / f"{name}.xml"
        out[name].write_text(case.xml)
    return out


def _findings(path: Path, *args: str, env: dict[str, str] | None = None) -> list[dict]:
    proc = run_cli("check", "--format", "json", "-q", *args, str(path), env=env)
    assert proc.returncode in (0, 1), proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["notes"] == [] and doc["errors"] == [], doc
    return doc["findings"]


def _errors(findings: list[dict]) -> list[str]:
    return [f"{f['rule_id']}: {f['message']}" for f in findings if f["severity"] == "error"]


@pytest.mark.parametrize("name", CASES)
def test_libvirt_9_accepts(name: str, files: dict[str, Path]) -> None:
    assert _errors(_findings(files[name], "--libvirt", "9.0")) == []


@pytest.mark.parametrize("name", CASES)
def test_the_default_target_accepts(name: str, files: dict[str, Path]) -> None:
    # No --libvirt and no DOMLINT_LIBVIRT: the newest target judges.
    assert _errors(_findings(files[name], env={"DOMLINT_LIBVIRT": ""})) == []


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.rule_128])
def test_libvirt_1_2_8_still_refuses(name: str, files: dict[str, Path]) -> None:
    rule = CASES[name].rule_128
    found = _findings(files[name], "--libvirt", "1.2.8")
    assert any(f["rule_id"] == rule and f["severity"] == "error" for f in found), _errors(found)


def test_every_1_2_8_rule_named_exists() -> None:
    from domlint.engine import load_engine

    ids = {r.id for r in load_engine(target="1.2.8").rules}
    assert {c.rule_128 for c in CASES.values() if c.rule_128} <= ids


def test_libvirt_1_2_8_accepts_the_pseries_console_alias(tmp_path: Path) -> None:
    # virDomainDeviceInfoIterateInternal (1.2.8) skips console 0 of an hvm guest when it is the serial alias.
    # 1.2.8 knew no serial target types or models (spapr-vio-serial, spapr-vty came later): its own form.
    # 1.2.8 gives ppc64 (not yet ppc64le) its implicit PCI root: a ppc64le guest has no PCI bus there for
    # its virtio disk and NIC (address-assign-no-pci-bus), which is not what this test is about.
    xml = CASES["pseries-serial-console-one-address"].xml.replace(
        "<target type='spapr-vio-serial' port='0'>\n        <model name='spapr-vty'/>\n      </target>",
        "<target port='0'/>").replace("arch='ppc64le'", "arch='ppc64'")
    assert "spapr-vio-serial" not in xml
    path = tmp_path / "pseries-1.2.8.xml"
    path.write_text(xml)
    assert _errors(_findings(path, "--libvirt", "1.2.8")) == []
