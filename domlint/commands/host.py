"""`domlint host snapshot`: a host profile (and its QEMU capability files) from a real machine's libvirt."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from lxml import etree

from ..errors import UsageError
from .options import EXIT_OK, FORMATTER

SNAPSHOT_EPILOG = """\
The folder gets host.yaml (the profile), qemu-caps/ (libvirt's QEMU
capability cache files, one per emulator, named in the profile's qemu_caps
per arch), storage-pools/ (one XML file per pool) and capabilities.xml
(virsh capabilities, for reference). `domlint check --host DIR/host.yaml`
then judges each domain under the capability file of its arch and under the
host's guests, domain types and qemu.conf settings.

Read from the machine: virsh capabilities (host CPU, guests per arch with
emulator, machine types and aliases, domain types), virsh domcapabilities
(CPU models of the host arch's emulator), secrets, networks and storage
pools (virsh lists), and, for a local URI, the capability cache (which also
gives the libvirt and QEMU versions), qemu.conf (settings it leaves unset
are written as libvirt's defaults), the hugetlbfs mounts and whether the
host has IOMMU groups (VFIO). Secret values are never read.

examples:
  domlint host snapshot -o myhost
  domlint host snapshot -c qemu:///session -o myhost
  domlint check --libvirt 9.0 --host myhost/host.yaml guests/
"""

NAME = "host"
CACHE_DIR = "/var/cache/libvirt/qemu/capabilities"

# qemu.conf settings written to the profile: name -> (kind, libvirt's default when unset).
QEMU_CONF: dict[str, tuple[str, Any]] = {
    "vnc_listen": ("str", "127.0.0.1"), "vnc_tls": ("bool", False), "vnc_tls_x509_verify": ("bool", False),
    "vnc_sasl": ("bool", False), "vnc_sasl_dir": ("str", None), "vnc_password": ("str", None),
    "vnc_auto_unix_socket": ("bool", False), "vnc_allow_host_audio": ("bool", False),
    "spice_listen": ("str", "127.0.0.1"), "spice_tls": ("bool", False), "spice_sasl": ("bool", False),
    "spice_sasl_dir": ("str", None), "spice_password": ("str", None),
    "nogfx_allow_host_audio": ("bool", False), "set_process_name": ("bool", False),
    "log_timestamp": ("bool", True),
}


def register(sub: argparse._SubParsersAction) -> None:
    """Add the host subcommand and its snapshot action."""
    p = sub.add_parser(NAME, help="describe a host for --host",
                       description="Write host profiles for --host.",
                       epilog="examples:\n  domlint host snapshot -o myhost\n", formatter_class=FORMATTER)
    hsub = p.add_subparsers(dest="host_command", metavar="ACTION", required=True)
    snap = hsub.add_parser("snapshot", help="a host profile from a real machine's libvirt",
                           description="Write a host profile, with the QEMU capability files it names, from "
                                       "what a running libvirt reports.",
                           epilog=SNAPSHOT_EPILOG, formatter_class=FORMATTER)
    snap.add_argument("-c", "--connect", default="qemu:///system", metavar="URI",
                      help="libvirt connection URI (default: qemu:///system)")
    snap.add_argument("-o", "--output", required=True, metavar="DIR", help="folder to write the profile into")
    snap.add_argument("--qemu-conf", metavar="FILE",
                      help="qemu.conf to read (default for a local URI: /etc/libvirt/qemu.conf, or "
                           "~/.config/libvirt/qemu.conf for qemu:///session)")
    snap.add_argument("--caps-dir", metavar="DIR",
                      help=f"libvirt's QEMU capability cache (default for a local URI: {CACHE_DIR}, or "
                           "~/.cache/libvirt/qemu/capabilities for qemu:///session)")
    snap.add_argument("--virsh", default="virsh", metavar="PROGRAM", help="the virsh program (default: virsh)")
    snap.add_argument("--name", help="the profile's name (default: the host's name)")
    snap.set_defaults(func=run_snapshot)


class Virsh:
    """Runs virsh against one URI."""

    def __init__(self, program: str, uri: str) -> None:
        if shutil.which(program) is None:
            raise UsageError(f"host snapshot: {program} not found (Debian: apt-get install libvirt-clients)")
        self.program, self.uri = program, uri

    def run(self, *words: str, required: bool = True) -> str | None:
        """virsh's standard output; None (or UsageError when required) when it fails."""
        done = subprocess.run([self.program, "-q", "-c", self.uri, *words], capture_output=True, text=True,
                              check=False)
        if done.returncode != 0:
            if required:
                raise UsageError(f"host snapshot: virsh {' '.join(words)}: {done.stderr.strip() or 'failed'}")
            return None
        return done.stdout


def _is_local(uri: str) -> bool:
    # qemu:///system and qemu+unix:///system are local; qemu+ssh://host/system is not.
    return re.match(r"^[a-z0-9+]+:///", uri) is not None


def _guests(caps: etree._Element) -> list[dict[str, Any]]:
    out = []
    for guest in caps.iterfind("guest"):
        if (guest.findtext("os_type") or "").strip() != "hvm":
            continue
        arch_el = guest.find("arch")
        if arch_el is None:
            continue
        machines: list[str] = []
        aliases: dict[str, str] = {}
        for m in arch_el.iterfind("machine"):
            name = (m.text or "").strip()
            if name and name not in machines:
                machines.append(name)
            if name and m.get("canonical"):
                aliases[name] = str(m.get("canonical"))
        entry: dict[str, Any] = {"arch": str(arch_el.get("name")),
                                 "emulator": (arch_el.findtext("emulator") or "").strip(), "machines": machines}
        if aliases:
            entry["aliases"] = aliases
        entry["domain_types"] = [str(d.get("type")) for d in arch_el.iterfind("domain") if d.get("type")]
        if entry["emulator"]:
            out.append(entry)
    return out


def _cpu(caps: etree._Element) -> dict[str, Any]:
    cpu = caps.find("host/cpu")
    if cpu is None:
        return {}
    out: dict[str, Any] = {}
    for key in ("model", "vendor"):
        text = (cpu.findtext(key) or "").strip()
        if text:
            out[key] = text
    features = [str(f.get("name")) for f in cpu.iterfind("feature") if f.get("name")]
    if features:
        out["features"] = features
    return out


def _cpu_models(virsh: Virsh, guest: dict[str, Any]) -> list[str] | None:
    virt = "kvm" if "kvm" in guest.get("domain_types", ()) else "qemu"
    text = virsh.run("domcapabilities", "--emulatorbin", guest["emulator"], "--arch", guest["arch"],
                     "--virttype", virt, required=False)
    if not text:
        return None
    root = etree.fromstring(text.encode())
    models = [(m.text or "").strip() for m in root.iterfind("cpu/mode[@name='custom']/model")]
    return [m for m in dict.fromkeys(models) if m] or None


def _conf_values(text: str) -> dict[str, Any]:
    """qemu.conf's assignments: numbers, strings and lists of strings (its syntax is libvirt's virconf)."""
    out: dict[str, Any] = {}
    # Drop comments outside strings, then read NAME = VALUE, where a list may span lines.
    clean = "\n".join(re.sub(r'#(?=(?:[^"]*"[^"]*")*[^"]*$).*', "", line) for line in text.splitlines())
    for m in re.finditer(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(\[[^\]]*\]|"[^"]*"|\'[^\']*\'|-?\d+)',
                         clean, re.M):
        name, raw = m.group(1), m.group(2)
        if raw.startswith("["):
            out[name] = re.findall(r'"([^"]*)"|\'([^\']*)\'', raw)
            out[name] = [a or b for a, b in out[name]]
        elif raw[0] in "\"'":
            out[name] = raw[1:-1]
        else:
            out[name] = int(raw)
    return out


def _page_size_kib(mount: str, options: str) -> int | None:
    m = re.search(r"pagesize=(\d+)([KMG])", options)
    if m:
        return int(m.group(1)) * {"K": 1, "M": 1024, "G": 1024 * 1024}[m.group(2)]
    try:
        meminfo = Path("/proc/meminfo").read_text()
    except OSError:
        return None
    d = re.search(r"^Hugepagesize:\s+(\d+) kB", meminfo, re.M)
    return int(d.group(1)) if d else None


def _hugetlbfs(wanted: list[str] | None) -> list[dict[str, Any]]:
    """The hugetlbfs mounts libvirtd uses: those qemu.conf names, else every one mounted."""
    try:
        mounts = [line.split() for line in Path("/proc/mounts").read_text().splitlines()]
    except OSError:
        mounts = []
    found = {m[1]: m[3] for m in mounts if len(m) > 3 and m[2] == "hugetlbfs"}
    out = []
    for path in (wanted if wanted is not None else list(found)):
        size = _page_size_kib(path, found.get(path, ""))
        if size:
            out.append({"mount": path, "page_size_kib": size})
    return out


def driver_settings(conf: dict[str, Any], privileged: bool) -> dict[str, Any]:
    """The profile's driver section: qemu.conf's values, libvirt 9.0's defaults where it sets none."""
    out: dict[str, Any] = {"privileged": privileged}
    for name, (kind, default) in QEMU_CONF.items():
        value = conf.get(name, default)
        out[name] = bool(value) if kind == "bool" and value is not None else value
    cert = conf.get("default_tls_x509_cert_dir", "/etc/pki/qemu")
    out["vnc_tls_x509_cert_dir"] = conf.get("vnc_tls_x509_cert_dir", cert)
    out["spice_tls_x509_cert_dir"] = conf.get("spice_tls_x509_cert_dir", cert)
    if "seccomp_sandbox" in conf:
        out["seccomp_sandbox"] = bool(conf["seccomp_sandbox"])
    wanted = conf.get("hugetlbfs_mount")
    if isinstance(wanted, str):
        wanted = [wanted] if wanted else []
    # libvirtd looks for mounts itself only when privileged.
    if wanted is not None or privileged:
        out["hugetlbfs"] = _hugetlbfs(wanted)
    return out


def _secrets(virsh: Virsh) -> list[dict[str, str]] | None:
    text = virsh.run("secret-list", required=False)
    if text is None:
        return None
    out = []
    for line in text.splitlines():
        uuid = line.split()[0] if line.split() else ""
        if not re.fullmatch(r"[0-9a-fA-F-]{32,36}", uuid):
            continue
        entry = {"uuid": uuid}
        xml = virsh.run("secret-dumpxml", uuid, required=False)
        if xml:
            usage = etree.fromstring(xml.encode()).find("usage")
            if usage is not None:
                for child in usage:
                    if isinstance(child.tag, str) and (child.text or "").strip():
                        entry["usage"] = child.text.strip()
                        break
        out.append(entry)
    return out


def _networks(virsh: Virsh) -> dict[str, dict[str, str]] | None:
    names = virsh.run("net-list", "--all", "--name", required=False)
    if names is None:
        return None
    out: dict[str, dict[str, str]] = {}
    for name in filter(None, (n.strip() for n in names.splitlines())):
        xml = virsh.run("net-dumpxml", name, required=False)
        ip = etree.fromstring(xml.encode()).find("ip") if xml else None
        out[name] = {"address": str(ip.get("address"))} if ip is not None and ip.get("address") else {}
    return out


def _pools(virsh: Virsh, folder: Path) -> tuple[list[str], list[str]] | None:
    names = virsh.run("pool-list", "--all", "--name", required=False)
    if names is None:
        return None
    inactive = set(filter(None, (virsh.run("pool-list", "--inactive", "--name", required=False) or "").split()))
    written = []
    for name in filter(None, (n.strip() for n in names.splitlines())):
        xml = virsh.run("pool-dumpxml", name, required=False)
        if xml:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{name}.xml").write_text(xml)
            written.append(name)
    return written, sorted(inactive)


def _copy_caps(caps_dir: Path, out: Path, guests: list[dict[str, Any]]) -> dict[str, str]:
    """Copy the cache file of each guest's emulator into out/qemu-caps; per arch, its path relative to out."""
    by_emulator: dict[str, Path] = {}
    for f in sorted(caps_dir.glob("*.xml")) if caps_dir.is_dir() else []:
        try:
            root = etree.parse(str(f)).getroot()
        except (OSError, etree.XMLSyntaxError):
            continue
        emulator = (root.findtext("emulator") or "").strip()
        if emulator:
            by_emulator[emulator] = f
    table: dict[str, str] = {}
    for g in guests:
        src = by_emulator.get(g["emulator"])
        if src is None:
            continue
        rel = f"qemu-caps/{Path(g['emulator']).name}.xml"
        (out / "qemu-caps").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, out / rel)
        table[g["arch"]] = rel
    return table


