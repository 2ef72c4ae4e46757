"""`virsh attach-device --config`, checked before it happens.

libvirt 1.2.8 parses the device on its own, refuses some merges outright
(a disk target that is taken, a controller index that exists, the same host
device twice, ...), inserts the device into a copy of the persistent
definition, adds implicit controllers and assigns addresses, and saves it.
Whatever else is wrong only shows at the next start. Here the device is
merged into a copy of the domain the same way, the merge refusals become
findings, and every rule runs over the result. Nothing is ever written.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from lxml import etree

from . import numbers
from .caps import all_caps
from .domain import foreign_hypervisor, normalise
from .engine import Engine, matches_id
from .errors import InputError
from .findings import Finding
from .host import Host
from .parse import Document, parse_bytes
from .record import replace
from .target import Target, resolve

# Root elements `attach-device --config` accepts: those of libvirt 1.2.8
# (qemuDomainAttachDeviceConfig; serial, parallel, console and channel are all
# character devices there), plus those later libvirt adds to a persistent
# definition too (rng, watchdog, sound, input, redirdev, smartcard, hub), so a
# user of a newer virsh can precheck them against what 1.2.8's QEMU side accepts.
PERSISTENT = frozenset({"disk", "interface", "hostdev", "controller", "lease", "filesystem",
                        "serial", "parallel", "console", "channel",
                        "rng", "watchdog", "sound", "input", "redirdev", "smartcard", "hub"})
# Device elements a domain has once at most, or changes rather than adds: virsh edit, not attach.
LIVE_OR_EDIT_ONLY = frozenset({"video", "graphics", "memballoon", "nvram", "panic", "tpm"})
# Devices a domain has at most one of.
SINGLE = frozenset({"watchdog", "smartcard"})
CHARDEVS = frozenset({"serial", "parallel", "console", "channel"})
# checks.tsv rows of qemuCheckDiskConfig: attach --config runs it on the new
# disk before merging, whatever the QEMU can do, so rules covering these rows
# judge the new disk with every capability taken as present.
DISK_CONFIG_ROWS = frozenset({"Q055", "Q056", "Q057", "Q058", "Q059", "Q060", "Q061", "Q062"})

STAGE = "attach"


class VirshError(InputError):
    """virsh is missing, or could not give the domain's definition."""


@dataclass
class Merge:
    """A domain with one device added as `attach-device --config` adds it."""

    domain: Document        # the domain as given
    device: Document        # DEVICE.xml as given
    before: Document        # the domain alone, normalised
    after: Document         # the domain with the device, normalised
    new: etree._Element     # the device inside `after`
    new_path: str           # its XPath in `after`
    source_paths: frozenset[str]   # XPaths of the domain's own elements (same in before and after)

    def device_part(self, xpath: str) -> str | None:
        """The path below the device root for an XPath inside the device, else None."""
        if xpath == self.new_path:
            return ""
        if xpath.startswith(self.new_path + "/"):
            return xpath[len(self.new_path):]
        return None


def device_document(doc: Document) -> Document:
    """DEVICE.xml itself, once its root is known to be one device that `--config` accepts."""
    path = doc.path
    tag = doc.root.tag
    if tag in PERSISTENT:
        # Its numbers are judged here, so that a refusal names DEVICE.xml rather than the merged domain.
        numbers.check_device(doc.root, path)
        return doc
    if tag in LIVE_OR_EDIT_ONLY:
        raise InputError(path, doc.root.sourceline,
                         f"attach-device --config does not add a <{tag}>; "
                         "change it with virsh edit (or define the whole domain) instead")
    if tag == "domain":
        raise InputError(path, doc.root.sourceline,
                         "this is a whole domain; give one device element such as <disk> or <interface>")
    raise InputError(path, doc.root.sourceline,
                     f"<{tag}> is not a device attach-device --config accepts; expected one of "
                     + ", ".join(f"<{t}>" for t in sorted(PERSISTENT)))


