"""The typed tests a rule can use where XPath 1.0 would be inexact."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree

from .machine import is_i440fx, is_q35
from .record import field, record
from .values import LazyPattern, is_contiguous, parse_cpuset, parse_int, parse_ipv4, parse_size, parse_size_literal

# re: is EXSLT's regular expressions (re:test(value, pattern)), which lxml
# evaluates natively: character-class checks XPath 1.0 cannot say. dl: holds
# domlint's own functions, for facts every rule would otherwise spell out.
DL_NS = "https://domlint.invalid/xpath"
NAMESPACES = {"qemu": "http://libvirt.org/schemas/domain/qemu/1.0",
              "re": "http://exslt.org/regular-expressions",
              "dl": DL_NS}


# root.find("os/type") as an XPath, compiled when first asked: lxml's find parses its path in Python each time
# (twice the cost of the evaluation).
_OS_TYPE: list[etree.XPath] = []


def _os_type(root: etree._Element) -> etree._Element | None:
    """The domain's <os><type> (the first, as root.find("os/type") finds it), or None."""
    if not _OS_TYPE:
        _OS_TYPE.append(etree.XPath("os/type"))
    found = _OS_TYPE[0](root)
    return found[0] if found else None


def _machine(context: Any) -> str:
    root = context.context_node.getroottree().getroot()
    type_el = _os_type(root)
    return (type_el.get("machine") or "") if type_el is not None else ""


# The chipsets of the document last asked about: (root, i440fx, q35). A domain's rules ask
# several times over, and each answer costs a search of the tree and a pattern match.
_chipsets: tuple[Any, bool, bool] = (None, False, False)


def _chipset(context: Any) -> tuple[Any, bool, bool]:
    global _chipsets
    root = context.context_node.getroottree().getroot()
    if _chipsets[0] is not root:
        name = _machine(context)
        _chipsets = (root, is_i440fx(name), is_q35(name))
    return _chipsets


# Not an etree.FunctionNamespace: lxml registers every global extension function on every XPath
# evaluation (callgrind: about a third of a short select's cost), so compile_xpath hands these only to
# the expressions that name dl:.
_FUNCTIONS: dict[str, Callable[..., Any]] = {}
# dl:i440fx() and dl:q35(): whether the domain's machine type is built on that chipset.
_FUNCTIONS["i440fx"] = lambda context: _chipset(context)[1]
_FUNCTIONS["q35"] = lambda context: _chipset(context)[2]
# dl:ipv4(text): whether text is an IPv4 address in a form libvirt reads (inet_aton's: 10.0.2.1, 10.1, 0x0a000201).
_FUNCTIONS["ipv4"] = lambda context, text: parse_ipv4("".join(_strings(text)[:1])) is not None

# The controllers of the document last asked about, by (type, index). Keyed on
# the root element itself (held here, so its identity is stable); the engine
# calls forget() before each document, since normalisation adds controllers.
_controller_index: tuple[Any, dict[tuple[str, int], list[etree._Element]]] = (None, {})


def forget() -> None:
    """Drop what dl: functions and the `assign` test cached about the last document."""
    global _controller_index, _assigned, _chipsets
    _controller_index = (None, {})
    _assigned = (None, None)
    _chipsets = (None, False, False)


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


def _int(context: Any, value: Any) -> float:
    """dl:int(text): an integer read as libvirt reads PCI address parts (C prefixes: 0x hex, 0 octal), NaN if it is none."""
    texts = _strings(value)
    n = parse_int(texts[0], 0) if texts else None
    return float("nan") if n is None else float(n)


_FUNCTIONS["int"] = _int


