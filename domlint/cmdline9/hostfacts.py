"""What the 9.0 emitter assumes of the host where the host profile says nothing, all in one place.

Two kinds of fact: qemu.conf's defaults for the settings the command line shows
(DRIVER_DEFAULTS, read through `ctx.setting`, `lib_dir` and `state_dir`; the
profile's `driver` section and the run options override them), and the numbers of the descriptors libvirt opens and hands QEMU
(FD_DEFAULTS; the profile's `fds` section overrides them). A real libvirt passes
whatever numbers its own open() returned, which nothing offline can know: the
defaults are plain placeholders, distinct so that a line still reads clearly.
A test harness's numbers (libvirt's own mocks hand out fixed ones) belong in its
host profile, as tests/hosts/conformance-9.0.yaml holds them.

What no default can stand for (a secret's value, a storage pool, the host's USB
devices, a 1 GiB hugetlbfs mount, ...) the emitter asks for with HostFactMissing:
one line naming the host profile key to add. No rule can decide it, since the
default host does not know it, so `check` passes such a domain and `argv` says
what it needs.
"""

from __future__ import annotations

from ..cmdline.context import Ctx

# qemu.conf's defaults in libvirt 9.0 for a privileged daemon (virQEMUDriverConfigNew). The
# directories libvirt derives from the two dirs (nvram and ram under lib_dir; passt, dbus and
# swtpm under state_dir) follow whichever the host gives, where they are used.
DRIVER_DEFAULTS: dict[str, object] = {
    "vnc_listen": "127.0.0.1", "vnc_tls": False, "vnc_tls_x509_cert_dir": "/etc/pki/libvirt-vnc",
    "vnc_tls_x509_verify": False, "vnc_sasl": False, "spice_listen": "127.0.0.1", "spice_tls": False,
    "spice_tls_x509_cert_dir": "/etc/pki/libvirt-spice", "spice_sasl": False,
    "lib_dir": "/var/lib/libvirt/qemu", "state_dir": "/run/libvirt/qemu",
    "set_process_name": False, "log_timestamp": True,
}

# Placeholder descriptor numbers, by the name a host profile's `fds` section uses. A NIC's TAP
# and vhost-net descriptors count up from tap_first and vhost_first, one per queue.
FD_DEFAULTS: dict[str, int] = {
    "monitor": 3,               # the QMP monitor's listening socket
    "chardev_socket": 4,        # a listening UNIX socket of a character device
    "chardev_file": 5,          # a character device's output file (an fd set)
    "chardev_log": 6,           # its log file (an fd set)
    "tpm_device": 7, "tpm_cancel": 8,   # a passthrough TPM and its cancel file
    "vdpa": 9,                  # a vDPA NIC's device (an fd set)
    "vhost_scsi": 10,           # a vhost-scsi host device
    "vsock": 11,                # /dev/vhost-vsock
    "vhost_user_video": 12,     # the socket of a vhost-user GPU's helper
    "tap_first": 20,
    "vhost_first": 40,
    # Not a descriptor: the guest CID <cid auto='yes'/> gets, the first one libvirt tries (0-2 are reserved).
    "vsock_cid": 3,
}


# The hugetlbfs mount every Linux host with huge pages has: systemd mounts hugetlbfs at
# /dev/hugepages (dev-hugepages.mount) with the kernel's default huge page size, and libvirt
# finds it in /proc/mounts when qemu.conf names none (virFileFindHugeTLBFS). The size is the
# architecture's (x86 and arm64 with 4 KiB pages: 2 MiB; s390x: 1 MiB); ppc64's depends on
# the MMU, so it has no default. Other sizes (1 GiB) need a mount of their own: a host fact.
DEFAULT_HUGEPAGE_KIB: dict[str, int] = {"x86_64": 2048, "i686": 2048, "aarch64": 2048, "s390x": 1024}


def hugetlbfs_mounts(ctx: Ctx) -> tuple[list[dict], bool]:
    """The host's hugetlbfs mounts, and whether they are the plain default (the host profile names none)."""
    given = ctx.setting("hugetlbfs")
    if given is not None:
        return list(given), False
    size = DEFAULT_HUGEPAGE_KIB.get(ctx.host.arch)
    return ([{"mount": "/dev/hugepages", "page_size_kib": size}] if size else []), True


def lib_dir(ctx: Ctx) -> str:
    """The driver's lib dir (the host profile's, else qemu.conf's default for a privileged daemon)."""
    return str(ctx.setting("lib_dir") or DRIVER_DEFAULTS["lib_dir"])


def state_dir(ctx: Ctx) -> str:
    """The driver's run-time state directory (the host profile's, else qemu.conf's default for a privileged daemon)."""
    return str(ctx.setting("state_dir") or DRIVER_DEFAULTS["state_dir"])


def host_fd(ctx: Ctx, name: str) -> int:
    """The number of a descriptor libvirt hands QEMU: the host profile's `fds`, else the placeholder."""
    fds = ctx.host.raw.get("fds") or {}
    value = fds.get(name)
    return int(value) if value is not None else FD_DEFAULTS[name]