def not_judged(domain: Document, target: Target | str | None = None) -> str | None:
    """Why a device added to domain is not judged (the domain is for another hypervisor), or None.

    Domains of libvirt's test driver stand in for QEMU ones (`--connect test:///default`) and are judged.
    """
    if domain.root.get("type") == "test":
        return None
    return foreign_hypervisor(domain, resolve(target))


def _as_qemu_guest(root: etree._Element) -> None:
    # The libvirt test driver's domains stand in for real ones; judge them as QEMU guests.
    if root.get("type") == "test":
        root.set("type", "qemu")


def merge(domain: Document, device: Document, host: Host, target: Target | str | None = None) -> Merge:
    """Copy the domain, append the device to its <devices>, normalise both copies."""
    tree = copy.deepcopy(domain.tree)
    root = tree.getroot()
    _as_qemu_guest(root)
    devices = root.find("devices")
    if devices is None:
        devices = etree.SubElement(root, "devices")
        devices.sourceline = root.sourceline
    source_paths = frozenset(tree.getpath(el) for el in root.iter() if isinstance(el.tag, str))
    before = Document(domain.path, domain.data, copy.deepcopy(tree))
    normalise(before, host, target)
    new = copy.deepcopy(device.root)
    new.tail = "\n"
    # Appended last, so every element of the domain keeps its XPath.
    devices.append(new)
    after = Document(domain.path, domain.data, tree)
    normalise(after, host, target)
    return Merge(domain, device, before, after, new, tree.getpath(new), source_paths)


# ---------------------------------------------------------------- refusals

def _num(text: str | None, default: int | None = 0) -> int | None:
    """An attribute number as libvirt reads it (decimal or 0x hex), default when absent or bad."""
    if text is None:
        return default
    t = text.strip()
    try:
        return int(t, 0)
    except ValueError:
        try:
            return int(t, 10)
        except ValueError:
            return default


def _devices(doc: Document) -> list[etree._Element]:
    devices = doc.root.find("devices")
    return [] if devices is None else [el for el in devices if isinstance(el.tag, str)]


def _hostdev_key(hd: etree._Element) -> tuple[object, ...] | None:
    """What makes two host devices the same one, as libvirt 1.2.8 compares them."""
    mode = hd.get("mode", "subsystem")
    kind = hd.get("type", "")
    src = hd.find("source")
    if src is None:
        return None
    if mode == "capabilities":
        field = {"storage": "block", "misc": "char", "net": "interface"}.get(kind)
        return (mode, kind, src.findtext(field or "", default=None))
    if kind == "pci":
        a = src.find("address")
        if a is None:
            return None
        return (mode, kind, _num(a.get("domain")), _num(a.get("bus")), _num(a.get("slot")),
                _num(a.get("function")))
    if kind == "usb":
        a = src.find("address")
        bus, dev = (_num(a.get("bus")), _num(a.get("device"))) if a is not None else (0, 0)
        if bus and dev:
            return (mode, kind, "at", bus, dev)
        return (mode, kind, "id", _num(src.find("vendor").get("id") if src.find("vendor") is not None else None),
                _num(src.find("product").get("id") if src.find("product") is not None else None))
    if kind == "scsi":
        if src.get("protocol") == "iscsi":
            h = src.find("host")
            return (mode, kind, "iscsi", h.get("name") if h is not None else None,
                    h.get("port", "3260") if h is not None else None, src.get("name"))
        a, adapter = src.find("address"), src.find("adapter")
        if a is None or adapter is None:
            return None
        return (mode, kind, adapter.get("name"), _num(a.get("bus")), _num(a.get("target")), _num(a.get("unit")))
    return None


