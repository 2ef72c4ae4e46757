"""The numbers libvirt 1.2.8 reads with its strtol-family readers when it defines a domain.

Each reader accepts what C's strtol/strtoul accept (leading white space, a sign,
C prefixes in base 0 or 16) and nothing after the digits. Unsigned readers let
'-5' wrap around, the 'p' ones refuse any minus sign. A field whose text a reader
refuses makes libvirt refuse the whole domain, so domlint refuses it too, as an
input error naming the line, instead of treating the text as some other number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lxml import etree

from .errors import InputError
from .record import record
from .selectors import needs_of
from .values import LLONG_MAX, LazyPattern, is_digits, unit_scale

if TYPE_CHECKING:
    from .walk import Walk

_DIGITS = {8: "0-7", 10: "0-9", 16: "0-9a-fA-F"}
_DIGIT_RUN = {base: LazyPattern(f"[{digits}]+") for base, digits in _DIGITS.items()}
# C's isspace in the C locale.
_SPACE = " \t\n\v\f\r"


@record(frozen=True)
class Reader:
    """One of libvirt's virStrToLong_* functions: the C type's range and how a minus sign is taken."""

    lo: int
    hi: int
    unsigned: bool
    minus_ok: bool
    ctype: str

    def read(self, text: str, base: int) -> int | None:
        """The value libvirt stores for text, or None when its reader refuses it."""
        if base == 10 and is_digits(text):
            value = int(text)  # the usual spelling, read without the general path below
            return value if self.lo <= value <= self.hi else None
        rest = text.lstrip(_SPACE)
        sign = 1
        if rest[:1] in ("+", "-"):
            sign = -1 if rest[0] == "-" else 1
            rest = rest[1:]
        if base == 0:
            base = 16 if rest[:2].lower() == "0x" and _hexdigit(rest[2:3]) else 8 if rest[:1] == "0" else 10
        if base == 16 and rest[:2].lower() == "0x" and _hexdigit(rest[2:3]):
            rest = rest[2:]
        if not rest or not _DIGIT_RUN[base].fullmatch(rest):
            return None
        magnitude = int(rest, base)
        if sign < 0 and not self.minus_ok:
            return None
        if not self.unsigned:
            value = sign * magnitude
            return value if self.lo <= value <= self.hi else None
        if magnitude > self.hi:
            return None
        # strtoul negates in the unsigned type: '-5' is the maximum less 4.
        return (self.hi + 1 - magnitude) % (self.hi + 1) if sign < 0 else magnitude


@record(frozen=True)
class TruncatingReader(Reader):
    """virXPathULong stored into an unsigned int: read as an unsigned long, then cut to its low 32 bits."""

    def read(self, text: str, base: int) -> int | None:
        """The low 32 bits of what virXPathULong reads, or None when it refuses text."""
        value = ULONG.read(text, base)
        return None if value is None else value & self.hi


_XPATH_NUMBER = etree.XPath("number($text)", regexp=False)


@record(frozen=True)
class XPathNumberReader(Reader):
    """virXPathLongLong on number(...): libxml2's XPath number, kept only when it is a whole long long."""

    def read(self, text: str, base: int) -> int | None:
        """The whole number XPath's number() makes of text (the same libxml2 as libvirt's), or None."""
        value = _XPATH_NUMBER(_EMPTY, text=text)
        if value != value or not value.is_integer() or not -2**63 <= value < 2**63:
            return None
        return int(value)


_EMPTY = etree.Element("n")


def _hexdigit(ch: str) -> bool:
    return bool(ch) and ch in "0123456789abcdefABCDEF"


INT = Reader(-2**31, 2**31 - 1, unsigned=False, minus_ok=True, ctype="an int")                   # virStrToLong_i
LONG = Reader(-2**63, 2**63 - 1, unsigned=False, minus_ok=True, ctype="a long long")             # _l, _ll
UINT = Reader(0, 2**32 - 1, unsigned=True, minus_ok=True, ctype="an unsigned int")               # _ui
UINT_NONNEG = Reader(0, 2**32 - 1, unsigned=True, minus_ok=False, ctype="a non-negative int")    # _uip
ULONG = Reader(0, 2**64 - 1, unsigned=True, minus_ok=True, ctype="an unsigned long long")        # _ul, _ull
# virCPUDefParseXML's topology counts: virXPathULong cast to an unsigned int.
ULONG_TO_UINT = TruncatingReader(0, 2**32 - 1, unsigned=True, minus_ok=True, ctype="an unsigned long")
# Its bounds are those of the plain decimals taken as read without XPath: beyond 2**53 a double rounds
# (libvirt stores 9007199254740992 for 9007199254740993, and 0 for 9223372036854775807).
XPATH_LONG = XPathNumberReader(-2**53, 2**53, unsigned=False, minus_ok=True, ctype="a whole XPath number")
# virXPathUInt: ULONG with this bound (so '-5', wrapped to 2**64 - 5, is refused).
XUINT_HI = 2**32 - 1


