"""One pass over a domain's tree, shared by number reading, normalisation and the select index.

Checking a domain used to walk its tree three times over (number reading for the
element names it holds, the engine for its facts) and have each normalisation
step look through <devices> again for its own kind of device. A Walk reads the
tree once, dispatching each element by tag: every element name, attribute name
and attribute (name, value) pair goes into the facts the engine's select index
needs (selectors.document_facts, the same facts), and each child of <devices>
is filed under its tag, in document order, for the steps that fill in a device's
defaults.

Normalisation then changes the tree only through add() and set(), which keep
both up to date, so the facts are those of the normalised domain without a
second walk. They may hold more than the tree does (a number respelled, an
empty element dropped): that only wakes a select that finds nothing. They must
never hold less, which tests/test_walk.py checks on every conformance case.
"""

from __future__ import annotations

from lxml import etree

from .selectors import Fact


def _visit(el: etree._Element, add: object) -> None:
    """Add the facts of el and everything under it."""
    for node in el.iter():
        add(node.tag)  # type: ignore[operator]
        for pair in node.items():
            add(pair)  # type: ignore[operator]
            add("@" + pair[0])  # type: ignore[operator]


class Walk:
    """What one pass over a domain found: its facts, and the children of its <devices> by tag."""

    __slots__ = ("by_tag", "devices", "facts")

    def __init__(self, root: etree._Element) -> None:
        self.facts: set[Fact] = set()
        add = self.facts.add
        self.devices: etree._Element | None = None
        self.by_tag: dict[object, list[etree._Element]] = {}
        add(root.tag)
        for pair in root.items():
            add(pair)
            add("@" + pair[0])
        for child in root:
            # The first <devices> is the one libvirt and normalisation read.
            if self.devices is None and child.tag == "devices":
                self.devices = child
                add(child.tag)
                for pair in child.items():
                    add(pair)
                    add("@" + pair[0])
                by_tag = self.by_tag
                for dev in child:
                    found = by_tag.get(dev.tag)
                    if found is None:
                        by_tag[dev.tag] = [dev]
                    else:
                        found.append(dev)
                    _visit(dev, add)
            else:
                _visit(child, add)

    def of(self, devices: etree._Element, tag: str) -> list[etree._Element]:
        """The children of devices named tag, in document order (a copy: steps add devices as they go)."""
        if devices is self.devices:
            return list(self.by_tag.get(tag, ()))
        return list(devices.iterfind(tag))

    def first(self, devices: etree._Element, tag: str) -> etree._Element | None:
        """The first child of devices named tag, or None."""
        if devices is self.devices:
            found = self.by_tag.get(tag)
            return found[0] if found else None
        return devices.find(tag)

    def added(self, el: etree._Element) -> None:
        """Record el, just put into the tree with everything under it."""
        _visit(el, self.facts.add)
        parent = el.getparent()
        if parent is not None and parent is self.devices:
            self.by_tag.setdefault(el.tag, []).append(el)
        elif self.devices is None and el.tag == "devices" and parent is not None and parent.getparent() is None:
            self.devices = el  # normalisation made the <devices> the domain lacked

    def set(self, el: etree._Element, name: str, value: str) -> None:
        """Set an attribute of el, and record it."""
        el.set(name, value)
        self.facts.add((name, value))
        self.facts.add("@" + name)