def _address_key(dev: etree._Element) -> tuple[object, ...] | None:
    """Where a device sits on its bus, comparable across devices; None when it has no fixed place."""
    a = dev.find("address")
    if a is None:
        return None
    kind = a.get("type")
    if kind == "pci":
        return (kind, _num(a.get("domain")), _num(a.get("bus")), _num(a.get("slot")), _num(a.get("function")))
    if kind == "drive":
        bus = None
        if dev.tag == "disk":
            target = dev.find("target")
            bus = target.get("bus") if target is not None else None
        elif dev.tag == "hostdev":
            bus = "scsi"
        return (kind, bus, _num(a.get("controller")), _num(a.get("bus")), _num(a.get("target")),
                _num(a.get("unit")))
    if kind == "virtio-serial" and a.get("port") is not None:
        return (kind, _num(a.get("controller")), _num(a.get("bus")), _num(a.get("port")))
    if kind == "ccid":
        return (kind, _num(a.get("controller")), _num(a.get("slot")))
    if kind == "usb" and a.get("port") is not None:
        return (kind, _num(a.get("bus")), a.get("port"))
    if kind == "spapr-vio" and a.get("reg") is not None:
        return (kind, _num(a.get("reg")))
    if kind == "ccw":
        return (kind, _num(a.get("cssid")), _num(a.get("ssid")), _num(a.get("devno")))
    return None


def _describe_address(key: tuple[object, ...]) -> str:
    kind = key[0]
    if kind == "pci":
        return "PCI address {:04x}:{:02x}:{:02x}.{:x}".format(*key[1:])
    if kind == "drive":
        return "{} drive address controller {} bus {} target {} unit {}".format(*key[1:])
    return f"{kind} address " + " ".join(str(k) for k in key[1:])


def _chardev_ports(els: list[etree._Element]) -> list[int | None]:
    """Each serial, parallel or console port: as given, else one above the highest before it."""
    ports: list[int | None] = []
    for el in els:
        target = el.find("target")
        port = _num(target.get("port") if target is not None else None, None)
        if port is None and el.tag != "channel":
            port = max((p for p in ports if p is not None), default=-1) + 1
        ports.append(port)
    return ports


def _console_target(el: etree._Element) -> str:
    target = el.find("target")
    # A console with no target type is a serial console (libvirt's post-parse default).
    return (target.get("type") if target is not None else None) or "serial"


def _chardev_same(a: etree._Element, b: etree._Element, a_port: int | None, b_port: int | None) -> bool:
    """Same kind, same host side, same guest side: libvirt's notion of one character device."""
    if a.tag != b.tag or a.get("type", "pty") != b.get("type", "pty"):
        return False

    def host_side(el: etree._Element) -> tuple[object, ...]:
        return (tuple(sorted(tuple(sorted(s.attrib.items())) for s in el.findall("source"))),
                el.find("protocol").get("type") if el.find("protocol") is not None else None)

    if host_side(a) != host_side(b):
        return False
    ta, tb = a.find("target"), b.find("target")
    ga = dict(ta.attrib) if ta is not None else {}
    gb = dict(tb.attrib) if tb is not None else {}
    if a.tag == "channel":
        if ga.get("type") != gb.get("type"):
            return False
        if ga.get("type") == "virtio":
            return ga.get("name") == gb.get("name")
        return (ga.get("address"), ga.get("port")) == (gb.get("address"), gb.get("port"))
    if a.tag == "serial" and ga.get("type") != gb.get("type"):
        return False
    return a_port is not None and a_port == b_port


@dataclass(frozen=True)
class Refusal:
    """One way libvirt refuses to merge a device; checked in Python, named like a rule."""

    id: str
    summary: str
    tags: frozenset[str]
    find: Callable[[Merge], Iterator[tuple[str, str]]]   # yields (message, hint)


def _line_of(m: Merge, el: etree._Element) -> str:
    return f"{m.domain.path}:{el.sourceline}"


def _hostdev_name(hd: etree._Element) -> str:
    key = _hostdev_key(hd)
    if key and key[1] == "pci":
        return "PCI host device {:04x}:{:02x}:{:02x}.{:x}".format(*key[2:])
    kind = hd.get("type", "")
    return f"{kind.upper() if kind in ('pci', 'usb', 'scsi') else kind} host device".strip()


