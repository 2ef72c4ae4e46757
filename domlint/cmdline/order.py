"""The order of the QEMU command line, fixed in this one place.

Each stage appends to the command from one device family's module; the
families never decide where their arguments go. The sequence is the one
libvirt 1.2.8's builder follows, so a command line compares byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable

from . import (
    boot,
    chardev,
    clock,
    controller,
    cpu,
    disk,
    fs,
    graphics,
    hostdev,
    input,
    memballoon,
    memory,
    misc,
    net,
    numa,
    platform,
    redirdev,
    rng,
    smartcard,
    sound,
    tpm,
    usb,
    video,
    watchdog,
)
from .command import Command
from .context import Ctx

Stage = Callable[[Ctx, Command], None]

STAGES: tuple[Stage, ...] = (
    platform.environment,       # LC_ALL, PATH, HOME, USER, LOGNAME (+ QEMU_AUDIO_DRV, TZ, SDL later)
    platform.name,              # -name
    platform.paused,            # -S
    platform.machine,           # -machine / -M, accel
    cpu.cpu,                    # -cpu, -enable-nesting
    platform.bios,              # -bios
    memory.memory,              # -m, -mem-prealloc -mem-path, -realtime
    cpu.smp,                    # -smp
    memory.iothreads,           # -object iothread
    numa.numa,                  # -numa
    platform.uuid,              # -uuid, -domid
    misc.smbios,                # -smbios
    graphics.nographic,         # -nographic, QEMU_AUDIO_DRV
    platform.defaults,          # -no-user-config / -nodefconfig, -nodefaults, -device sga
    platform.monitor,           # -chardev + -mon, or -monitor
    clock.clock,                # -rtc / -localtime, TZ, timers
    platform.power,             # -no-reboot, -no-shutdown, -no-acpi, PIIX4_PM
    boot.boot,                  # -boot, -kernel, -initrd, -append, -dtb, -bootloader
    controller.controllers,     # -global pci-hole64, -device for controllers, -usb
    usb.hubs,                   # -device usb-hub
    disk.disks,                 # -drive, -device, -usbdevice disk:, -hda...
    fs.filesystems,             # -fsdev, -device virtio-9p-pci
    net.interfaces,             # -net, -netdev, -device (or -net none)
    smartcard.smartcards,       # -chardev, -device ccid-card-*
    chardev.serials,            # -serial / -chardev + -device isa-serial...
    chardev.parallels,          # -parallel / -chardev + -device isa-parallel
    chardev.channels,           # guestfwd, virtio channels, spicevmc
    chardev.consoles,           # virtio/sclp consoles
    tpm.tpm,                    # -tpmdev, -device tpm-tis
    input.inputs,               # -device usb-tablet..., -usbdevice
    graphics.graphics,          # -sdl, -vnc, -spice
    video.videos,               # -vga, -device VGA..., -global qxl
    sound.sounds,               # -soundhw, -device intel-hda + codecs
    watchdog.watchdog,          # -watchdog / -device, -watchdog-action
    redirdev.redirdevs,         # -chardev spicevmc + -device usb-redir
    hostdev.hostdevs,           # -device pci-assign / vfio-pci / usb-host / scsi-generic
    platform.incoming,          # -incoming
    memballoon.memballoon,      # -device virtio-balloon-pci / -balloon
    rng.rngs,                   # -object rng-*, -device virtio-rng
    misc.nvram,                 # -global spapr-nvram.reg
    misc.passthrough,           # <qemu:commandline> args and env
    misc.sandbox,               # -sandbox
    misc.panic,                 # -device pvpanic
    misc.msg_timestamp,         # -msg timestamp=on
)


def build(ctx: Ctx) -> Command:
    """Run every stage in order over a prepared domain."""
    cmd = Command(emulator=ctx.emulator)
    for stage in STAGES:
        stage(ctx, cmd)
    return cmd