@record(frozen=True)
class Field:
    """A number libvirt reads at define time: where, with which reader and base, and what it is called."""

    xpath: str
    reader: Reader
    base: int
    what: str
    # virXPath*-read fields treat empty text as absent.
    empty_is_absent: bool = False
    lo: int | None = None
    hi: int | None = None
    # False where a rule already reports a malformed value as a finding: only respelled here.
    refuse: bool = True
    # A size: the number times its unit (the attribute, KiB when none) must stay within LLONG_MAX bytes.
    scaled: bool = False
    # Addresses keep a plain 0x spelling (the readers of addresses take C prefixes); other numbers become decimal.
    hex_ok: bool = False
    # A size's default unit in bytes, and the most bytes libvirt takes.
    scale: int = 1024
    max_bytes: int = LLONG_MAX
    # Where libvirt quietly stores a fallback for text it cannot read, that fallback (no refusal).
    bad: str | None = None
    # Words libvirt takes in place of a number ('reset'), left alone.
    words: tuple[str, ...] = ()
    # An element whose empty text libvirt takes as no element at all: normalisation removes it
    # (an empty attribute read by a virXPath function is removed whenever empty_is_absent).
    drop_empty: bool = False


# Fields the rules or the emitter read as numbers.
FIELDS: tuple[Field, ...] = (
    *(Field(f"devices/*/address[@type='drive']/@{a}", UINT, 10, f"drive address {a}")
      for a in ("controller", "bus", "target", "unit")),
    *(Field(f"devices/*/address[@type='pci']/@{a}", UINT, 0, f"PCI address {a}", hex_ok=True)
      for a in ("domain", "bus", "slot", "function")),
    *(Field(f"devices/*/address[@type='ccid']/@{a}", UINT, 10, f"ccid address {a}") for a in ("controller", "slot")),
    *(Field(f"devices/*/address[@type='virtio-serial']/@{a}", UINT, 10, f"virtio-serial address {a}")
      for a in ("controller", "bus", "port")),
    Field("devices/*/address[@type='spapr-vio']/@reg", ULONG, 16, "spapr-vio address reg", hex_ok=True),
    *(Field(f"devices/controller/driver/@{a}", UINT, 10, f"controller driver {a}") for a in ("queues", "cmd_per_lun")),
    # libvirt 1.2.8 only logs a max_sectors it cannot read and goes on without one (no goto error after
    # its report): kept as written, the rule controller-driver-max-sectors-malformed warns, argv leaves it out.
    Field("devices/controller/driver/@max_sectors", UINT, 10, "controller driver max_sectors", refuse=False),
    Field("devices/interface/driver/@queues", UINT, 10, "interface driver queues"),
    Field("devices/disk/driver/@iothread", UINT_NONNEG, 10, "disk driver iothread"),
    Field("iothreads[1]", UINT_NONNEG, 10, "<iothreads>"),
    Field("devices/disk/iotune/*", ULONG, 10, "<iotune> limit", empty_is_absent=True),
    Field("devices/video/model/@vram", UINT, 10, "video vram"),
    Field("devices/video/model/@ram", UINT, 10, "video ram"),
    *(Field(f"devices/graphics/@{a}", INT, 10, f"graphics {a}") for a in ("port", "tlsPort", "websocket")),
    Field("devices/*/boot/@order", INT, 10, "boot order", lo=1),
    # Both vCPU counts fit libvirt's unsigned short and are at least 1.
    # Sizes (virDomainParseMemory, virDomainHugepagesParseXML); <memory> is required, so empty text is refused.
    Field("memory[1]", ULONG, 10, "<memory>", scaled=True),
    Field("currentMemory[1]", ULONG, 10, "<currentMemory>", empty_is_absent=True, scaled=True),
    *(Field(f"memtune/{e}[1]", ULONG, 10, f"<memtune> {e}", empty_is_absent=True, scaled=True)
      for e in ("hard_limit", "soft_limit", "min_guarantee", "swap_hard_limit")),
    Field("memoryBacking/hugepages/page/@size", ULONG, 10, "hugepage size", scaled=True),
    Field("vcpu[1]", ULONG, 10, "<vcpu>", empty_is_absent=True, lo=1, hi=65535),
    Field("vcpu[1]/@current", ULONG, 10, "vcpu current", empty_is_absent=True, lo=1, hi=65535),
    Field("os/bios[1]/@rebootTimeout", INT, 0, "bios rebootTimeout", lo=-1, hi=65535),
    Field("os/bootmenu[1][@enable='yes']/@timeout", UINT_NONNEG, 0, "bootmenu timeout", hi=65535, refuse=False),
    Field("devices/controller/@index", UINT, 10, "controller index", hi=2**31 - 1, refuse=False),
    Field("cpu/numa/cell/@id", UINT_NONNEG, 10, "NUMA cell id", refuse=False),
    Field("numatune/memnode/@cellid", UINT_NONNEG, 10, "numatune memnode cellid", refuse=False),
    Field("cputune/period[1]", ULONG, 10, "<cputune> period", empty_is_absent=True),
    Field("cputune/quota[1]", LONG, 10, "<cputune> quota", empty_is_absent=True),
    Field("cputune/emulator_period[1]", ULONG, 10, "<cputune> emulator_period", empty_is_absent=True),
    Field("cputune/emulator_quota[1]", LONG, 10, "<cputune> emulator_quota", empty_is_absent=True),
    Field("cputune/shares[1]", ULONG, 10, "<cputune> shares", empty_is_absent=True),
    # The other address types (ccw's bounds are those libvirt checks the address against).
    *(Field(f"devices/*/address[@type='ccw']/@{a}", UINT, 0, f"ccw address {a}", hi=hi, hex_ok=True)
      for a, hi in (("cssid", 254), ("ssid", 3), ("devno", 65535))),
    Field("devices/*/address[@type='usb']/@bus", UINT, 10, "USB address bus"),
    *(Field(f"devices/*/address[@type='isa']/@{a}", UINT, 16, f"ISA address {a}") for a in ("iobase", "irq")),
    # Host device sources: every number in C notation.
    *(Field(f"devices/{dev}/source/address/@{a}", UINT, 0, f"host PCI address {a}", hex_ok=True)
      for dev in ("hostdev[@type='pci']", "interface[@type='hostdev']") for a in ("domain", "bus", "slot", "function")),
    *(Field(f"devices/hostdev[@type='usb']/source/address/@{a}", UINT, 0, f"host USB address {a}", hex_ok=True)
      for a in ("bus", "device")),
    *(Field(f"devices/hostdev[@type='usb']/source/{e}/@id", UINT, 0, f"host USB {e} id", hex_ok=True)
      for e in ("vendor", "product")),
    *(Field(f"devices/hostdev[@type='scsi']/source/address/@{a}", UINT, 0, f"host SCSI address {a}", hex_ok=True)
      for a in ("bus", "target", "unit")),
    # Controllers, disks, video, NICs, character devices.
    *(Field(f"devices/controller[@type='virtio-serial']/@{a}", INT, 10, f"virtio-serial controller {a}", lo=0)
      for a in ("ports", "vectors")),
    Field("devices/controller/master/@startport", UINT, 10, "USB master startport"),
    Field("devices/controller[@type='pci'][@model='pci-root' or @model='pcie-root']/pcihole64[1]", ULONG, 10,
          "<pcihole64>", empty_is_absent=True, scaled=True, max_bytes=2**64 - 1024, drop_empty=True),
    *(Field(f"devices/disk/geometry/@{a}", ULONG, 10, f"disk geometry {a}", hi=XUINT_HI)
      for a in ("cyls", "heads", "secs")),
    *(Field(f"devices/disk/blockio/@{a}", UINT, 0, f"disk blockio {a}")
      for a in ("logical_block_size", "physical_block_size")),
    Field("devices/video/model/@heads", UINT, 10, "video heads"),
    Field("devices/interface[@type='server' or @type='client' or @type='mcast']/source[1]/@port", INT, 10,
          "interface source port"),
    Field("devices/interface/tune[1]/sndbuf[1]", ULONG, 10, "interface sndbuf", empty_is_absent=True),
    *(Field(f"devices/{dev}/target/@port", UINT, 10, f"{dev} target port") for dev in ("serial", "parallel", "console")),
    Field("devices/channel/target[@type='guestfwd']/@port", UINT, 10, "guestfwd target port"),
    *(Field(f"devices/filesystem/{e}[1]", ULONG, 10, f"filesystem {e}", empty_is_absent=True, scaled=True, scale=1,
            max_bytes=2**64 - 1) for e in ("space_hard_limit", "space_soft_limit")),
    Field("devices/memballoon/stats/@period", ULONG, 10, "memballoon stats period", empty_is_absent=True, hi=XUINT_HI),
    Field("devices/rng/rate/@bytes", ULONG, 10, "rng rate bytes", empty_is_absent=True, hi=XUINT_HI),
    # The period is read only when bytes (respelled above, or some spelling of zero) is not 0.
    Field("devices/rng/rate[translate(@bytes, ' +-0', '') != '']/@period", ULONG, 10, "rng rate period",
          empty_is_absent=True, hi=XUINT_HI),
    # A class is -1 (any) or one byte; vendor and product ids are any int.
    Field("devices/redirfilter/usbdev/@class", INT, 0, "redirfilter class", hex_ok=True, lo=-1, hi=255),
    *(Field(f"devices/redirfilter/usbdev/@{a}", INT, 0, f"redirfilter {a}", hex_ok=True) for a in ("vendor", "product")),
    # The guest CPU and NUMA cells (cell memory in KiB, no unit in 1.2.8).
    *(Field(f"cpu/topology[1]/@{a}", ULONG_TO_UINT, 10, f"CPU topology {a}", lo=1) for a in ("sockets", "cores", "threads")),
    Field("cpu/numa/cell/@memory", UINT, 10, "NUMA cell memory"),
    # Clock: a utc or localtime clock's adjustment must read; a variable clock's is XPath's number(), 0 when not whole.
    *(Field(f"clock[@offset='{o}']/@adjustment", LONG, 10, "clock adjustment", words=("reset",))
      for o in ("utc", "localtime")),
    Field("clock[@offset='variable']/@adjustment", XPATH_LONG, 10, "clock adjustment", bad="0"),
    Field("clock/timer/frequency[1]", ULONG, 10, "timer frequency", empty_is_absent=True),
    *(Field(f"clock/timer/catchup[1]/@{a}", ULONG, 10, f"timer catchup {a}", empty_is_absent=True)
      for a in ("threshold", "slew", "limit")),
    # virXPathUInt failing leaves the weight 0 (no weight); the retry count a rule judges once respelled.
    Field("blkiotune[1]/weight[1]", ULONG, 10, "<blkiotune> weight", hi=XUINT_HI, bad="0"),
    Field("features/hyperv/spinlocks[@state='on']/@retries", ULONG, 10, "hyperv spinlocks retries", hi=XUINT_HI,
          refuse=False),
    # Per-device block I/O tuning (virDomainBlkioDeviceParseXML reads the element text as is) and lease offsets.
    *(Field(f"blkiotune/device/{e}", UINT, 10, f"<blkiotune> device {e}")
      for e in ("weight", "read_iops_sec", "write_iops_sec")),
    *(Field(f"blkiotune/device/{e}", ULONG, 10, f"<blkiotune> device {e}")
      for e in ("read_bytes_sec", "write_bytes_sec")),
    Field("devices/lease/target[1]/@offset", ULONG, 10, "lease target offset"),
)
# Numbers read elsewhere, and why they have no Field:
# - USB address port ('1.2.3'), a redirfilter version ('2.0'): dotted text libvirt keeps and checks part by
#   part; the emitter passes the port on as written.
# - <disk>/<hostdev> <source><host port>: libvirt keeps the text; only the command-line builder reads it,
#   where the rules disk-network-port and hostdev-iscsi-port report one it cannot read.
# - cpusets (vcpu, NUMA cells, numatune, hugepage nodesets): read by the cpuset rules and values.parse_cpuset.
# - A timer's frequency attribute: libvirt 1.2.8 reads only a <frequency> child element (above).