def _device_name(el: etree._Element) -> str:
    """How a message names a device: 'disk vdb', 'interface', 'PCI host device 0000:06:12.5'."""
    if el.tag == "hostdev":
        return _hostdev_name(el)
    t = el.find("target")
    if el.tag == "disk" and t is not None and t.get("dev"):
        return f"disk {t.get('dev')}"
    if el.tag == "controller":
        return f"controller type='{el.get('type')}' index='{el.get('index', '0')}'"
    return el.tag


def _disk_target_used(m: Merge) -> Iterator[tuple[str, str]]:
    dev = m.new.find("target").get("dev") if m.new.find("target") is not None else None
    for other in _devices(m.before):
        t = other.find("target")
        if other.tag == "disk" and dev and t is not None and t.get("dev") == dev:
            yield (f"disk {dev}: the domain already has a disk with target '{dev}' ({_line_of(m, other)})",
                   "pick a target name no other disk uses (virsh domblklist DOMAIN lists them)")
            return


def _hostdev_duplicate(m: Merge) -> Iterator[tuple[str, str]]:
    key = _hostdev_key(m.new)
    for other in _devices(m.before):
        if key is not None and other.tag == "hostdev" and _hostdev_key(other) == key:
            yield (f"{_hostdev_name(m.new)}: already assigned to the domain ({_line_of(m, other)})",
                   "a host device can be given to a guest only once; leave it out, or pick another one")
            return


def _controller_exists(m: Merge) -> Iterator[tuple[str, str]]:
    kind, idx = m.new.get("type"), _num(m.new.get("index"))
    for other in _devices(m.before):
        if other.tag == "controller" and other.get("type") == kind and _num(other.get("index")) == idx:
            where = (_line_of(m, other) if m.before.tree.getpath(other) in m.source_paths
                     else "one libvirt adds by itself")
            yield (f"controller type='{kind}' index='{idx}': the domain already has one ({where})",
                   "use an index no controller of this type has, or change the existing controller with virsh edit")
            return


def _filesystem_target_used(m: Merge) -> Iterator[tuple[str, str]]:
    t = m.new.find("target")
    target = t.get("dir") if t is not None else None
    for other in _devices(m.before):
        ot = other.find("target")
        if other.tag == "filesystem" and target and ot is not None and ot.get("dir") == target:
            yield (f"filesystem {target}: the domain already has a filesystem with this target "
                   f"({_line_of(m, other)})",
                   "give the filesystem a target no other filesystem uses")
            return


def _lease_duplicate(m: Merge) -> Iterator[tuple[str, str]]:
    # libvirt 1.2.8 only recognises the same lease when neither names a lockspace.
    key, space = m.new.findtext("key"), m.new.findtext("lockspace")
    for other in _devices(m.before):
        if (other.tag == "lease" and space is None and other.findtext("lockspace") is None
                and key is not None and other.findtext("key") == key):
            yield (f"lease {key}: the domain already holds this lease ({_line_of(m, other)})", "leave the lease out")
            return


def _console_serial(m: Merge) -> Iterator[tuple[str, str]]:
    if _console_target(m.new) == "serial":
        yield ("console: libvirt cannot add a console on a serial target with attach-device --config",
               "add a <serial> device instead (its first one doubles as the console), "
               "or use <target type='virtio'/> for the console")


def _chardev_duplicate(m: Merge) -> Iterator[tuple[str, str]]:
    same_kind = [el for el in _devices(m.before) if el.tag == m.new.tag]
    *ports, new_port = _chardev_ports([*same_kind, m.new])
    for other, port in zip(same_kind, ports, strict=True):
        if _chardev_same(m.new, other, new_port, port):
            yield (f"{m.new.tag}: the domain already has this {m.new.tag}, same host side and target "
                   f"({_line_of(m, other)})",
                   "leave it out, or give it another target port or name")
            return


def _usb_without_controller(m: Merge) -> Iterator[tuple[str, str]]:
    t = m.new.find("target")
    usb = ((m.new.tag == "disk" and t is not None and t.get("bus") == "usb")
           or (m.new.tag == "hostdev" and m.new.get("mode", "subsystem") == "subsystem"
               and m.new.get("type") == "usb"))
    if not usb or m.before.root.findtext("os/type") == "exe":
        return
    if not any(c.tag == "controller" and c.get("type") == "usb" and c.get("model") != "none"
               for c in _devices(m.before)):
        yield (f"{_device_name(m.new)}: a USB device, but the domain has no USB controller",
               "add a <controller type='usb'/> to the domain first, or put the device on another bus")


