"""A finding's identity that survives edits: its element named the way the user names the device.

A positional XPath (`/domain/devices/disk[2]/driver`) changes for every finding below a
device when one device is added above it. Here each step is named by what identifies it
in libvirt's own vocabulary: a disk by its target (`disk[vda]`), an interface by its MAC
address or alias, a controller by type and index, a character device by its type and
port, a host device by its source address, and so on; the position among siblings of the
same name is used only for a step nothing else names. Baselines and SARIF fingerprints
key on it, so adding, removing or reordering other devices leaves a finding's identity
alone.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

Namer = Callable[[etree._Element], str | None]


def _attr(path: str, name: str) -> Namer:
    """The value of attribute name of the child at path ('' for the element itself)."""

    def get(el: etree._Element) -> str | None:
        node = el.find(path) if path else el
        value = node.get(name) if node is not None else None
        return value.strip() if value and value.strip() else None

    return get


def _text(path: str) -> Namer:
    """The text of the child at path."""

    def get(el: etree._Element) -> str | None:
        node = el.find(path)
        text = node.text if node is not None else None
        return text.strip() if text and text.strip() else None

    return get


def _first(*namers: Namer) -> Namer:
    def get(el: etree._Element) -> str | None:
        for n in namers:
            value = n(el)
            if value:
                return value
        return None

    return get


def _joined(*namers: Namer) -> Namer:
    """Each part's value joined by ':', or None when the first is missing."""

    def get(el: etree._Element) -> str | None:
        parts = [n(el) for n in namers]
        if not parts[0]:
            return None
        return ":".join(p for p in parts if p)

    return get


def _hostdev(el: etree._Element) -> str | None:
    """A host device by its source: PCI address, USB vendor:product or bus.device, SCSI adapter:address."""
    src = el.find("source")
    if src is None:
        return None
    addr = src.find("address")
    kind = el.get("type", "")
    if kind == "pci" and addr is not None:
        return f"pci:{addr.get('domain', '0')}:{addr.get('bus', '0')}:{addr.get('slot', '0')}.{addr.get('function', '0')}"
    if kind == "usb":
        vendor, product = src.find("vendor"), src.find("product")
        if vendor is not None and product is not None:
            return f"usb:{vendor.get('id')}:{product.get('id')}"
        if addr is not None:
            return f"usb:{addr.get('bus')}.{addr.get('device')}"
    if kind == "scsi":
        adapter = src.find("adapter")
        if adapter is not None and addr is not None:
            return f"scsi:{adapter.get('name')}:{addr.get('bus')}:{addr.get('target')}:{addr.get('unit')}"
    if kind == "scsi_host":
        return _attr("source", "wwpn")(el)
    if kind == "mdev" and addr is not None:
        return f"mdev:{addr.get('uuid')}"
    return None


_ALIAS = _attr("alias", "name")
_CHARDEV = _joined(_attr("target", "type"), _attr("target", "port"))

# How each element a domain may hold several of is named; a user alias (<alias name='ua-...'/>)
# names any device that has no better name.
NAMES: dict[str, Namer] = {
    "disk": _first(_attr("target", "dev"), _ALIAS),
    "interface": _first(_attr("mac", "address"), _ALIAS, _attr("target", "dev"),
                        _joined(_attr("", "type"), _first(_attr("source", "network"), _attr("source", "bridge"),
                                                          _attr("source", "dev"), _attr("source", "name")))),
    "controller": _joined(_attr("", "type"), _attr("", "index")),
    "serial": _first(_joined(_attr("", "type"), _attr("target", "port")), _ALIAS),
    "parallel": _first(_joined(_attr("", "type"), _attr("target", "port")), _ALIAS),
    "console": _first(_joined(_attr("", "type"), _attr("target", "port")), _CHARDEV, _ALIAS),
    "channel": _first(_attr("target", "name"), _joined(_attr("", "type"), _attr("target", "port")), _ALIAS),
    "hostdev": _first(_hostdev, _ALIAS),
    "filesystem": _first(_attr("target", "dir"), _ALIAS),
    "redirdev": _first(_ALIAS, _joined(_attr("", "bus"), _attr("", "type"))),
    "input": _first(_ALIAS, _joined(_attr("", "type"), _attr("", "bus"))),
    "graphics": _first(_ALIAS, _attr("", "type")),
    "video": _first(_ALIAS, _attr("model", "type")),
    "sound": _first(_ALIAS, _attr("", "model")),
    "watchdog": _first(_ALIAS, _attr("", "model")),
    "rng": _first(_ALIAS, _attr("", "model")),
    "memballoon": _first(_ALIAS, _attr("", "model")),
    "tpm": _first(_ALIAS, _attr("", "model")),
    "smartcard": _first(_ALIAS, _attr("", "mode")),
    "shmem": _attr("", "name"),
    "memory": _first(_ALIAS, _joined(_attr("", "model"), _text("target/node"), _attr("address", "base"))),
    "lease": _joined(_text("lockspace"), _text("key")),
    "hub": _ALIAS,
    "panic": _first(_ALIAS, _attr("", "model")),
    "vsock": _ALIAS,
    "iommu": _attr("", "model"),
    "host": _joined(_attr("", "name"), _attr("", "port")),
    # Outside <devices>: what libvirt itself keys these on.
    "feature": _attr("", "name"),
    "cell": _attr("", "id"),
    "vcpupin": _attr("", "vcpu"),
    "iothreadpin": _attr("", "iothread"),
    "emulatorpin": _ALIAS,
    "page": _attr("", "size"),
    "boot": _attr("", "dev"),
    "timer": _attr("", "name"),
    "sysinfo": _attr("", "type"),
    "entry": _attr("", "name"),
    "seclabel": _attr("", "model"),
    "qemu:arg": _attr("", "value"),
    "qemu:env": _attr("", "name"),
}


def _step_name(el: etree._Element) -> str:
    q = etree.QName(el)
    return f"{el.prefix}:{q.localname}" if el.prefix else q.localname


def _named(el: etree._Element, name: str) -> str | None:
    namer = NAMES.get(name)
    return namer(el) if namer else None


def element_key(el: etree._Element) -> str:
    """The identity of el: `/domain/devices/disk[vda]/driver`, names in brackets, positions only as a last resort."""
    steps: list[str] = []
    node: etree._Element | None = el
    while node is not None:
        if not isinstance(node.tag, str):
            node = node.getparent()
            continue
        name = _step_name(node)
        value = _named(node, name)
        parent = node.getparent()
        if value is not None:
            same = [s for s in parent.iterchildren(node.tag) if _named(s, name) == value] if parent is not None else [node]
            # Two devices named alike (a mistake a rule may be about): tell them apart by order.
            steps.append(f"{name}[{value}]" if len(same) < 2 else f"{name}[{value}#{same.index(node) + 1}]")
        elif parent is not None:
            siblings = list(parent.iterchildren(node.tag))
            # A device kind that repeats keeps its position even when alone, so a second one added
            # later does not rename the first.
            alone = len(siblings) == 1 and name not in NAMES
            steps.append(name if alone else f"{name}[{siblings.index(node) + 1}]")
        else:
            steps.append(name)
        node = parent
    return "/" + "/".join(reversed(steps))


def finding_key(tree: etree._ElementTree, xpath: str) -> str:
    """The identity of the element at xpath in tree, or xpath itself when it selects none."""
    try:
        hits = tree.xpath(xpath)
    except etree.XPathError:
        return xpath
    if isinstance(hits, list) and hits and isinstance(hits[0], etree._Element):
        return element_key(hits[0])
    return xpath
