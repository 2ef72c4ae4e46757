"""Mutations of corpus domains, and one run of the public API over a mutant.

Shared by the property test (tests/test_fuzz_domains.py) and the fuzzing script
(benchmarks/fuzz.py), so both exercise exactly the same inputs. It imports
neither pytest nor conftest, so the script can use it without the test extra.
"""

from __future__ import annotations

import contextlib
import copy
import json
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "conformance" / "libvirt-1.2.8"
CONFORMANCE_HOST = REPO / "tests" / "hosts" / "conformance.yaml"

# What a number, a size, an enum or a name reader can be handed in a hostile file.
EDGE_VALUES: tuple[str, ...] = (
    "", "0", "-1", "+1", " 1", "1 ", "0x10", "0X1f", "010", "1e3", "1.5", "-0",
    "9" * 30, str(2 ** 64), str(2 ** 63), str(2 ** 32), str(2 ** 31 - 1), str(-(2 ** 63) - 1),
    # Unicode digits: str.isdigit() takes all three, int() only the first two.
    "abc", "\u0661", "\u0661\u0662", "\uff11", "\u00b2", "1\u00b2", "x" * 5000, "yes", "no", "on", "off",
    "true", "false", "none", "default", "auto", "\t", "a b", "..", "/", "{", "}", "%s", "${x}",
    "0:0:0.0", "0x", "-", ":", ",", "=", "\u00e9", "\U0001f600",
)
# The yes/no/on/off family: swapped into each other.
_SWITCHES = {"yes": "no", "no": "yes", "on": "off", "off": "on", "enable": "disable", "disable": "enable"}
_ALWAYS_CAPS = ("vnc-colon", "no-reboot", "no-acpi")


@dataclass(frozen=True)
class Case:
    """One corpus domain and the capabilities and run options its case names."""

    id: str
    data: bytes
    caps: frozenset[str]
    options: dict[str, Any]


@dataclass
class Pool:
    """Values and subtrees seen across the corpus, for cross-pollination."""

    values_by_name: dict[str, list[str]] = field(default_factory=dict)
    all_values: list[str] = field(default_factory=list)
    devices: list[etree._Element] = field(default_factory=list)

    def add(self, root: etree._Element) -> None:
        """Record the attribute values and devices of one domain."""
        for el in root.iter():
            if not isinstance(el.tag, str):
                continue
            for name, value in el.attrib.items():
                seen = self.values_by_name.setdefault(str(name), [])
                if value not in seen:
                    seen.append(value)
                    self.all_values.append(value)
        devices = root.find("devices")
        if devices is not None:
            self.devices.extend(copy.deepcopy(d) for d in devices if isinstance(d.tag, str))


_SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=False)


def load_corpus(root: Path = DEFAULT_CORPUS) -> tuple[list[Case], Pool]:
    """Every distinct corpus domain with its case's capabilities, and the pool built from all of them."""
    manifest = json.loads((root / "manifest.json").read_text())
    cases: list[Case] = []
    pool = Pool()
    seen: set[str] = set()
    for c in manifest["cases"]:
        if c["xml"] in seen:
            continue
        seen.add(c["xml"])
        data = (root / c["xml"]).read_bytes()
        options = {"migrate_from": c.get("migrate_from"), "migrate_fd": c.get("migrate_fd", -1),
                   "json_monitor": bool(c.get("json_monitor"))}
        cases.append(Case(c["id"], data, frozenset(c.get("caps") or ()) | frozenset(_ALWAYS_CAPS), options))
        # A parse-error case is useful as input, not as a source of values.
        with contextlib.suppress(etree.XMLSyntaxError):
            pool.add(etree.fromstring(data, _SAFE))
    return cases, pool


# ---------------------------------------------------------------- tree mutations

def _elements(root: etree._Element) -> list[etree._Element]:
    return [el for el in root.iter() if isinstance(el.tag, str)]


def _edge(rng: random.Random, pool: Pool, name: str | None = None) -> str:
    """An edge value, a switch swap's partner, or a value some other attribute of the corpus holds."""
    roll = rng.random()
    if roll < 0.55:
        return rng.choice(EDGE_VALUES)
    if roll < 0.8 and name and pool.values_by_name.get(name):
        return rng.choice(pool.values_by_name[name])
    if pool.all_values:
        return rng.choice(pool.all_values)
    return rng.choice(EDGE_VALUES)


def _with_attrs(els: list[etree._Element]) -> list[etree._Element]:
    return [el for el in els if el.attrib]


# Each mutation returns whether it changed the tree.

def _holder(root: etree._Element, rng: random.Random) -> tuple[etree._Element, str] | None:
    """An element with attributes, and one of its attribute names, chosen at random."""
    els = _with_attrs(_elements(root))
    if not els:
        return None
    el = rng.choice(els)
    return el, rng.choice(list(el.attrib))


def _attr_drop(root: etree._Element, rng: random.Random, pool: Pool) -> bool:
    picked = _holder(root, rng)
    if picked is None:
        return False
    del picked[0].attrib[picked[1]]
    return True


