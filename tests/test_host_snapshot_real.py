"""Against a real libvirt 9.0: `domlint host snapshot`, then the same define verdict as `virsh define`.

Needs Debian's libvirt-clients, libvirt-daemon, libvirt-daemon-driver-qemu,
qemu-system-x86 and qemu-utils (.ci/run installs them) and root. The fixture
starts virtlogd and libvirtd itself (or uses a libvirtd that already answers
on qemu:///system, and then leaves it running). Setup it performs, as the
daemon-system package would: groups kvm and libvirt-qemu and system user
libvirt-qemu when missing, /var/log/libvirt; and, only when there is no
/etc/libvirt/qemu.conf (a system libvirtd reads no other), it writes one
with user/group root (so that QEMU's capabilities, probed as root, stay
valid: otherwise a root-only /dev/kvm makes libvirtd re-probe QEMU on every
define) and `namespaces = [ ]` (a container has no mount namespaces), and
removes it at the end. Daemons it started are stopped by their recorded PID.
No guest is ever started; each defined domain is undefined at once.

Outside CI the test skips when the programs or root are missing; with CI=true it fails instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CONFORMANCE_9

from domlint.caps import of_host
from domlint.cli import main
from domlint.host import load

pytestmark = pytest.mark.libvirt("9.0")

URI = "qemu:///system"
QEMU_CONF = Path("/etc/libvirt/qemu.conf")
OUR_CONF = ('# Written by domlint tests/test_host_snapshot_real.py, removed when it ends.\n'
            'user = "root"\ngroup = "root"\nnamespaces = [ ]\n')
ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LC_ALL": "C"}

# x86_64 domains of the 9.0 corpus whose define verdict rests on host facts or
# on nothing domain-specific. Defined on a host like CI's (KVM usable, spice_tls
# off as qemu.conf ships): plain devices, kvm and q35 domains, a SPICE display
# without a TLS port, huge pages (a start-time matter, not a define one).
# Refused there: an hvf domain on Linux, and SPICE displays with a TLS port
# while qemu.conf leaves SPICE TLS off. On a host without KVM the kvm ones are
# refused, and the snapshot says so: the verdicts still agree.
DOMAINS = [
    "graphics-vnc", "net-user", "disk-cdrom", "boot-cdrom", "console-compat", "hugepages-default",
    "q35-virt-manager-basic", "controller-order", "graphics-spice-timeout",
    "hvf-x86_64-q35-headless", "graphics-spice", "graphics-spice-sasl", "graphics-spice-qxl-vga",
    "serial-spiceport",
]
# Findings of these stages make virsh define fail; command-line ones only a start.
DEFINE_STAGES = ("parse", "address")


def _missing() -> str | None:
    for program in ("virsh", "libvirtd", "virtlogd", "qemu-system-x86_64"):
        if shutil.which(program, path=ENV["PATH"]) is None:
            return f"{program} is not installed (apt-get install libvirt-clients libvirt-daemon " \
                   "libvirt-daemon-driver-qemu qemu-system-x86 qemu-utils)"
    if os.geteuid() != 0:
        return "a system libvirtd needs root"
    if not CONFORMANCE_9.is_dir():
        return (f"the libvirt 9.0 corpus is not at {CONFORMANCE_9}: put ../shared/conformance/libvirt-9.0 beside "
                "the repository, or set DOMLINT_CONFORMANCE_9")
    return None


def _virsh(*words: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["virsh", "-c", URI, *words], capture_output=True, text=True, env=ENV,
                          timeout=timeout, check=False)


def _answers() -> bool:
    try:
        return _virsh("list", "--all", timeout=20).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def _ensure_accounts() -> None:
    for group in ("kvm", "libvirt-qemu"):
        if subprocess.run(["getent", "group", group], capture_output=True, check=False).returncode:
            subprocess.run(["groupadd", "-r", group], check=True)
    if subprocess.run(["getent", "passwd", "libvirt-qemu"], capture_output=True, check=False).returncode:
        subprocess.run(["useradd", "-r", "-g", "libvirt-qemu", "-G", "kvm", "-d", "/var/lib/libvirt",
                        "-s", "/usr/sbin/nologin", "libvirt-qemu"], check=True)
    Path("/var/log/libvirt").mkdir(parents=True, exist_ok=True)


def _stop(pid_file: Path) -> None:
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def libvirtd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A system libvirtd answering on qemu:///system for the module's tests."""
    reason = _missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the real-libvirt test: {reason}")
        pytest.skip(reason)
    if _answers():
        yield  # someone else's daemon: use it, leave it running
        return
    _ensure_accounts()
    wrote_conf = not QEMU_CONF.exists()
    if wrote_conf:
        QEMU_CONF.parent.mkdir(parents=True, exist_ok=True)
        QEMU_CONF.write_text(OUR_CONF)
    run = tmp_path_factory.mktemp("libvirtd")
    pids = [run / "virtlogd.pid", run / "libvirtd.pid"]
    try:
        subprocess.run(["virtlogd", "--daemon", "--pid-file", str(pids[0])], env=ENV, check=False, timeout=30)
        subprocess.run(["libvirtd", "--daemon", "--pid-file", str(pids[1])], env=ENV, check=True, timeout=30)
        deadline = time.monotonic() + 60
        while not _answers():
            if time.monotonic() > deadline:
                pytest.fail("libvirtd did not answer on qemu:///system within 60 s")
            time.sleep(0.5)
        yield
    finally:
        for pid_file in reversed(pids):
            _stop(pid_file)
        if wrote_conf and QEMU_CONF.read_text() == OUR_CONF:
            QEMU_CONF.unlink()