# A field's attribute (None for the element's text) and the (attribute, value)
# its element must have, taken out of a last [@a='v'] step so that fields of one
# element with different types share one XPath. Last, the bounds of a plain decimal
# value that is left as written (a decimal field's own and its reader's), None for
# fields without that shortcut: most values are such, and are passed over at once.
_Member = tuple[Field, str | None, tuple[str, str] | None, int | None, int | None]
# Fields grouped by the element holding them: (XPath to the elements, the
# element names a document must hold for it to find any, the members). Made on first use.
# Each group's XPath is compiled when a document first holds its elements (most never do).
_GROUPS: list[list[Any]] = []
# Which groups a document may need, found without a loop over all of them: each branch of a
# group's names has one key name (the one fewest branches share), and a group is looked at
# only when a document holds the key of one of its branches. _ALWAYS: groups with a branch
# that needs no name. Made with _GROUPS.
_BY_KEY: dict[str, list[int]] = {}
_KEYS: frozenset[str] = frozenset()
_ALWAYS: list[int] = []
# Every fact the choice of groups reads (the element names of every branch, the attribute
# names of the attribute-only groups): the groups a walked document needs depend only on
# which of these it holds, and the few such sets the domains of a run hold each get the
# list worked out once (_PLANS, emptied when it grows past _PLANS_MAX).
_UNIVERSE: frozenset[str] = frozenset()
_PLANS: dict[frozenset[str], list[int]] = {}
_PLANS_MAX = 1024
# Where a group's elements are children of the root ('memory[1]', 'clock') or of <devices>
# ('devices/controller'), the walk's index has them: (where, tag, first only) per group, else None.
_DIRECT = LazyPattern(r"(devices/)?([A-Za-z_][\w.-]*)(\[1\])?\Z")
_LAST_TEST = LazyPattern(r"(.*[^\]])\[@([A-Za-z_]+)='([^']*)'\]\Z")


