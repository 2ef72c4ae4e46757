"""One pass over a domain's tree, shared by number reading, normalisation and the select index.

Checking a domain used to walk its tree three times over (number reading for the
element names it holds, the engine for its facts) and have each normalisation
step look through <devices> again for its own kind of device. A Walk reads the
tree once: every element name, attribute name and attribute (name, value) pair
goes into the facts the engine's select index needs (selectors.document_facts,
the same facts), and each child of the root and of <devices> is filed under its
tag, in document order, for the steps that fill in defaults (a dict look-up where
ElementPath's find costs some 2 us).

Normalisation then changes the tree only through add() and set(), which keep
both up to date, so the facts are those of the normalised domain without a
second walk. They may hold more than the tree does (a number respelled, an
empty element dropped): that only wakes a select that finds nothing. They must
never hold less, which tests/test_walk.py checks on every conformance case.
"""

from __future__ import annotations

from lxml import etree

from .selectors import Fact

# "@" + an attribute name, by name.
_AT: dict[str, str] = {}


def _visit(el: etree._Element, add: object) -> None:
    """Add the facts of el and everything under it."""
    for node in el.iter():
        add(node.tag)  # type: ignore[operator]
        for pair in node.items():
            add(pair)  # type: ignore[operator]
            add("@" + pair[0])  # type: ignore[operator]


def children_by_tag(parent: etree._Element) -> dict[object, list[etree._Element]]:
    """The children of parent by tag, each list in document order."""
    out: dict[object, list[etree._Element]] = {}
    for child in parent:
        found = out.get(child.tag)
        if found is None:
            out[child.tag] = [child]
        else:
            found.append(child)
    return out


class Walk:
    """What one pass over a domain found: its facts, and the children of its root and of its <devices> by tag."""

    __slots__ = ("by_tag", "devices", "facts", "nodes", "root", "top")

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.devices: etree._Element | None = None
        self.by_tag: dict[object, list[etree._Element]] = {}
        # The root's children by tag, in document order: the steps' lookups of <os>, <name>, <cpu>
        # without ElementPath (a find costs some 2 us, a dict look-up a twentieth of it).
        top = self.top = children_by_tag(root)
        # The first <devices> is the one libvirt and normalisation read.
        found = top.get("devices")
        if found:
            self.devices = found[0]
            self.by_tag = children_by_tag(self.devices)
        # One iterator over the whole tree (each iter() costs about 1 us to set up, one per device
        # used to be a third of the walk). Every node's proxy is kept while the domain is checked:
        # lxml makes a Python object for a node each time one is reached with none alive, and the
        # steps and rules reach most of them again.
        nodes = self.nodes = list(root.iter())
        facts: set[Fact] = {node.tag for node in nodes}
        self.facts = facts
        pairs: list[tuple[str, str]] = []
        extend = pairs.extend
        for node in nodes:
            extend(node.items())
        facts.update(pairs)
        add = facts.add
        at = _AT
        for name, _ in pairs:
            fact = at.get(name)
            if fact is None:
                fact = "@" + name
                if len(at) < 4096:  # the same few dozen names in every domain; a hostile one adds no more
                    at[name] = fact
            add(fact)

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

    def added(self, el: etree._Element, parent: etree._Element | None = None) -> None:
        """Record el, just put into the tree (under parent, when the caller knows it) with everything under it."""
        add = self.facts.add
        if len(el):
            _visit(el, add)
        else:  # the usual new element, without an iterator over it
            add(el.tag)
            for pair in el.items():
                add(pair)
                add("@" + pair[0])
        if parent is None:
            parent = el.getparent()
            if parent is None:
                return
        self._file(el, parent, el.tag)

    def _file(self, el: etree._Element, parent: etree._Element, tag: object) -> None:
        """File a new child of the root or of <devices> under its tag."""
        if parent is self.devices:
            self.by_tag.setdefault(tag, []).append(el)
        elif parent is self.root:
            self.top.setdefault(tag, []).append(el)
            if self.devices is None and tag == "devices":
                self.devices = el  # normalisation made the <devices> the domain lacked

    def made(self, el: etree._Element, parent: etree._Element, tag: str, attrs: dict[str, str]) -> None:
        """Record el, a new childless element named tag with attrs, just put under parent (its facts are those names)."""
        add = self.facts.add
        add(tag)
        for name, value in attrs.items():
            add((name, value))
            add("@" + name)
        self._file(el, parent, tag)

    def set(self, el: etree._Element, name: str, value: str) -> None:
        """Set an attribute of el, and record it."""
        el.set(name, value)
        self.facts.add((name, value))
        self.facts.add("@" + name)
