"""Turning a rule example (a fragment or a whole domain) into a document."""

from __future__ import annotations

from lxml import etree

from .parse import Document, parse_bytes

# Children of <domain> itself; every other fragment is a device.
DOMAIN_CHILDREN = frozenset({
    "name", "uuid", "title", "description", "metadata", "memory", "currentMemory",
    "maxMemory", "memoryBacking", "blkiotune", "memtune", "vcpu", "cputune", "numatune",
    "resource", "sysinfo", "os", "idmap", "features", "cpu", "clock", "on_poweroff",
    "on_reboot", "on_crash", "on_lockfailure", "pm", "seclabel", "iothreads", "devices",
    "keywrap",
})

SKELETON = b"""<domain type='qemu'>
  <name>example</name>
  <uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>
  <memory unit='KiB'>219136</memory>
  <vcpu placement='static'>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
  </os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
  </devices>
</domain>
"""


def with_repeat(xml: str, repeat: dict) -> str:
    """An example's XML with `repeat: {xml, count}` applied: the fragment count times more devices.

    For a fragment example the copies are appended (they go under <devices>); for a whole
    domain they go at the end of its <devices>. This lets an example reach a limit of tens of
    thousands of devices without spelling them out.
    """
    more = str(repeat["xml"]).strip() * int(repeat["count"])
    text = xml.strip()
    if not text.startswith("<domain"):
        return f"{text}\n{more}"
    at = text.rfind("</devices>")
    if at < 0:
        raise ValueError("a repeated fragment needs a whole domain with a <devices> element")
    return text[:at] + more + text[at:]


def example_document(xml: str, name: str = "<example>") -> Document:
    """A whole domain from an example: used as is, or its fragments wrapped into a minimal one."""
    text = xml.strip()
    if text.startswith("<domain"):
        return parse_bytes(text.encode(), name)
    frags = etree.fromstring(f"<fragments>{text}</fragments>".encode(),
                             etree.XMLParser(resolve_entities=False, no_network=True))
    root = etree.fromstring(SKELETON)
    devices = root.find("devices")
    for frag in frags:
        if not isinstance(frag.tag, str):
            continue
        if frag.tag in DOMAIN_CHILDREN:
            old = root.find(frag.tag)
            if old is not None and frag.tag != "seclabel":
                root.replace(old, frag)
            else:
                devices.addprevious(frag)
        else:
            devices.append(frag)
    data = etree.tostring(root, pretty_print=True)
    return parse_bytes(data, name)