def _element_names(xpaths: list[str]) -> list[list[frozenset[str]] | None]:
    """For each XPath, the element names each of its branches needs (None: it may match anything)."""
    out: list[list[frozenset[str]] | None] = []
    for xpath in xpaths:
        needs = needs_of(xpath)
        # Only element names are checked: reading a document's tags costs a fifth of all its facts.
        out.append(None if needs is None else [frozenset(f for f in every if isinstance(f, str) and f[:1] != "@")
                                                for every, _ in needs])
    return out


def _groups() -> list[list[Any]]:
    """Per group: [XPath to the elements (its text until first used), the element names needed, the members,
    their dispatch by a tested attribute (_dispatch), the walk's index that holds the elements (_direct),
    the attribute names read (when only attributes are)]."""
    if not _GROUPS:
        from . import cache

        by_element: dict[str, list[_Member]] = {}
        for f in FIELDS:
            element, found, attr = f.xpath.rpartition("/@")
            element = element if found else f.xpath
            test = _LAST_TEST.match(element)
            if test:
                element = test.group(1)
            plain = f.base != 16 and not f.scaled and not f.words
            by_element.setdefault(element, []).append(
                (f, attr if found else None, (test.group(2), test.group(3)) if test else None,
                 max(f.reader.lo, f.lo if f.lo is not None else f.reader.lo) if plain else None,
                 min(f.reader.hi, f.hi if f.hi is not None else f.reader.hi) if plain else None))
        # Worked out once per install, like the rule pack's select index.
        names = cache.load("numbers", [], lambda: _element_names(list(by_element)))
        for (xpath, fields), needed in zip(by_element.items(), names, strict=True):
            # The attribute names (as facts) a group reads, when it reads only attributes: a
            # document holding none of them gives it nothing to do ('devices/*/boot' wants @order).
            attrs = None if any(m[1] is None for m in fields) else frozenset("@" + m[1] for m in fields)
            _GROUPS.append([xpath, needed, fields, _dispatch(fields), _direct(xpath), attrs])
        _index_keys()
    return _GROUPS