def _single_exists(m: Merge) -> Iterator[tuple[str, str]]:
    for other in _devices(m.before):
        if other.tag == m.new.tag:
            yield (f"<{m.new.tag}>: the domain already has one ({_line_of(m, other)}), and it can have only one",
                   f"change the existing <{m.new.tag}> with virsh edit instead of adding a second")
            return


def _address_used(m: Merge) -> Iterator[tuple[str, str]]:
    key = _address_key(m.new)
    if key is None:
        return
    for other in _devices(m.before):
        if _address_key(other) == key:
            where = _line_of(m, other) if m.before.tree.getpath(other) in m.source_paths else "added by libvirt"
            yield (f"{_device_name(m.new)}: {_describe_address(key)} is already taken by <{other.tag}> ({where})",
                   "remove the <address> element so libvirt picks a free one, or choose a free address")
            return


REFUSALS = (
    Refusal("attach-disk-target-used", "the disk's target name is taken", frozenset({"disk"}), _disk_target_used),
    Refusal("attach-hostdev-duplicate", "the host device is assigned already", frozenset({"hostdev"}),
            _hostdev_duplicate),
    Refusal("attach-controller-exists", "a controller of this type and index exists", frozenset({"controller"}),
            _controller_exists),
    Refusal("attach-filesystem-target-used", "the filesystem's target is taken", frozenset({"filesystem"}),
            _filesystem_target_used),
    Refusal("attach-lease-duplicate", "the lease is there already", frozenset({"lease"}), _lease_duplicate),
    Refusal("attach-console-serial", "a serial console cannot be attached", frozenset({"console"}), _console_serial),
    Refusal("attach-chardev-duplicate", "the character device is there already", CHARDEVS, _chardev_duplicate),
    Refusal("attach-usb-no-controller", "a USB device needs a USB controller", frozenset({"disk", "hostdev"}),
            _usb_without_controller),
    Refusal("attach-single-exists", "the domain can have only one such device", SINGLE, _single_exists),
    Refusal("attach-address-used", "the device's address is taken", PERSISTENT, _address_used),
)
REFUSAL_IDS = tuple(r.id for r in REFUSALS)


# ---------------------------------------------------------------- locations

def _device_element(m: Merge, part: str) -> etree._Element:
    """The element of DEVICE.xml at a path below the root, or its nearest ancestor there."""
    base = m.device.tree.getpath(m.device.root)
    while part:
        found = m.device.tree.xpath(base + part)
        if found:
            return found[0]
        part = part.rsplit("/", 1)[0]
    return m.device.root


def _created_key(doc: Document, el: etree._Element) -> tuple[object, ...]:
    parent = el.getparent()
    return (doc.tree.getpath(parent) if parent is not None else "", el.tag, tuple(sorted(el.attrib.items())))


def locate(m: Merge, findings: Iterable[Finding]) -> list[Finding]:
    """Point each finding at DEVICE.xml when it concerns the device, else at the domain."""
    implied_by_domain = {_created_key(m.before, el) for el in m.before.root.iter()
                         if isinstance(el.tag, str) and m.before.tree.getpath(el) not in m.source_paths}
    out = []
    for f in findings:
        part = m.device_part(f.xpath)
        if part is None and f.xpath not in m.source_paths:
            # Added by normalisation: the device's doing unless the domain alone implies it too.
            found = m.after.tree.xpath(f.xpath)
            if found and _created_key(m.after, found[0]) not in implied_by_domain:
                part = ""
        if part is None:
            out.append(f)
            continue
        el = _device_element(m, part)
        root_path = m.device.tree.getpath(m.device.root)
        out.append(replace(f, path=m.device.path, line=el.sourceline or 1, column=m.device.column(el),
                           xpath=root_path + part if f.xpath != m.new_path else root_path))
    return out