def _attr_copy(root: etree._Element, rng: random.Random, pool: Pool) -> bool:
    """An attribute duplicated onto a sibling, or onto any other element."""
    picked = _holder(root, rng)
    if picked is None:
        return False
    src, name = picked
    value = src.get(name, "")
    parent = src.getparent()
    siblings = [s for s in parent if isinstance(s.tag, str) and s.get(name) != value] if parent is not None else []
    others = [el for el in _elements(root) if el.get(name) != value]
    dest = rng.choice(siblings) if siblings and rng.random() < 0.6 else rng.choice(others) if others else None
    if dest is None:
        return False
    dest.set(name, value)
    return True


def _attr_edge(root: etree._Element, rng: random.Random, pool: Pool) -> bool:
    picked = _holder(root, rng)
    if picked is None:
        return False
    el, name = picked
    old, new = el.get(name), _edge(rng, pool, str(name))
    el.set(name, new)
    return new != old


def _attr_switch(root: etree._Element, rng: random.Random, pool: Pool) -> bool:
    found = [(el, n) for el in _elements(root) for n, v in el.attrib.items() if v in _SWITCHES]
    if not found:
        return False
    el, name = rng.choice(found)
    value = el.get(name, "")
    new = _SWITCHES[value] if rng.random() < 0.7 else rng.choice(sorted(_SWITCHES))
    el.set(name, new)
    return new != value


def _attr_add(root: etree._Element, rng: random.Random, pool: Pool) -> bool:
    """An attribute name the corpus uses elsewhere, added where it may not belong."""
    if not pool.values_by_name:
        return False
    name = rng.choice(sorted(pool.values_by_name))
    el, new = rng.choice(_elements(root)), _edge(rng, pool, name)
    old = el.get(name)
    el.set(name, new)
    return new != old


def _elem_remove(root: etree._Element, rng: random.Random, pool: Pool) -> bool:
    els = _elements(root)[1:]
    if not els:
        return False
    el = rng.choice(els)
    el.getparent().remove(el)
    return True


def _elem_repeat(root: etree._Element, rng: random.Random, pool: Pool) -> bool:
    els = _elements(root)[1:]
    if not els:
        return False
    el = rng.choice(els)
    twin = copy.deepcopy(el)
    el.addnext(twin)
    if rng.random() < 0.3:
        # A third one, to exceed any "at most two" limit.
        twin.addnext(copy.deepcopy(el))
    return True


def _elem_move(root: etree._Element, rng: random.Random, pool: Pool) -> bool:
    els = _elements(root)[1:]
    if not els:
        return False
    el = rng.choice(els)
    inside = set(_elements(el))
    parents = [p for p in _elements(root) if p not in inside and p is not el.getparent()]
    if not parents:
        return False
    dest = rng.choice(parents)
    tail = el.tail
    el.getparent().remove(el)
    el.tail = tail
    dest.insert(rng.randint(0, len(dest)), el)
    return True


def _text_edge(root: etree._Element, rng: random.Random, pool: Pool) -> bool:
    leaves = [el for el in _elements(root) if len(el) == 0]
    if not leaves:
        return False
    el, new = rng.choice(leaves), _edge(rng, pool)
    if new == (el.text or ""):
        return False
    el.text = new
    return True


def _graft(root: etree._Element, rng: random.Random, pool: Pool) -> bool:
    """A device from another corpus domain, added to this one's <devices>."""
    devices = root.find("devices")
    if devices is None or not pool.devices:
        return False
    devices.insert(rng.randint(0, len(devices)), copy.deepcopy(rng.choice(pool.devices)))
    return True


TREE_MUTATIONS: tuple[Callable[[etree._Element, random.Random, Pool], bool], ...] = (
    _attr_drop, _attr_copy, _attr_edge, _attr_edge, _attr_switch, _attr_add,
    _elem_remove, _elem_repeat, _elem_move, _text_edge, _graft,
)


# ---------------------------------------------------------------- byte mutations