def _dispatch(fields: list[_Member]) -> tuple[str, dict[str, list[_Member]], list[_Member]] | None:
    """For a group whose members test one attribute ([@type='pci']): (that attribute, the members that
    apply for each value, in their order, those for any other value), so an element meets only its own."""
    tested = {m[2][0] for m in fields if m[2] is not None}
    if len(tested) != 1:
        return None
    untested = [m for m in fields if m[2] is None]
    values = {m[2][1] for m in fields if m[2] is not None}
    # Each list holds the members for its element with the test taken out: the element passed it.
    return (tested.pop(), {v: [(m[0], m[1], None, m[3], m[4]) if m[2] is not None else m
                               for m in fields if m[2] is None or m[2][1] == v] for v in values}, untested)


def _direct(xpath: str) -> tuple[bool, str, bool] | None:
    """(under <devices>, tag, first only) for an XPath to children of the root or of <devices>, else None."""
    m = _DIRECT.match(xpath)
    if not m or (m.group(1) and m.group(3)):
        return None
    return bool(m.group(1)), m.group(2), bool(m.group(3))


def _index_keys() -> None:
    global _KEYS
    shared: dict[str, int] = {}
    for _, needed, *_rest in _GROUPS:
        for branch in needed or ():
            for name in branch:
                shared[name] = shared.get(name, 0) + 1
    for i, (_, needed, *_rest) in enumerate(_GROUPS):
        if needed is None or any(not branch for branch in needed):
            _ALWAYS.append(i)
            continue
        for branch in needed:
            key = min(branch, key=lambda n: (shared[n], n))
            if i not in _BY_KEY.setdefault(key, []):
                _BY_KEY[key].append(i)
    _KEYS = frozenset(_BY_KEY)
    global _UNIVERSE
    _UNIVERSE = frozenset(shared) | frozenset(a for *_rest, attrs in _GROUPS for a in attrs or ())