def refusals(m: Merge, select: set[str] | None = None, ignore: set[str] | None = None) -> list[Finding]:
    """The merges libvirt refuses, as findings on the device."""
    out = []
    for r in REFUSALS:
        if m.new.tag not in r.tags:
            continue
        if (select and not matches_id(r.id, select)) or (ignore and matches_id(r.id, ignore)):
            continue
        for message, hint in r.find(m):
            out.append(Finding(rule_id=r.id, severity="error", message=message, hint=hint,
                               path=m.device.path, line=m.device.root.sourceline or 1,
                               column=m.device.column(m.device.root),
                               xpath=m.device.tree.getpath(m.device.root), stage=STAGE))
    return out


def _disk_config_findings(m: Merge, engine: Engine, host: Host, select: set[str] | None,
                          ignore: set[str] | None) -> list[Finding]:
    """Findings on the new disk of rules for qemuCheckDiskConfig, checked whatever the QEMU."""
    if m.new.tag != "disk":
        return []
    ids = {r.id for r in engine.rules if DISK_CONFIG_ROWS & set(r.upstream)
           and (not select or matches_id(r.id, select))}
    if not ids:
        return []
    found = engine.evaluate(m.after, all_caps(engine.target), ids, ignore, host=host)
    return [f for f in locate(m, found) if f.path == m.device.path]


def check_merge(m: Merge, engine: Engine, caps: frozenset[str], host: Host,
                select: set[str] | None = None, ignore: set[str] | None = None) -> list[Finding]:
    """Merge refusals plus every rule's findings on the merged domain, located."""
    found = refusals(m, select, ignore)
    if found:
        # libvirt refuses the device before it parses the merged definition: nothing else is checked.
        return sorted(found, key=lambda f: (f.path, f.line, f.column, f.rule_id))
    found += locate(m, engine.evaluate(m.after, caps, select, ignore, host=host))
    seen = {(f.rule_id, f.path, f.line, f.column) for f in found}
    found += [f for f in _disk_config_findings(m, engine, host, select, ignore)
              if (f.rule_id, f.path, f.line, f.column) not in seen]
    found.sort(key=lambda f: (f.path != m.device.path, f.path, f.line, f.column, f.rule_id))
    return found


# ---------------------------------------------------------------- virsh

VIRSH_MISSING = ("virsh is not installed, so the domain cannot be read by name; install it "
                 "(Debian/Ubuntu: apt-get install libvirt-clients; Fedora: dnf install libvirt-client) "
                 "or give the domain XML file instead")


def dumpxml(name: str, uri: str | None = None, virsh: str | None = None, timeout: float = 120,
            inactive: bool = True) -> Document:
    """The inactive definition of a domain (the running one if not inactive), read with
    `virsh [-c URI] dumpxml [--inactive] NAME`."""
    label = f"dumpxml:{name}"
    exe = virsh or shutil.which("virsh")
    if not exe:
        raise VirshError("virsh", None, VIRSH_MISSING)
    cmd = [exe, *(["-c", uri] if uri else []), "dumpxml", *(["--inactive"] if inactive else []), "--domain", name]
    env = dict(os.environ, LC_ALL="C")
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, env=env, check=False)
    except FileNotFoundError:
        raise VirshError("virsh", None, VIRSH_MISSING) from None
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise VirshError(label, None, f"cannot run virsh: {exc}") from None
    if proc.returncode != 0:
        err = next((ln.strip() for ln in proc.stderr.decode(errors="replace").splitlines() if ln.strip()),
                   f"exit status {proc.returncode}")
        shown = " ".join(["virsh", *cmd[1:]])
        raise VirshError(label, None, f"`{shown}` failed: {err}")
    return parse_bytes(proc.stdout, label)


__all__ = ["LIVE_OR_EDIT_ONLY", "PERSISTENT", "REFUSAL_IDS", "Merge", "VirshError", "check_merge",
           "device_document", "dumpxml", "locate", "merge", "refusals"]
