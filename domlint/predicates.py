"""The typed tests a rule can use where XPath 1.0 would be inexact."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from .domain import is_i440fx, is_q35
from .values import is_contiguous, parse_cpuset, parse_int, parse_size, parse_size_literal

# re: is EXSLT's regular expressions (re:test(value, pattern)), which lxml
# evaluates natively: character-class checks XPath 1.0 cannot say. dl: holds
# domlint's own functions, for facts every rule would otherwise spell out.
DL_NS = "https://domlint.invalid/xpath"
NAMESPACES = {"qemu": "http://libvirt.org/schemas/domain/qemu/1.0",
              "re": "http://exslt.org/regular-expressions",
              "dl": DL_NS}


def _machine(context: Any) -> str:
    root = context.context_node.getroottree().getroot()
    type_el = root.find("os/type")
    return (type_el.get("machine") or "") if type_el is not None else ""


_FUNCTIONS = etree.FunctionNamespace(DL_NS)
# dl:i440fx() and dl:q35(): whether the domain's machine type is built on that chipset.
_FUNCTIONS["i440fx"] = lambda context: is_i440fx(_machine(context))
_FUNCTIONS["q35"] = lambda context: is_q35(_machine(context))

# The controllers of the document last asked about, by (type, index). Keyed on
# the root element itself (held here, so its identity is stable); the engine
# calls forget() before each document, since normalisation adds controllers.
_controller_index: tuple[Any, dict[tuple[str, int], list[etree._Element]]] = (None, {})


def forget() -> None:
    """Drop what dl: functions cached about the last document."""
    global _controller_index
    _controller_index = (None, {})


def _controller(context: Any, ctype: Any, index: Any) -> list[etree._Element]:
    """dl:controller(type, index): the controller of that type and index, found without scanning siblings."""
    global _controller_index
    root = context.context_node.getroottree().getroot()
    if _controller_index[0] is not root:
        table: dict[tuple[str, int], list[etree._Element]] = {}
        for ctrl in root.iterfind("devices/controller"):
            # libvirt reads a controller index in decimal.
            n = parse_int(ctrl.get("index", "0"), 10)
            if n is not None:
                table.setdefault((ctrl.get("type", ""), n), []).append(ctrl)
        _controller_index = (root, table)
    table = _controller_index[1]
    kind = "".join(_strings(ctype)[:1])
    found: list[etree._Element] = []
    for text in _strings(index):
        n = parse_int(text, 10)
        if n is not None:
            found.extend(table.get((kind, n), ()))
    return found


def _strings(value: Any) -> list[str]:
    """An XPath argument (node-set, string or number) as strings."""
    if isinstance(value, list):
        return [v if isinstance(v, str) else (v.text or "") for v in value]
    if isinstance(value, float):
        return [str(int(value))] if value.is_integer() else []
    return [str(value)]


_FUNCTIONS["controller"] = _controller


def compile_xpath(expr: str, smart_strings: bool = False) -> etree.XPath:
    """Compile an XPath with the namespaces rules may use."""
    return etree.XPath(expr, namespaces=NAMESPACES, smart_strings=smart_strings)


@dataclass
class Hit:
    """What a test found: the offending value and the name of what held it."""

    value: str = ""
    name: str = ""


def _values(xp: etree.XPath, el: etree._Element) -> list[tuple[str, str, Any]]:
    """(text, node name, node) for every value an expression yields."""
    res = xp(el)
    if isinstance(res, list):
        out = []
        for node in res:
            if isinstance(node, etree._Element):
                out.append((node.text or "", etree.QName(node).localname, node))
            else:
                attr = getattr(node, "attrname", None)
                out.append((str(node), str(attr) if attr else "", getattr(node, "getparent", lambda: None)()))
        return out
    if isinstance(res, bool):
        return [("true" if res else "false", "", None)]
    if isinstance(res, float):
        text = str(int(res)) if res.is_integer() else str(res)
        return [(text, "", None)]
    return [(str(res), "", None)] if str(res) != "" else []


@dataclass
class Context:
    """What tests may consult beyond the element: the host, and state across one selection."""

    host: Any = None
    state: dict[int, Any] = field(default_factory=dict)


class Predicate:
    """A compiled typed test."""

    def xpaths(self) -> tuple[etree.XPath, ...]:
        """The compiled expressions this test evaluates (probed once at load)."""
        return ()

    def holds(self, el: etree._Element, ctx: Context) -> Hit | None:
        """A Hit when the test holds for el, None otherwise."""
        raise NotImplementedError


@dataclass
class ValueTest(Predicate):
    """A test judging each value an XPath yields; the first value judged bad is the hit."""

    value: str

    def __post_init__(self) -> None:
        # Smart strings keep an attribute value's name, which {$name} shows.
        self.xp = compile_xpath(self.value, smart_strings=True)

    def xpaths(self) -> tuple[etree.XPath, ...]:
        """The value expression."""
        return (self.xp,)

    def judge(self, text: str, node: Any) -> str | None:
        """The text to report when this value makes the test hold, else None."""
        raise NotImplementedError

    def holds(self, el: etree._Element, ctx: Context) -> Hit | None:
        for text, name, node in _values(self.xp, el):
            shown = self.judge(text, node)
            if shown is not None:
                return Hit(shown, name)
        return None


def _outside(n: int, lo: int | None, hi: int | None) -> bool:
    return (lo is not None and n < lo) or (hi is not None and n > hi)


@dataclass
class IntTest(ValueTest):
    """An integer outside [min, max], or not an integer at all."""

    min: int | None = None
    max: int | None = None
    malformed: bool = False
    base: int = 10

    def judge(self, text: str, node: Any) -> str | None:
        n = parse_int(text, self.base)
        if n is None:
            return text if self.malformed else None
        return text.strip() if _outside(n, self.min, self.max) else None


@dataclass
class SizeTest(ValueTest):
    """A size element (number plus unit attribute) outside [min, max] bytes."""

    min: int | str | None = None
    max: int | str | None = None
    default_unit: str = "KiB"

    def __post_init__(self) -> None:
        super().__post_init__()
        self.lo = None if self.min is None else parse_size_literal(self.min)
        self.hi = None if self.max is None else parse_size_literal(self.max)

    def judge(self, text: str, node: Any) -> str | None:
        unit = node.get("unit") if isinstance(node, etree._Element) else None
        size = parse_size(text, unit, self.default_unit)
        if size is None or not _outside(size, self.lo, self.hi):
            return None
        return f"{text.strip()} {unit or self.default_unit}"


@dataclass
class CpusetTest(ValueTest):
    """A cpuset that is malformed, or (if asked) empty, above max, or not one run."""

    max: int | None = None
    empty: bool = False
    noncontiguous: bool = False

    def judge(self, text: str, node: Any) -> str | None:
        cpus = parse_cpuset(text)
        bad = (cpus is None
               or (self.empty and not cpus)
               or (self.max is not None and bool(cpus) and max(cpus) > self.max)
               or (self.noncontiguous and not is_contiguous(cpus)))
        return text if bad else None


@dataclass
class EnumTest(ValueTest):
    """A value that is present but not one of the allowed ones."""

    allowed: list[str] = field(default_factory=list)

    def judge(self, text: str, node: Any) -> str | None:
        return text if text not in self.allowed else None


@dataclass
class UniqueTest(Predicate):
    """A key that repeats (or, for cpusets, overlaps) one of an earlier element."""

    key: str
    as_: str = "string"
    within: str | None = None

    def __post_init__(self) -> None:
        self.xp = compile_xpath(f"string({self.key})")
        self.within_xp = compile_xpath(f"string({self.within})") if self.within else None

    def xpaths(self) -> tuple[etree.XPath, ...]:
        """The key and grouping expressions."""
        return (self.xp,) if self.within_xp is None else (self.xp, self.within_xp)

    def _key(self, text: str) -> Any:
        if self.as_ in ("int", "hex"):
            return parse_int(text, 16 if self.as_ == "hex" else 0)
        if self.as_ == "cpuset":
            return parse_cpuset(text)
        return text

    def holds(self, el: etree._Element, ctx: Context) -> Hit | None:
        seen = ctx.state.setdefault(id(self), {})
        text = str(self.xp(el))
        if text == "":
            return None
        group = str(self.within_xp(el)) if self.within_xp is not None else ""
        key = self._key(text)
        if key is None:
            return None
        earlier = seen.setdefault(group, [])
        clash = (any(key & other for other in earlier) if self.as_ == "cpuset"
                 else key in earlier)
        earlier.append(key)
        return Hit(text, "") if clash else None


@dataclass
class HostTest(Predicate):
    """A domain value or host fact compared with the host profile; silent when it lacks the fact.

    op unset fires when the profile names the fact's key with no value. With key, the fact is a
    table (per arch, say) and the value is compared with its entry for key's value; silent without one.
    """

    fact: str
    op: str
    value: str | None = None
    list: str | None = None
    key: str | None = None

    def __post_init__(self) -> None:
        self.xp = compile_xpath(f"string({self.value})") if self.value else None
        self.key_xp = compile_xpath(f"string({self.key})") if self.key else None

    def xpaths(self) -> tuple[etree.XPath, ...]:
        """The value and key expressions, if any."""
        return tuple(x for x in (self.xp, self.key_xp) if x is not None)

    def holds(self, el: etree._Element, ctx: Context) -> Hit | None:
        host = ctx.host
        if host is None:
            return None
        fact = getattr(host, self.fact, None)
        if self.key_xp is not None:
            fact = (fact or {}).get(str(self.key_xp(el)))
        if self.op == "unset":
            stated = self.fact in getattr(host, "stated", frozenset())
            return Hit("", self.fact) if stated and fact in (None, "", ()) else None
        if self.op in ("enabled", "disabled"):
            # A switch or a list of the host (privileged, hugetlbfs mounts): on when true or non-empty.
            if fact is None or bool(fact) != (self.op == "enabled"):
                return None
            return Hit(", ".join(fact) if isinstance(fact, tuple) else str(fact), self.fact)
        if self.xp is not None:
            subject: Any = str(self.xp(el))
            against = fact
        else:
            subject, against = fact, getattr(host, self.list or "", None)
        if subject in (None, "") or against is None:
            return None
        if self.op == "not-in":
            return Hit(str(subject), self.fact) if subject not in against else None
        if self.op == "equals":
            return Hit(str(subject), self.fact) if subject == against else None
        return Hit(str(subject), self.fact) if subject != against else None


_PCI_FIELDS = ("domain", "bus", "slot", "function")


def _pci_spec(text: str) -> tuple[int, ...]:
    """'0000:00:01.1' (or '0000:00:02', a whole slot) as integers; all parts hexadecimal."""
    head, dot, func = text.partition(".")
    parts = head.split(":")
    if len(parts) != 3 or (dot and not func):
        raise ValueError(f"PCI address {text!r} is not written domain:bus:slot[.function]")
    try:
        return tuple(int(x, 16) for x in parts + ([func] if dot else []))
    except ValueError:
        raise ValueError(f"PCI address {text!r} is not hexadecimal") from None


@dataclass
class PciTest(Predicate):
    """A PCI <address> equal to (equals) or other than (differs) a given one; a spec without function means the slot."""

    value: str
    equals: str | None = None
    differs: str | None = None

    def __post_init__(self) -> None:
        if (self.equals is None) == (self.differs is None):
            raise ValueError("a pci test takes exactly one of equals and differs")
        self.xp = compile_xpath(self.value)
        self.want = _pci_spec(self.equals if self.equals is not None else str(self.differs))

    def xpaths(self) -> tuple[etree.XPath, ...]:
        """The address expression."""
        return (self.xp,)

    def holds(self, el: etree._Element, ctx: Context) -> Hit | None:
        res = self.xp(el)
        for node in res if isinstance(res, list) else []:
            if not isinstance(node, etree._Element):
                continue
            # libvirt reads each part with C prefixes (0x1f, 031, 25); a missing part is 0.
            got = tuple(parse_int(node.get(k, "0"), 0) for k in _PCI_FIELDS)
            if any(v is None for v in got):
                continue
            same = got[:len(self.want)] == self.want
            if same == (self.equals is not None):
                d, b, s, f = got
                return Hit(f"{d:04x}:{b:02x}:{s:02x}.{f:x}", "address")
        return None


@dataclass
class CpuCompatTest(Predicate):
    """A guest <cpu> (custom mode) that the host CPU cannot provide, by the host's CPU map; silent when unknown."""

    def holds(self, el: etree._Element, ctx: Context) -> Hit | None:
        host = ctx.host
        if host is None or not getattr(host, "cpu_map", None) or not host.cpu_model:
            return None
        from .cpu import guest_cpu_problem

        problem = guest_cpu_problem(host.cpu_map, host.cpu_model, tuple(host.cpu_features), el)
        return Hit(problem, "cpu") if problem else None


def _unique(spec: dict[str, Any]) -> UniqueTest:
    return UniqueTest(key=spec["key"], as_=spec.get("as", "string"), within=spec.get("within"))


BUILDERS: dict[str, Callable[[dict[str, Any]], Predicate]] = {
    "int": lambda s: IntTest(**s),
    "size": lambda s: SizeTest(**s),
    "cpuset": lambda s: CpusetTest(**s),
    "unique": _unique,
    "enum": lambda s: EnumTest(**s),
    "host": lambda s: HostTest(**s),
    "pci": lambda s: PciTest(**s),
    "cpu-compat": lambda s: CpuCompatTest(),
}


def build(spec: dict[str, Any]) -> Predicate:
    """Compile one test from its rule-file form."""
    (kind, body), = spec.items()
    return BUILDERS[kind](dict(body))