def _wanted(tags: set[Any] | frozenset[Any], walked: bool) -> list[int]:
    """The positions of the groups a document holding tags may find something in, in order.

    walked: tags hold the attribute names too (a walk's facts), so a group reading only
    attributes the document lacks is left out.
    """
    wanted = list(_ALWAYS)
    for key in _KEYS.intersection(tags):
        wanted.extend(_BY_KEY[key])
    out = []
    for i in sorted(set(wanted)):
        _, names, _, _, _, attrs = _GROUPS[i]
        if attrs is not None and walked and attrs.isdisjoint(tags):
            continue
        if names is not None and not any(n <= tags for n in names):
            continue
        out.append(i)
    return out


def refusal(f: Field, text: str, unit: str | None = None) -> str | None:
    """Why libvirt refuses text in field f (a size in unit), or None when it reads a number from it."""
    if f.empty_is_absent and text == "":
        return None
    value = f.reader.read(text, f.base)
    scale = unit_scale(unit or "", f.scale) if f.scaled else None
    # An unknown unit is a separate complaint; only the number is judged here.
    if value is not None and scale is not None and value * scale > f.max_bytes:
        shown = unit or ("KiB" if f.scale == 1024 else "bytes")
        return f"{f.what} {text!r} {shown} is more than {f.max_bytes} bytes; libvirt refuses the domain"
    if value is not None and (f.lo is None or value >= f.lo) and (f.hi is None or value <= f.hi):
        return None
    style = {0: "a C integer (decimal, 0x hexadecimal or 0 octal)", 10: "a decimal integer",
             16: "a hexadecimal integer"}[f.base]
    if value is None:
        bound = f" that fits {f.reader.ctype}"
    elif f.lo is not None and f.hi is not None:
        bound = f" from {f.lo} to {f.hi}"
    else:
        bound = f" of at least {f.lo}" if f.lo is not None else f" up to {f.hi}"
    return f"{f.what} {text!r} is not {style}{bound}; libvirt refuses the domain"


_PLAIN = {0: LazyPattern(r"(0[xX][0-9a-fA-F]+|0|[1-9][0-9]*)\Z"),
          16: LazyPattern(r"(0[xX])?[0-9a-fA-F]+\Z")}


def spelling(f: Field, text: str) -> str | None:
    """The plain spelling of an accepted value libvirt would store, or None when text is plain already."""
    value = f.reader.read(text, f.base)
    if value is None or text == str(value) or (f.hex_ok and bool(_PLAIN[f.base].match(text))):
        return None
    # Decimal reads back the same in base 0; base 16 must stay hexadecimal.
    return hex(value) if f.base == 16 else str(value)


def _settled(f: Field, text: str, el: etree._Element) -> bool:
    """Whether text is already what libvirt stores for f: a plain number within range, nothing to refuse
    or respell. The usual case, decided without refusal() and spelling() (the same answers)."""
    if f.base != 16 and is_digits(text) and (text[0] != "0" or len(text) == 1):
        value = int(text)
        if not (f.reader.lo <= value <= f.reader.hi and (f.lo is None or value >= f.lo)
                and (f.hi is None or value <= f.hi)):
            return False
        if not f.scaled:
            return True
        scale = unit_scale(el.get("unit") or "", f.scale)
        return scale is None or value * scale <= f.max_bytes
    if f.hex_ok and not f.scaled and type(f.reader) is Reader and _PLAIN[f.base].match(text):
        # A plain 0x (or decimal) spelling, kept as written when it reads within range.
        value = int(text, f.base or 0)
        return (f.reader.lo <= value <= f.reader.hi and (f.lo is None or value >= f.lo)
                and (f.hi is None or value <= f.hi))
    return False