def _versions(out: Path, table: dict[str, str], host_arch: str) -> tuple[str | None, int | None]:
    """libvirt's release (which wrote the cache) and the QEMU version, from the host arch's capability file."""
    rel = table.get(host_arch) or next(iter(table.values()), None)
    if rel is None:
        return None, None
    root = etree.parse(str(out / rel)).getroot()
    lib = (root.findtext("selfvers") or "").strip()
    qemu = (root.findtext("version") or "").strip()
    n = int(lib) if lib.isdigit() else None
    return (f"{n // 1000000}.{n // 1000 % 1000}.{n % 1000}" if n else None), (int(qemu) if qemu.isdigit() else None)


def snapshot(uri: str, out: Path, qemu_conf: str | None = None, caps_dir: str | None = None,
             virsh_program: str = "virsh", name: str | None = None) -> Path:
    """Write out/host.yaml and the files it names; return the profile's path."""
    import yaml

    virsh = Virsh(virsh_program, uri)
    caps_text = virsh.run("capabilities") or ""
    caps = etree.fromstring(caps_text.encode())
    out.mkdir(parents=True, exist_ok=True)
    (out / "capabilities.xml").write_text(caps_text)
    local = _is_local(uri)
    host_arch = (caps.findtext("host/cpu/arch") or "x86_64").strip()
    guests = _guests(caps)
    hostname = (virsh.run("hostname", required=False) or "").strip()
    profile: dict[str, Any] = {"name": name or hostname or "snapshot", "arch": host_arch}
    cpu = _cpu(caps)
    if cpu:
        profile["cpu"] = cpu
    native = next((g for g in guests if g["arch"] == host_arch), None)
    models = _cpu_models(virsh, native) if native else None
    if models:
        profile["cpu_models"] = models
    profile["guests"] = guests
    profile["guests_complete"] = True
    privileged = not uri.rstrip("/").endswith("/session")
    if not privileged:
        # A session libvirtd keeps its cache and reads its qemu.conf under the user's home.
        home = Path(os.environ.get("HOME", "~")).expanduser()
        default_cache = Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache") / "libvirt/qemu/capabilities"
        default_conf = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config") / "libvirt/qemu.conf"
    else:
        default_cache, default_conf = Path(CACHE_DIR), Path("/etc/libvirt/qemu.conf")
    if local or caps_dir:
        table = _copy_caps(Path(caps_dir) if caps_dir else default_cache, out, guests)
        if table:
            profile["qemu_caps"] = table
            lib_version, qemu_version = _versions(out, table, host_arch)
            if lib_version:
                profile["libvirt_version"] = lib_version
            if qemu_version:
                profile["qemu_version"] = qemu_version
        else:
            sys.stderr.write(f"host snapshot: no readable capability cache file in {caps_dir or default_cache}; "
                             "domains are judged under the built-in profiles\n")
    conf_path = qemu_conf or (str(default_conf) if local else None)
    if conf_path is not None or local:
        conf: dict[str, Any] = {}
        if conf_path and Path(conf_path).is_file():
            conf = _conf_values(Path(conf_path).read_text(encoding="utf-8", errors="replace"))
        elif qemu_conf:
            raise UsageError(f"host snapshot: --qemu-conf {qemu_conf}: no such file")
        profile["driver"] = driver_settings(conf, privileged)
    if local:
        groups = Path("/sys/kernel/iommu_groups")
        # libvirt 9.0 assigns PCI devices only through VFIO, which needs IOMMU groups.
        profile["pci_backend"] = "vfio" if groups.is_dir() and any(groups.iterdir()) else None
    secrets = _secrets(virsh)
    if secrets is not None:
        profile["secrets"] = secrets
    networks = _networks(virsh)
    if networks is not None:
        profile["network_driver"] = True
        profile["networks"] = networks
    pools = _pools(virsh, out / "storage-pools")
    if pools is not None and pools[0]:
        profile["storage_pools"] = "storage-pools"
        if pools[1]:
            profile["inactive_pools"] = pools[1]
    path = out / "host.yaml"
    head = (f"# A snapshot of {uri} by `domlint host snapshot`; use it with --host {path}.\n"
            "# Facts left out are unknown: the rules that need them stay silent.\n")
    path.write_text(head + yaml.safe_dump(profile, sort_keys=False, default_flow_style=None, width=110))
    return path


def run_snapshot(args: argparse.Namespace) -> int:
    """Write the snapshot and check that it loads as a host profile."""
    from ..host import load

    path = snapshot(args.connect, Path(args.output), args.qemu_conf, args.caps_dir, args.virsh, args.name)
    host = load(path)
    sys.stdout.write(f"{path}: {len(host.guests)} guest arch(s), capability files for "
                     f"{', '.join(sorted(host.qemu_caps)) or 'no arch'}\n")
    return EXIT_OK