def _kib(context: Any, nodes: Any, attribute: Any = None) -> float:
    """dl:kib(elements[, attribute]): the total, in KiB, of memory sizes as libvirt reads them (virDomainParseMemory).

    Each element holds a number (its text, or the named attribute) with the element's @unit
    (KiB when none); each is rounded up to whole KiB. 0 for no elements, NaN when one is not a size.
    """
    if not isinstance(nodes, list):
        return float("nan")
    total = 0
    for node in nodes:
        if not isinstance(node, etree._Element):
            return float("nan")
        text = node.get(str(attribute)) if attribute is not None else node.text
        size = parse_size(text or "", node.get("unit"), "KiB")
        if size is None:
            return float("nan")
        total += -(-size // 1024)
    return float(total)


_FUNCTIONS["kib"] = _kib


def _having(context: Any, nodes: Any, attribute: Any, values: Any) -> list[etree._Element]:
    """dl:having(elements, attribute, values): the elements whose attribute equals one of values.

    Decimal integers compare as numbers (' 1' matches '01'), anything else as strings. It lets a
    predicate join on a value of its own context node, which XPath 1.0 (without current()) cannot.
    """
    if not isinstance(nodes, list):
        return []
    wanted = {parse_int(v, 10) if parse_int(v, 10) is not None else v for v in _strings(values)}
    out = []
    for node in nodes:
        if not isinstance(node, etree._Element):
            continue
        got = node.get(str(attribute))
        if got is None:
            continue
        n = parse_int(got, 10)
        if (n if n is not None else got) in wanted:
            out.append(node)
    return out


_FUNCTIONS["having"] = _having


def _max(context: Any, nodes: Any, base: Any = 10.0) -> float:
    """dl:max(values[, base]): the largest of values read as integers (base 10 by default, 0 for C prefixes).

    Values that are not integers are skipped; the maximum of none is -Infinity, so `n > dl:max(...)`
    holds when there is nothing to compare against. It compares a node's own value with a maximum
    over other nodes, which XPath 1.0 (no max(), no current()) cannot.
    """
    radix = int(base) if isinstance(base, float) and base in (0.0, 16.0) else 10
    best = float("-inf")
    for text in _strings(nodes):
        n = parse_int(text, radix)
        if n is not None and n > best:
            best = float(n)
    return best


_FUNCTIONS["max"] = _max


def compile_xpath(expr: str, smart_strings: bool = False) -> etree.XPath:
    """Compile an XPath with the namespaces rules may use."""
    # lxml registers an XPath's namespaces and EXSLT's regular expression functions on every
    # evaluation, a fifth of the cost of a short select (callgrind): only those it uses.
    used = {prefix: uri for prefix, uri in NAMESPACES.items() if f"{prefix}:" in expr}
    extensions = {(DL_NS, name): fn for name, fn in _FUNCTIONS.items()} if "dl:" in expr else None
    return etree.XPath(expr, namespaces=used, extensions=extensions, smart_strings=smart_strings,
                       regexp="re:" in expr)


# A test value that is an attribute of the element or of its children of one name.
_SIMPLE_VALUE = LazyPattern(r"(?:([A-Za-z_][\w.-]*)/)?@([A-Za-z_][\w.-]*)")


@record
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


@record
class Context:
    """What tests may consult beyond the element: the host, and state across one selection."""

    host: Any = None
    state: dict[int, Any] = field(default_factory=dict)
    # The capabilities the domain is checked under (a Caps, or a plain set of flags).
    caps: Any = None
    # The normalised Document being checked (the `assign` test replays address assignment on it).
    doc: Any = None
    # The start being judged (domlint.start.Start: an incoming migration), None for a plain start.
    start: Any = None
    # The target (domlint.target.Target) the domain is judged for.
    target: Any = None


class Predicate:
    """A compiled typed test."""

    # A test that knows, for a whole document, the only elements it can hold for may give
    # narrow(elements, ctx): those of a selection (the engine then asks holds of them alone).
    narrow: Callable[[list[etree._Element], Context], list[etree._Element]] | None = None

    def xpaths(self) -> tuple[etree.XPath, ...]:
        """The compiled expressions this test evaluates (probed once at load)."""
        return ()

    def holds(self, el: etree._Element, ctx: Context) -> Hit | None:
        """A Hit when the test holds for el, None otherwise."""
        raise NotImplementedError


@record
class ValueTest(Predicate):
    """A test judging each value an XPath yields; the first value judged bad is the hit."""

    value: str

    def __post_init__(self) -> None:
        # Smart strings keep an attribute value's name, which {$name} shows.
        self.xp = compile_xpath(self.value, smart_strings=True)
        # '@name' and 'child/@name', most values, are read without an XPath evaluation (the
        # evaluation's set-up costs more than the rest of the test): the same values, in the same order.
        simple = _SIMPLE_VALUE.fullmatch(self.value)
        self._simple = (simple.group(1), simple.group(2)) if simple else None

    def xpaths(self) -> tuple[etree.XPath, ...]:
        """The value expression."""
        return (self.xp,)

    def values(self, el: etree._Element) -> list[tuple[str, str, Any]]:
        """(text, node name, node) for every value the expression yields on el."""
        if self._simple is None:
            return _values(self.xp, el)
        child, name = self._simple
        holders = [el] if child is None else el.iterchildren(child)
        return [(v, name, h) for h in holders if (v := h.get(name)) is not None]

    def judge(self, text: str, node: Any) -> str | None:
        """The text to report when this value makes the test hold, else None."""
        raise NotImplementedError

    def holds(self, el: etree._Element, ctx: Context) -> Hit | None:
        simple = self._simple
        if simple is not None and simple[0] is None:
            # '@name', the commonest value: values() without its list.
            text = el.get(simple[1])
            if text is None:
                return None
            shown = self.judge(text, el)
            return None if shown is None else Hit(shown, simple[1])
        for text, name, node in self.values(el):
            shown = self.judge(text, node)
            if shown is not None:
                return Hit(shown, name)
        return None


def _outside(n: int, lo: int | None, hi: int | None) -> bool:
    return (lo is not None and n < lo) or (hi is not None and n > hi)


def _not_pow2(n: int) -> bool:
    """A positive number that is not a power of two (zero and below are left to min)."""
    return n > 0 and n & (n - 1) != 0


@record
class IntTest(ValueTest):
    """An integer outside [min, max], or not an integer at all."""

    min: int | None = None
    max: int | None = None
    malformed: bool = False
    base: int = 10
    power_of_two: bool = False

    def judge(self, text: str, node: Any) -> str | None:
        n = parse_int(text, self.base)
        if n is None:
            return text if self.malformed else None
        bad = _outside(n, self.min, self.max) or (self.power_of_two and _not_pow2(n))
        return text.strip() if bad else None


@record
class SizeTest(ValueTest):
    """A size element (number plus unit attribute) outside [min, max] bytes."""

    min: int | str | None = None
    max: int | str | None = None
    default_unit: str = "KiB"
    power_of_two: bool = False
    multiple_of: int | str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self.lo = None if self.min is None else parse_size_literal(self.min)
        self.hi = None if self.max is None else parse_size_literal(self.max)
        self.step = None if self.multiple_of is None else parse_size_literal(self.multiple_of)

    def judge(self, text: str, node: Any) -> str | None:
        unit = node.get("unit") if isinstance(node, etree._Element) else None
        size = parse_size(text, unit, self.default_unit)
        if size is None:
            return None
        uneven = bool(self.step) and size % self.step != 0
        if not uneven and not _outside(size, self.lo, self.hi) and not (self.power_of_two and _not_pow2(size)):
            return None
        return f"{text.strip()} {unit or self.default_unit}"


@record
class CpusetTest(ValueTest):
    """A cpuset that is malformed, or (if asked) empty, above max, not one run, or naming ids the host lacks."""

    max: int | None = None
    empty: bool = False
    noncontiguous: bool = False
    # The size of the bitmap libvirt reads the set into (ids from it on are malformed).
    bits: int | None = None
    # An XPath number, per element: the set holds when it names an id above it.
    above: str | None = None
    # A host fact holding a set of ids (a cpuset string): the set holds when it names one outside it.
    host: str | None = None
    # An XPath number, per element: holds when the sets together name more ids than it (each set counted
    # on its own, as libvirt sums the bits of several bitmaps); silent when a set is malformed.
    total_above: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self.above_xp = compile_xpath(f"number({self.above})") if self.above else None
        self.total_xp = compile_xpath(f"number({self.total_above})") if self.total_above else None
        self._bound: float | None = None
        self._host_ids: set[int] | None = None

    def xpaths(self) -> tuple[etree.XPath, ...]:
        """The value expression, and the bounds'."""
        return (self.xp, *(x for x in (self.above_xp, self.total_xp) if x is not None))

    def _total(self, el: etree._Element) -> Hit | None:
        bound = self.total_xp(el) if self.total_xp is not None else None
        if not isinstance(bound, float) or bound != bound:
            return None
        total, shown = 0, []
        for text, _name, _node in self.values(el):
            cpus = parse_cpuset(text) if self.bits is None else parse_cpuset(text, self.bits)
            if cpus is None:
                return None
            total += len(cpus)
            shown.append(text)
        return Hit(str(total), ",".join(shown)) if total > bound else None

    def holds(self, el: etree._Element, ctx: Context) -> Hit | None:
        if self.total_xp is not None:
            return self._total(el)
        self._bound = None
        self._host_ids = None
        if self.above_xp is not None:
            bound = self.above_xp(el)
            if not isinstance(bound, float) or bound != bound:
                return None
            self._bound = bound
        if self.host is not None:
            fact = getattr(ctx.host, self.host, None) if ctx.host is not None else None
            ids = parse_cpuset(str(fact), 1 << 20) if fact not in (None, "") else None
            if ids is None:
                return None
            self._host_ids = ids
        return super().holds(el, ctx)

    def judge(self, text: str, node: Any) -> str | None:
        cpus = parse_cpuset(text) if self.bits is None else parse_cpuset(text, self.bits)
        if cpus is None:
            # A set libvirt cannot read: a finding only for the tests that are about its syntax.
            return text if self._bound is None and self._host_ids is None else None
        bad = ((self.empty and not cpus)
               or (self.max is not None and bool(cpus) and max(cpus) > self.max)
               or (self.noncontiguous and not is_contiguous(cpus))
               or (self._bound is not None and bool(cpus) and max(cpus) > self._bound)
               or (self._host_ids is not None and not cpus <= self._host_ids))
        return text if bad else None


@record
class EnumTest(ValueTest):
    """A value that is present but not one of the allowed ones."""

    allowed: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__post_init__()
        # Looked up for every value judged: a set when the values allow one.
        try:
            self._allowed: Any = frozenset(self.allowed)
        except TypeError:
            self._allowed = self.allowed

    def judge(self, text: str, node: Any) -> str | None:
        return text if text not in self._allowed else None


@record
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
        if self.as_ == "ints":
            # Several integers (C prefixes) joined by single spaces, e.g. the parts of
            # an address; a missing (empty) part reads 0, as libvirt's readers leave it.
            parts = tuple(parse_int(part, 0) if part else 0 for part in text.split(" "))
            return None if None in parts else parts
        if self.as_ in ("int", "hex"):
            return parse_int(text, 16 if self.as_ == "hex" else 0)
        if self.as_ == "decimals":
            # Like ints, but each part read in base 10 (as virXPathULongLong reads).
            parts = tuple(parse_int(part, 10) if part else 0 for part in text.split(" "))
            return None if None in parts else parts
        if self.as_ == "pci":
            return _pci_key(text)
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


@record
class SameTest(UniqueTest):
    """A key that differs from that of the first element with the same `within` value.

    {$name} is that first element's `label` (an XPath), {$value} this element's key.
    """

    label: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self.label_xp = compile_xpath(f"string({self.label})") if self.label else None

    def xpaths(self) -> tuple[etree.XPath, ...]:
        """The key, grouping and label expressions."""
        return super().xpaths() + ((self.label_xp,) if self.label_xp is not None else ())

    def holds(self, el: etree._Element, ctx: Context) -> Hit | None:
        first = ctx.state.setdefault(id(self), {})
        group = str(self.within_xp(el)) if self.within_xp is not None else ""
        key = self._key(str(self.xp(el)))
        if key is None:
            return None
        if group not in first:
            label = str(self.label_xp(el)) if self.label_xp is not None else ""
            first[group] = (key, label)
            return None
        other, label = first[group]
        return Hit(str(self.xp(el)), label) if key != other else None


def _pci_key(text: str) -> tuple[int, ...] | None:
    """'domain:bus:slot.function' (parts read with C prefixes, an empty part 0) as a tuple; None if a part is
    not a number, or if domain, bus and slot are all 0 (libvirt's "no address yet")."""
    head, _, func = text.partition(".")
    parts = [*head.split(":"), func]
    if len(parts) != 4:
        return None
    nums = tuple(parse_int(p, 0) if p.strip() else 0 for p in parts)
    if any(n is None or n < 0 for n in nums) or not any(nums[:3]):
        return None
    return nums  # type: ignore[return-value]


@record
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


# The guest architectures an emulator runs beyond its own (libvirt's virQEMUCapsIsArchSupported).
_ALSO_RUNS = {"x86_64": ("i686",), "aarch64": ("armv7l",), "armv7l": ("armv6l",), "ppc64": ("ppc64le",)}


def qemu_fact(caps: Any, fact: str) -> tuple[str, ...] | None:
    """A fact of the QEMU capability source, or None when the source does not say.

    guest_arches: the guest architectures the emulator runs (its own and those
    libvirt lets it run too); machines: its machine type names and aliases.
    """
    if fact == "guest_arches":
        arch = getattr(caps, "arch", None)
        return (arch, *_ALSO_RUNS.get(arch, ())) if arch else None
    if fact == "machines":
        machines = getattr(caps, "machines", ())
        if not machines:
            return None
        return tuple(sorted({str(m[k]) for m in machines for k in ("name", "alias") if m.get(k)}))
    raise ValueError(f"unknown QEMU fact {fact!r}")


@record
class QemuTest(Predicate):
    """A domain value compared with a fact of the QEMU capability source; silent when the source does not say."""

    value: str
    fact: str
    op: str = "not-in"

    def __post_init__(self) -> None:
        self.xp = compile_xpath(f"string({self.value})")
        qemu_fact(None, self.fact)  # an unknown fact is a rule error, found at load

    def xpaths(self) -> tuple[etree.XPath, ...]:
        """The value expression."""
        return (self.xp,)

    def holds(self, el: etree._Element, ctx: Context) -> Hit | None:
        known = qemu_fact(ctx.caps, self.fact)
        subject = str(self.xp(el))
        if known is None or subject == "":
            return None
        return Hit(subject, self.fact) if subject not in known else None


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


@record
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


@record
class CpuCompatTest(Predicate):
    """A guest <cpu> (custom mode) that the host CPU cannot provide, by the host's CPU map; silent when unknown."""

    def holds(self, el: etree._Element, ctx: Context) -> Hit | None:
        host = ctx.host
        if host is None or not getattr(host, "cpu_map", None) or not host.cpu_model:
            return None
        from .cpu import guest_cpu_problem

        problem = guest_cpu_problem(host.cpu_map, host.cpu_model, tuple(host.cpu_features), el)
        return Hit(problem, "cpu") if problem else None


# libvirt's domain types and the accelerator whose CPU model list QEMU reports for them.
_ACCEL = {"qemu": "tcg", "kvm": "kvm", "hvf": "hvf"}


def qemu_cpu_models(ctx: Context, domain_type: str) -> tuple[str, ...] | None:
    """The CPU models QEMU offers to a domain type: the capabilities' when they list any, else the host's; None: unknown."""
    listed = getattr(ctx.caps, "cpu_models", None)
    if listed:
        accel = _ACCEL.get(domain_type)
        return tuple(listed[accel]) if accel in listed else None
    models = getattr(ctx.host, "cpu_models", None) if ctx.host is not None else None
    return tuple(models) if models is not None else None


@record
class CpuModelTest(Predicate):
    """A CPU model name (value, or the host's CPU model) QEMU does not offer to the domain's accelerator; silent when unknown."""

    value: str | None = None
    host_model: bool = False

    def __post_init__(self) -> None:
        if (self.value is None) == (not self.host_model):
            raise ValueError("a cpu-model test takes exactly one of value and host_model: true")
        self.xp = compile_xpath(f"string({self.value})") if self.value else None

    def xpaths(self) -> tuple[etree.XPath, ...]:
        """The model expression, if any."""
        return () if self.xp is None else (self.xp,)

    def holds(self, el: etree._Element, ctx: Context) -> Hit | None:
        if self.xp is not None:
            name = str(self.xp(el))
        else:
            name = (getattr(ctx.host, "cpu_model", None) or "") if ctx.host is not None else ""
        if not name:
            return None
        models = qemu_cpu_models(ctx, el.getroottree().getroot().get("type", ""))
        if models is None or name in models:
            return None
        return Hit(name, "model")


def _power_level(name: str, prefix: str) -> int | None:
    rest = name[len(prefix):] if name.startswith(prefix) else ""
    level = parse_int(rest) if rest else None
    return level if level is not None and 6 <= level <= 10 else None


@record
class PowerCompatTest(Predicate):
    """A pSeries host-model CPU whose compatibility mode (powerN) the host's POWER CPU cannot offer; silent when unknown.

    Holds when the guest's mode is not one of power6 ... power10, or is newer
    than the host's POWER CPU, or the host CPU has no compatibility modes.
    """

    value: str = "string(model[1])"

    def __post_init__(self) -> None:
        self.xp = compile_xpath(f"string({self.value})")

    def xpaths(self) -> tuple[etree.XPath, ...]:
        """The compatibility mode expression."""
        return (self.xp,)

    def holds(self, el: etree._Element, ctx: Context) -> Hit | None:
        host = ctx.host
        if host is None or not host.cpu_model or host.arch not in ("ppc64", "ppc64le"):
            return None
        mode = str(self.xp(el))
        if not mode:
            return None
        guest, have = _power_level(mode, "power"), _power_level(host.cpu_model, "POWER")
        if guest is not None and have is not None and guest <= have:
            return None
        return Hit(mode, host.cpu_model)


def _version_family(name: str) -> str:
    """A machine type name without its last dash-separated part ('pc-q35-rhel9.2.0' -> 'pc-q35'), '' if it has none."""
    head, dash, _ = name.rpartition("-")
    return head if dash else ""


class _MachineTable:
    """The machine types of one capability source (those of one accelerator, or all), looked up by name."""

    def __init__(self, machines: tuple[dict[str, Any], ...]) -> None:
        self.machines = machines
        # The first machine of each name, and of each alias (as a search in list order finds them).
        self.by_name: dict[Any, dict[str, Any]] = {}
        self.by_alias: dict[Any, dict[str, Any]] = {}
        for m in machines:
            self.by_name.setdefault(m.get("name"), m)
            self.by_alias.setdefault(m.get("alias"), m)
        self.names = {str(m[k]) for m in machines for k in ("name", "alias") if m.get(k)}
        # Whether any name starts with 'family-', by family (asked of every domain whose machine is not listed).
        self.families: dict[str, bool] = {}

    def has_family(self, family: str) -> bool:
        """Whether a listed name or alias is a version of family ('pc-q35' for 'pc-q35-7.2')."""
        found = self.families.get(family)
        if found is None:
            prefix = family + "-"
            found = self.families[family] = any(n.startswith(prefix) for n in self.names)
        return found


# Each capability source's machine tables by (id of its machine list, accelerator or None for all): a run
# checks many domains under one source, and a QEMU lists some hundred machine types. The list is kept with
# its tables, so its id stays its own.
_machine_tables: dict[tuple[int, str | None], tuple[tuple[dict[str, Any], ...], _MachineTable]] = {}


def _machine_table(machines: tuple[dict[str, Any], ...], accel: str | None) -> _MachineTable:
    """The machine types of machines (those of accelerator accel, unless None), indexed."""
    key = (id(machines), accel)
    kept = _machine_tables.get(key)
    if kept is None or kept[0] is not machines:
        if len(_machine_tables) >= 32:  # a process judging under many sources keeps only the latest few
            _machine_tables.clear()
        chosen = machines if accel is None else tuple(m for m in machines if m.get("type", accel) == accel)
        kept = _machine_tables[key] = (machines, _MachineTable(chosen))
    return kept[1]


@record
class MachineTest(Predicate):
    """The domain's machine type, as the QEMU binary describes it, lacks (or has) a property; silent when unknown.

    Holds only when the capabilities list machine types and the domain's is
    one of them, so a source that describes no machines never fires it.
    exceeds + value: the number value yields is above the machine's numeric
    property (libvirt ignores a missing or zero limit). unknown: the binary
    lists machine types for the domain's accelerator and the domain's is not
    one of them, nor a version of a listed family (another release's or a
    distribution's 'pc-q35-rhel9.2.0' when 'pc-q35-7.2' is listed).
    """

    lacks: str | None = None
    has: str | None = None
    exceeds: str | None = None
    value: str | None = None
    unknown: bool = False

    def __post_init__(self) -> None:
        kinds = [k for k in (self.lacks, self.has, self.exceeds) if k is not None] + (["unknown"] if self.unknown else [])
        if len(kinds) != 1:
            raise ValueError("a machine test takes exactly one of lacks, has, exceeds and unknown")
        if (self.exceeds is None) != (self.value is None):
            raise ValueError("a machine test takes value exactly when it takes exceeds")
        self.xp = compile_xpath(f"string({self.value})") if self.value else None

    def xpaths(self) -> tuple[etree.XPath, ...]:
        """The value expression, if any."""
        return () if self.xp is None else (self.xp,)

    def holds(self, el: etree._Element, ctx: Context) -> Hit | None:
        machines = getattr(ctx.caps, "machines", ()) or ()
        root = el.getroottree().getroot()
        type_el = _os_type(root)
        name = (type_el.get("machine") or "") if type_el is not None else ""
        accel = None
        if self.exceeds is not None or self.unknown:
            # libvirt looks the machine up in the list of the domain's accelerator.
            accel = "kvm" if root.get("type") == "kvm" else "hvf" if root.get("type") == "hvf" else "tcg"
        table = _machine_table(machines, accel)
        if self.unknown:
            if not table.machines or not name:
                return None
            names = table.names
            family = _version_family(name)
            if name in names or (family and table.has_family(family)):
                return None
            return Hit(name, "machine")
        found = table.by_name.get(name) or table.by_alias.get(name)
        if found is None:
            return None
        if self.exceeds is not None:
            limit = parse_int(str(found.get(self.exceeds) or ""), 10)
            wanted = parse_int(str(self.xp(el)).strip(), 10) if self.xp is not None else None
            if not limit or limit <= 0 or wanted is None or wanted <= limit:
                return None
            return Hit(str(wanted), f"{self.exceeds} {limit}")
        if self.lacks is not None:
            return Hit(name, self.lacks) if found.get(self.lacks) in (None, "") else None
        return Hit(name, str(self.has)) if found.get(str(self.has)) not in (None, "") else None


# libvirt 9.0's USB address reservation (domain_addr.c, qemu_domain_address.c).
# USB models whose controller is no bus of its own: companions of an EHCI, and 'none'.
_USB_NO_BUS = frozenset({"ich9-uhci1", "ich9-uhci2", "ich9-uhci3", "none", "qusb1", "qusb2"})
# The devices libvirt gives USB addresses, hubs first, in its order.
_USB_DEVICES = (
    "hub[@type='usb']", "hostdev[@type='usb']", "disk[target/@bus='usb']", "controller[@type='ccid']",
    "input[@bus='usb'][not(@type='passthrough' or @type='evdev')]", "serial[target/@type='usb-serial']",
    "sound[@model='usb']", "redirdev[@bus='usb']",
)
# Compiled when a document first has a USB address to judge.
_USB_DEVICE_XP: list[etree.XPath] = []


def _usb_port(text: str | None) -> tuple[int, ...] | None:
    """A port path ('1.2') as numbers without trailing zeros; () for none given or a first part 0, None if malformed."""
    if text is None:
        return ()
    parts = text.split(".")
    if len(parts) > 4:
        return None
    nums = []
    for part in parts:
        n = parse_int(part.strip().lstrip("+"), 10)
        if n is None or n < 0:
            return None
        nums.append(n)
    while nums and nums[-1] == 0:
        nums.pop()
    return tuple(nums) if nums and nums[0] else ()


def usb_address_problems(root: etree._Element) -> dict[Any, tuple[str, str]]:
    """Each USB <address> libvirt 9.0 would refuse, mapped to (problem, 'bus B port P')."""
    arch_el = root.find("os/type")
    machine = arch_el.get("machine", "") if arch_el is not None else ""
    buses: set[int] = set()
    written_usb0 = False
    for ctrl in root.iterfind("devices/controller"):
        if ctrl.get("type") != "usb":
            continue
        n = parse_int(ctrl.get("index", "0"), 10)
        written_usb0 = written_usb0 or n == 0
        if n is not None and ctrl.get("model") not in _USB_NO_BUS:
            buses.add(n)
    # q35's USB controller 0 depends on QEMU's capabilities: never call its bus missing.
    maybe = {0} if is_q35(machine) and not written_usb0 else set()
    hubs: set[tuple[int, tuple[int, ...]]] = set()
    taken: set[tuple[int, tuple[int, ...]]] = set()
    problems: dict[Any, tuple[str, str]] = {}
    if not _USB_DEVICE_XP:
        _USB_DEVICE_XP.extend(compile_xpath(f"/domain/devices/{d}/address[@type='usb']") for d in _USB_DEVICES)
    for i, xp in enumerate(_USB_DEVICE_XP):
        for addr in xp(root):
            bus = parse_int(addr.get("bus", "0"), 10)
            port = _usb_port(addr.get("port"))
            if bus is None or port is None:
                continue
            where = f"bus {bus}" + (f" port {'.'.join(map(str, port))}" if port else "")
            if bus not in buses:
                if bus not in maybe:
                    problems[addr] = ("no-bus", where)
                continue
            if not port:
                continue
            if any((bus, port[:k]) not in hubs for k in range(1, len(port))):
                problems[addr] = ("no-hub", where)
                continue
            if (bus, port) in taken:
                problems[addr] = ("duplicate", where)
                continue
            taken.add((bus, port))
            if i == 0:
                hubs.add((bus, port))
    return problems


@record
class UsbAddressTest(Predicate):
    """A USB <address> that libvirt 9.0's USB port reservation refuses for the given reason."""

    problem: str

    def holds(self, el: etree._Element, ctx: Context) -> Hit | None:
        problems = ctx.state.get(id(self))
        if problems is None:
            problems = ctx.state[id(self)] = usb_address_problems(el.getroottree().getroot())
        found = problems.get(el)
        return Hit(found[1], "address") if found and found[0] == self.problem else None


# What address assignment refused in the document last asked about: (key, result).
_assigned: tuple[Any, Any] = (None, None)


def _assignment(ctx: Context) -> Any:
    """The document of ctx after 1.2.8's address assignment (domlint.cmdline.Assigned), once per document."""
    global _assigned
    key = (id(ctx.doc), id(ctx.host), ctx.caps)
    if _assigned[0] != key:
        # The 1.2.8 emitter's own assignment, imported only when a rule asks (check never needs the emitter else).
        from .caps import Caps
        from .cmdline import assignment

        caps = ctx.caps if isinstance(ctx.caps, Caps) else Caps(frozenset(ctx.caps or ()))
        _assigned = (key, assignment(ctx.doc, caps, ctx.host))
    return _assigned[1]


@record
class AssignTest(Predicate):
    """An element libvirt 1.2.8's address or alias assignment refuses with this problem (replayed once per document)."""

    problem: str

    def holds(self, el: etree._Element, ctx: Context) -> Hit | None:
        # Looked up once per selection: the test meets the domain and every device in turn.
        state = ctx.state
        key = id(self)
        if key in state:
            found = state[key]
        else:
            found = state[key] = _assignment(ctx).problem if ctx.doc is not None and ctx.host is not None else None
        if found is None or found[0] is not el or found[1] != self.problem:
            return None
        return Hit(found[2], "")

    def narrow(self, elements: list[etree._Element], ctx: Context) -> list[etree._Element]:
        """The element of the selection assignment refused with this problem, if any (one replay per document):
        the rule meets the domain and every device, and most domains are assigned without a refusal."""
        found = _assignment(ctx).problem if ctx.doc is not None and ctx.host is not None else None
        if found is None or found[1] != self.problem:
            return []
        return [el for el in elements if el is found[0]]


@record
class AssignedTest(ValueTest):
    """A value read from the element as 1.2.8 assigned it (its address, say) that is not one of allowed."""

    allowed: list[str] = field(default_factory=list)

    def holds(self, el: etree._Element, ctx: Context) -> Hit | None:
        if ctx.doc is None or ctx.host is None:
            return None
        done = _assignment(ctx)
        mine = done.copy_of.get(el)
        if done.problem is not None or mine is None:
            # A refused assignment is reported as such; its half-assigned domain says nothing more.
            return None
        values = [text for text, _, _ in _values(self.xp, mine)] or [""]
        bad = next((v for v in values if v not in self.allowed), None)
        return Hit(bad or "none", "") if bad is not None else None


@record
class CpuMapTest(ValueTest):
    """A CPU model or feature name the CPU map lacks: the host profile's map, else the target's own (x86 names)."""

    kind: str = "model"

    def holds(self, el: etree._Element, ctx: Context) -> Hit | None:
        from .cpu import KVM_FEATURES, load_map, target_map

        path = getattr(ctx.host, "cpu_map", None) or (target_map(ctx.target.folder) if ctx.target is not None else None)
        if not path:
            return None
        cpu_map = load_map(str(path))
        self._names = set(cpu_map.models) if self.kind == "model" else {*cpu_map.features, *(n for n, _ in KVM_FEATURES)}
        return super().holds(el, ctx)

    def judge(self, text: str, node: Any) -> str | None:
        """The name, when the map does not define it."""
        return text if text.strip() not in self._names else None


@record
class VolumeTest(Predicate):
    """A <disk type='volume'> whose pool volume, looked up in the host profile's pools, is unresolvable or a network disk."""

    problem: str

    def holds(self, el: etree._Element, ctx: Context) -> Hit | None:
        if ctx.doc is None or ctx.host is None or not getattr(ctx.host, "raw", {}).get("storage_pools"):
            return None
        from .caps import Caps
        from .cmdline import volume_problem

        caps = ctx.caps if isinstance(ctx.caps, Caps) else Caps(frozenset(ctx.caps or ()))
        found = volume_problem(ctx.doc, caps, ctx.host, el)
        return Hit(found[1], "source") if found is not None and found[0] == self.problem else None


@record
class IncomingTest(Predicate):
    """The start is from an incoming migration of this protocol (and, with fd, has or lacks its descriptor)."""

    protocol: str
    fd: bool | None = None

    def holds(self, el: etree._Element, ctx: Context) -> Hit | None:
        start = ctx.start
        if start is None or start.protocol != self.protocol:
            return None
        if self.fd is not None and (start.incoming_fd is not None) != self.fd:
            return None
        return Hit(str(start.incoming), "incoming")


def _unique(spec: dict[str, Any]) -> UniqueTest:
    return UniqueTest(key=spec["key"], as_=spec.get("as", "string"), within=spec.get("within"))


BUILDERS: dict[str, Callable[[dict[str, Any]], Predicate]] = {
    "int": lambda s: IntTest(**s),
    "size": lambda s: SizeTest(**s),
    "cpuset": lambda s: CpusetTest(**s),
    "unique": _unique,
    "same": lambda s: SameTest(key=s["key"], as_=s.get("as", "string"), within=s.get("within"),
                               label=s.get("label")),
    "enum": lambda s: EnumTest(**s),
    "host": lambda s: HostTest(**s),
    "qemu": lambda s: QemuTest(**s),
    "pci": lambda s: PciTest(**s),
    "cpu-compat": lambda s: CpuCompatTest(),
    "cpu-model": lambda s: CpuModelTest(**s),
    "power-compat": lambda s: PowerCompatTest(**s),
    "machine": lambda s: MachineTest(**s),
    "usb-address": lambda s: UsbAddressTest(**s),
    "assign": lambda s: AssignTest(**s),
    "assigned": lambda s: AssignedTest(**s),
    "incoming": lambda s: IncomingTest(**s),
    "cpu-map": lambda s: CpuMapTest(**s),
    "volume": lambda s: VolumeTest(**s),
}


def build(spec: dict[str, Any]) -> Predicate:
    """Compile one test from its rule-file form."""
    (kind, body), = spec.items()
    return BUILDERS[kind](dict(body))