def check(root: etree._Element, path: str, rewrite: bool = True, walk: Walk | None = None) -> None:
    """Refuse (InputError) the first number libvirt 1.2.8 cannot read; respell the others as plain numbers.

    Respelling ('+5', ' 5', '010' in base 0, '-5' wrapped around) lets every rule, XPath
    number() and the emitter see the number libvirt stores, as `virsh dumpxml` would show it.
    """
    # Most domains hold few of these fields: skip those whose elements are absent (the
    # walk's facts hold every element name; without a walk, read the names here).
    groups = _groups()
    walked = walk is not None and walk.root is root
    if walked:
        present = _UNIVERSE.intersection(walk.facts)  # type: ignore[union-attr]
        wanted = _PLANS.get(present)
        if wanted is None:
            if len(_PLANS) >= _PLANS_MAX:
                _PLANS.clear()
            wanted = _PLANS[present] = _wanted(present, True)
    else:
        wanted = _wanted({el.tag for el in root.iter()}, False)
    # The walk files the children of the root and of the (only) <devices> by tag: no XPath for those.
    direct_ok = walked and len(walk.top.get("devices") or ()) <= 1  # type: ignore[union-attr]
    for i in wanted:
        group = groups[i]
        xp, _, fields, dispatch, direct, _ = group
        if direct is not None and direct_ok:
            under, tag, first = direct
            found = (walk.by_tag if under else walk.top).get(tag) or ()  # type: ignore[union-attr]
            elements = found[:1] if first else found
        else:
            if isinstance(xp, str):
                xp = group[0] = etree.XPath(xp, regexp=False)
            elements = xp(root)
        for el in elements:
            members = fields if dispatch is None else dispatch[1].get(el.get(dispatch[0]), dispatch[2])
            for f, attr, test, lo, hi in members:
                if test is not None and el.get(test[0]) != test[1]:
                    continue
                text = el.get(attr) if attr else el.text or ""
                if lo is not None and text and text.isdigit() and text.isascii() and (text[0] != "0" or len(text) == 1) \
                        and lo <= int(text) <= hi:  # type: ignore[operator]
                    continue  # a plain decimal within range: what _settled says at more cost
                if text in f.words:
                    continue
                if text == "" and rewrite and (f.drop_empty or (attr and f.empty_is_absent)):
                    if attr:
                        del el.attrib[attr]
                        continue
                    el.getparent().remove(el)
                    break
                if text is None or _settled(f, text, el):
                    continue
                why = refusal(f, text, el.get("unit") if f.scaled else None)
                if why and f.bad is None:
                    if f.refuse:
                        raise InputError(path, el.sourceline, why)
                    continue
                plain = (f.bad if why else spelling(f, text)) if rewrite else None
                if plain is None:
                    continue
                if attr and walk is not None:
                    walk.set(el, attr, plain)  # the respelled value is a fact a select may need
                elif attr:
                    el.set(attr, plain)
                else:
                    el.text = plain

    if direct_ok:
        vcpus = walk.top.get("vcpu")  # type: ignore[union-attr]
        vcpu = vcpus[0] if vcpus else None
    else:
        vcpu = root.find("vcpu")
    if vcpu is not None and vcpu.get("current", "") != "" and (vcpu.text or "") != "":
        current, maximum = ULONG.read(vcpu.get("current", ""), 10), ULONG.read(vcpu.text or "", 10)
        if current is not None and maximum is not None and current > maximum:
            raise InputError(path, vcpu.sourceline,
                             f"vcpu current {current} is more than the maximum {maximum}; libvirt refuses the domain")


def check_device(device: etree._Element, path: str) -> None:
    """Refuse a device element (DEVICE.xml of attach-check) holding a number libvirt cannot read; it is not changed."""
    import copy  # attach-check's only

    shell = etree.Element("domain")
    # Copies keep their source lines, so the error points into the device file.
    etree.SubElement(shell, "devices").append(copy.deepcopy(device))
    check(shell, path, rewrite=False)
