"""The order of libvirt 9.0's QEMU command line, fixed in this one place.

Each stage appends the arguments of one concern; family modules never decide
where their arguments go. The sequence is qemuBuildCommandLine's in libvirt 9.0.0.
"""

from __future__ import annotations

from collections.abc import Callable

from ..cmdline.command import Command
from ..cmdline.context import Ctx
from . import chardev, clock, controller, cpu, devices, disk, graphics, memory, net, platform

Stage = Callable[[Ctx, Command], None]

STAGES: tuple[Stage, ...] = (
    platform.environment,               # LC_ALL, PATH, HOME, USER, LOGNAME, XDG_* (+ settings.env)
    platform.name,                      # -name guest=...,debug-threads=on
    platform.compat,                    # -compat (deprecation behaviour)
    platform.paused,                    # -S
    platform.master_key,                # -object secret masterKey0
    devices.dbus_vmstate,               # -object dbus-vmstate
    disk.managed_pr,                    # -object pr-manager-helper
    disk.pflash,                        # -blockdev for the firmware flash
    platform.fips,                      # -enable-fips
    platform.machine,                   # -machine
    platform.accel,                     # -accel
    platform.tseg,                      # -global mch.extended-tseg-mbytes
    cpu.cpu,                            # -cpu
    platform.loader,                    # -bios
    memory.memory,                      # -m, memory backends, -overcommit
    cpu.smp,                            # -smp
    memory.iothreads,                   # -object iothread
    memory.numa,                        # -numa, -object memory-backend-*
    platform.uuid,                      # -uuid
    platform.smbios,                    # -smbios
    platform.sysinfo,                   # -fw_cfg from <sysinfo type='fwcfg'>
    devices.vmgenid,                    # -device vmgenid
    platform.display,                   # -display none
    platform.defaults,                  # -no-user-config, -nodefaults
    platform.monitor,                   # -chardev + -mon
    clock.clock,                        # -rtc, -global kvm-pit...
    platform.power,                     # -no-reboot, -no-shutdown, -no-acpi, -global PIIX4_PM/ICH9-LPC
    platform.boot,                      # -boot, -kernel, -initrd, -append, -dtb
    devices.iommu,                      # -device intel-iommu / virtio-iommu
    controller.global_controllers,      # -global for PCI hole64
    controller.controllers,             # -device for controllers, -usb
    memory.memory_devices,              # -object + -device for <memory> devices
    controller.hubs,                    # -device usb-hub
    controller.ccid_controllers,        # controllers built after hubs (libvirt's by-type pass)
    disk.disks,                         # -blockdev, -device for disks
    disk.filesystems,                   # -fsdev / -chardev + -device for <filesystem>
    net.interfaces,                     # -netdev, -device for <interface>
    chardev.smartcards,                 # -chardev, -device ccid-card-*
    chardev.serials,                    # -chardev + -device for <serial>
    chardev.parallels,                  # -chardev + -device for <parallel>
    chardev.channels,                   # -chardev + -device / -netdev guestfwd for <channel>
    chardev.consoles,                   # -chardev + -device for <console>
    devices.tpms,                       # -tpmdev, -device tpm-*
    devices.inputs,                     # -device for <input>
    graphics.audio,                     # -audiodev
    graphics.graphics,                  # -vnc, -spice, -display for <graphics>
    graphics.videos,                    # -device for <video>
    graphics.sounds,                    # -device for <sound> and its codecs
    devices.watchdogs,                  # -device for <watchdog>, -watchdog-action
    chardev.redirdevs,                  # -chardev + -device usb-redir
    devices.hostdevs,                   # -device vfio-pci / usb-host / scsi-generic...
    platform.incoming,                  # -incoming
    devices.memballoon,                 # -device virtio-balloon-*
    devices.rngs,                       # -object rng-*, -device virtio-rng-*
    devices.nvram,                      # -global spapr-nvram.reg
    devices.vmcoreinfo,                 # -device vmcoreinfo
    platform.launch_security,           # -object sev-guest / s390-pv-guest
    platform.passthrough,               # <qemu:commandline> arguments and environment
    platform.sandbox,                   # -sandbox
    devices.panics,                     # -device pvpanic / -global for <panic>
    devices.shmems,                     # -object + -device ivshmem
    devices.vsock,                      # -device vhost-vsock-*
    platform.msg_timestamp,             # -msg timestamp=on
)


def build(ctx: Ctx) -> Command:
    """Run every stage in order over a prepared domain."""
    cmd = Command(emulator=ctx.emulator)
    for stage in STAGES:
        stage(ctx, cmd)
    return cmd