@pytest.fixture(scope="module")
def snapshot(libvirtd: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The snapshot folder `domlint host snapshot` writes."""
    out = tmp_path_factory.mktemp("snapshot")
    assert main(["host", "snapshot", "-c", URI, "-o", str(out)]) == 0
    return out


def _define(path: Path) -> str | None:
    """None when virsh define accepts the domain (it is undefined at once), else libvirt's error."""
    done = _virsh("define", str(path))
    if done.returncode:
        return done.stderr.strip() or "refused"
    name = re.search(r"Domain '(.*)' defined", done.stdout)
    assert name, done.stdout
    if _virsh("undefine", "--nvram", name.group(1)).returncode:
        assert _virsh("undefine", name.group(1)).returncode == 0
    return None


def test_snapshot_describes_the_host(snapshot: Path) -> None:
    host = load(snapshot / "host.yaml")
    x86 = host.guest("x86_64")
    assert x86 is not None and x86.emulator.endswith("qemu-system-x86_64") and "pc" in x86.machines
    assert x86.domain_types and "qemu" in x86.domain_types
    assert host.guest_archs and "x86_64" in host.guest_archs
    assert host.raw.get("libvirt_version", "").startswith("9.0")
    caps = of_host(host, "9.0", "x86_64")
    assert caps is not None and caps.source == str(snapshot / "qemu-caps" / "qemu-system-x86_64.xml")
    assert "kvm" in caps or "kvm" not in x86.domain_types
    assert host.spice_tls is not None and host.privileged is True


def test_define_verdicts_match(snapshot: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = [CONFORMANCE_9 / "cases" / f"{name}.xml" for name in DOMAINS]
    real = {str(p): _define(p) for p in paths}
    capsys.readouterr()
    main(["check", "--libvirt", "9.0", "--no-config", "--host", str(snapshot / "host.yaml"), "--format", "json",
          *map(str, paths)])
    findings = json.loads(capsys.readouterr().out)["findings"]
    ours: dict[str, list[str]] = {str(p): [] for p in paths}
    for f in findings:
        if f["severity"] == "error" and f["stage"] in DEFINE_STAGES:
            ours[f["path"]].append(f["rule_id"])
    wrong = [f"{Path(p).stem}: virsh define {'refused (' + real[p] + ')' if real[p] else 'accepted'}, "
             f"domlint {'found ' + ', '.join(ours[p]) if ours[p] else 'found no error'}"
             for p in real if (real[p] is None) != (not ours[p])]
    assert not wrong, "\n".join(wrong)
    # Both verdicts occur, so the comparison means something.
    assert any(v is None for v in real.values()) and any(v is not None for v in real.values())