def _break_bytes(data: bytes, rng: random.Random) -> bytes:
    """Deliberately malformed bytes: truncated, stray markup, bad UTF-8, NUL, doubled attribute, no root end."""
    kind = rng.randrange(7)
    if kind == 0 or not data:
        return data[:rng.randint(0, len(data))]
    at = rng.randint(0, len(data))
    if kind == 1:
        return data[:at] + rng.choice((b"<", b"&", b"]]>", b"&bogus;", b"<!--", b"</x>")) + data[at:]
    if kind == 2:
        return data[:at] + rng.choice((b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80")) + data[at:]
    if kind == 3:
        return data[:at] + b"\x00" + data[at:]
    if kind == 4:
        pos = data.find(b" ", data.find(b"<") + 1)
        return data[:pos] + b" a='1' a='2'" + data[pos:] if pos > 0 else data + b"<"
    if kind == 5:
        end = data.rfind(b"</")
        return data[:end] if end > 0 else data[:-1]
    # A UTF-16 re-encoding, with and without a BOM: readable, if libvirt would read it.
    text = data.decode("utf-8", errors="replace")
    return text.encode("utf-16") if rng.random() < 0.5 else text.encode("utf-16-le")


def mutate(data: bytes, rng: random.Random, pool: Pool, max_mutations: int = 6,
           broken_rate: float = 0.05) -> bytes:
    """Apply 1..max_mutations random mutations to a domain; occasionally return malformed bytes."""
    try:
        root = etree.fromstring(data, _SAFE)
    except etree.XMLSyntaxError:
        return _break_bytes(data, rng)
    for _ in range(rng.randint(1, max_mutations)):
        for _attempt in range(4):
            if rng.choice(TREE_MUTATIONS)(root, rng, pool):
                break
    out = etree.tostring(root, encoding="UTF-8", xml_declaration=rng.random() < 0.2)
    if rng.random() < broken_rate:
        return _break_bytes(out, rng)
    return out


def device_of(data: bytes, rng: random.Random) -> bytes | None:
    """One child of a domain's <devices> as its own document (None when there is none or it cannot be read)."""
    try:
        root = etree.fromstring(data, _SAFE)
    except (etree.XMLSyntaxError, ValueError):
        return None
    devices = root.find("devices")
    kids = [d for d in devices if isinstance(d.tag, str)] if devices is not None else []
    if not kids:
        return None
    el = copy.deepcopy(rng.choice(kids))
    el.tail = None
    return etree.tostring(el, encoding="UTF-8")


# ---------------------------------------------------------------- one run

class Harness:
    """The public API, set up once: check, argv and attach-check on the conformance host."""

    def __init__(self, corpus: Path = DEFAULT_CORPUS) -> None:
        sys.path.insert(0, str(REPO / "tests" / "conformance"))
        import run as conformance  # the runner's host anchoring, so argv sees the corpus's CPU map and pools

        from domlint import caps as capsmod
        from domlint import host as hostmod
        from domlint.engine import load_engine

        self.cases, self.pool = load_corpus(corpus)
        self.host = conformance.anchor_host(hostmod.load(CONFORMANCE_HOST), corpus)
        self.engine = load_engine(target="1.2.8")
        self.profiles = [capsmod.from_profile(p, "1.2.8") for p in capsmod.profiles("1.2.8")]

    def profile(self, rng: random.Random) -> Any:
        """The capabilities of one built-in QEMU profile."""
        return rng.choice(self.profiles)

    def exercise(self, case: Case, data: bytes, rng: random.Random) -> str:
        """Run check, argv and attach-check on one mutant; the outcome in a word, or the unexpected exception."""
        from domlint import api
        from domlint.cmdline import RunOptions
        from domlint.domain import foreign_hypervisor
        from domlint.errors import InputError

        # Mostly the case's own capabilities (so argv is often reached); else every capability, or a real QEMU's.
        roll = rng.random()
        caps: Any = case.caps if roll < 0.5 else None if roll < 0.75 else self.profile(rng)
        name = f"fuzz/{case.id}.xml"
        options = RunOptions(**case.options)
        # check judges the same start argv builds (the case's incoming migration, if any).
        fd = options.migrate_fd if options.migrate_fd >= 0 else None
        try:
            findings = api.check(data, caps=caps, host=self.host, path=name, engine=self.engine,
                                 incoming=options.migrate_from, incoming_fd=fd)
            document = api.load_document(data, name)
        except InputError:
            return "input-error"
        if foreign_hypervisor(document, self.engine.target) is not None:
            # Not a QEMU domain: argv prints a note and no command line, it refuses nothing.
            outcome = "not-judged"
        else:
            outcome = self._emit(data, caps, name, options, findings)
        device = device_of(data, rng)
        if device is not None:
            base = rng.choice(self.cases).data if rng.random() < 0.5 else data
            with contextlib.suppress(InputError):
                api.attach_check(base, device, caps=caps, host=self.host, domain_path="fuzz/domain.xml",
                                 device_path="fuzz/device.xml", engine=self.engine)
        return outcome

    def _emit(self, data: bytes, caps: Any, name: str, options: Any, findings: list[Any]) -> str:
        """argv's outcome on a mutant check has judged: argv, refused, or argv-input-error (the emitter disagreed)."""
        from domlint import api
        from domlint.errors import InputError, Refused

        try:
            api.emit(data, caps=caps, host=self.host, path=name, engine=self.engine, options=options).words()
            outcome = "argv"
        except Refused:
            outcome = "refused"
        except InputError:
            # The rules passed it, the emitter could not build it: check and argv disagree.
            outcome = "argv-input-error"
        if outcome == "refused" and not any(f.severity == "error" for f in findings):
            raise AssertionError("emit refused a domain that check found no error in")
        return outcome


__all__ = ["EDGE_VALUES", "Case", "Harness", "Pool", "device_of", "load_corpus", "mutate"]
