"""Exact parsers for the typed values libvirt reads: integers, sizes, cpusets."""

from __future__ import annotations

import re
from typing import Any

LLONG_MAX = 2**63 - 1
ULLONG_MAX = 2**64 - 1
# libvirt's cpumask length: cpu ids run from 0 to 1023.
CPUMASK_LEN = 1024

class LazyPattern:
    """A regular expression compiled on first use: a module's patterns that a check of one file may never use
    cost it nothing (compiling one costs 50 to 500 µs)."""

    # (pattern, flags) of every LazyPattern made (module-level ones, made once each): the pack stores their
    # compiled programs (regex_programs).
    made: list[tuple[str, int]] = []

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._args = (pattern, flags)
        self._compiled: re.Pattern[str] | None = None
        LazyPattern.made.append((pattern, int(flags)))

    def __getattr__(self, name: str) -> Any:
        # Reached only for what the instance lacks: each method asked for is kept on the instance, so
        # later calls (parse_int's, on every domain) find it directly, at a compiled pattern's cost.
        if self._compiled is None:
            self._compiled = re.compile(*self._args)
        found = getattr(self._compiled, name)
        setattr(self, name, found)
        return found


_INT = {
    10: LazyPattern(r"\s*([+-]?)([0-9]+)\Z"),
    16: LazyPattern(r"\s*([+-]?)(?:0[xX])?([0-9a-fA-F]+)\Z"),
    0: LazyPattern(r"\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)\Z"),
}


def parse_int(text: str, base: int = 10) -> int | None:
    """Parse an integer exactly as libvirt's strict readers do (base 0: C prefixes), or None."""
    if base == 10 and is_digits(text):
        return int(text)  # the usual spelling, without the regular expression
    m = _INT[base].match(text)
    if not m:
        return None
    sign, digits = m.groups()
    if base == 0:
        value = int(digits, 16) if digits[:2] in ("0x", "0X") else int(digits, 8 if digits.startswith("0") else 10)
    else:
        value = int(digits, base)
    return -value if sign == "-" else value


def parse_ipv4(text: str) -> str | None:
    """An IPv4 address as libvirt reads one (getaddrinfo, numeric: inet_aton's forms), dotted; None if not one.

    Besides a.b.c.d, inet_aton takes a.b.c, a.b and a, the last part filling the
    remaining bytes, and each part in decimal, octal (0...) or hex (0x...).
    """
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    nums = []
    for part in parts:
        if not part or not part.isascii() or not part[:1].isdigit():
            return None
        n = parse_int(part, 0)
        if n is None or n < 0:
            return None
        nums.append(n)
    last_bytes = 5 - len(nums)
    if any(n > 255 for n in nums[:-1]) or nums[-1] >= 256 ** last_bytes:
        return None
    value = 0
    for n in nums[:-1]:
        value = value << 8 | n
    value = value << (8 * last_bytes) | nums[-1]
    return ".".join(str(value >> shift & 255) for shift in (24, 16, 8, 0))


def is_digits(text: str) -> bool:
    """True for a non-empty run of ASCII digits (str.isdigit also takes '\u00b2' and '\u0661', which libvirt refuses)."""
    return text.isascii() and text.isdigit()


def is_contiguous(cpus: set[int]) -> bool:
    """True when a set of ids is one run (libvirt formats it without a comma)."""
    return not cpus or max(cpus) - min(cpus) + 1 == len(cpus)


_UNIT = LazyPattern(r"\s*([0-9]+)\s*([A-Za-z]*)\s*\Z")
_SCALE = {"k": 1, "m": 2, "g": 3, "t": 4, "p": 5, "e": 6}


def unit_scale(unit: str, default: int = 1024) -> int | None:
    """Bytes in one unit as libvirt spells units (KiB, KB, k, b, bytes ...), or None."""
    if not unit:
        return default
    low = unit.lower()
    if low in ("b", "byte", "bytes"):
        return 1
    power = _SCALE.get(low[0])
    if power is None:
        return None
    rest = low[1:]
    if rest in ("", "ib"):
        return 1024**power
    if rest == "b":
        return 1000**power
    return None


def parse_size(text: str, unit: str | None = None, default_unit: str = "KiB") -> int | None:
    """A size in bytes from a number and a unit (either may be in text), or None."""
    m = _UNIT.match(text)
    if not m:
        return None
    number, suffix = int(m.group(1)), m.group(2)
    if suffix and unit:
        return None
    scale = unit_scale(suffix or unit or default_unit)
    return None if scale is None else number * scale


def parse_cpuset(text: str, limit: int = CPUMASK_LEN) -> set[int] | None:
    """Parse a cpuset such as '0-3,^2,8' into the set of cpu ids, or None if malformed."""
    cpus: set[int] = set()
    removed: set[int] = set()
    if not text.strip():
        return None
    for term in text.split(","):
        term = term.strip()
        neg = term.startswith("^")
        if neg:
            term = term[1:].lstrip()
        lo_s, dash, hi_s = term.partition("-")
        if not is_digits(lo_s.strip()) or (dash and not is_digits(hi_s.strip())):
            return None
        lo = int(lo_s)
        hi = int(hi_s) if dash else lo
        if neg and dash:
            return None
        if hi < lo or hi >= limit:
            return None
        (removed if neg else cpus).update(range(lo, hi + 1))
    return cpus - removed


def parse_size_literal(value: int | str) -> int:
    """A size given in a rule ('16 TiB', 2048) in bytes."""
    if isinstance(value, int):
        return value
    size = parse_size(value, default_unit="b")
    if size is None:
        raise ValueError(f"not a size: {value!r}")
    return size


def format_cpuset(ids: set[int]) -> str:
    """A set of ids as libvirt prints a bitmap: runs as 'a-b', joined by commas ('0-3,8')."""
    out: list[str] = []
    run: list[int] = []
    for i in sorted(ids):
        if run and i == run[-1] + 1:
            run.append(i)
            continue
        if run:
            out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [i]
    if run:
        out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
    return ",".join(out)


# The most devices domlint implies or emits from one number of a domain
# (controllers up to a drive address's index, IOThreads, NIC queues). libvirt
# would try to create that many; past this a domain is refused as too large to
# model, as a file past the parser's size limit is, instead of looping for ever.
IMPLIED_LIMIT = 4096


def within_limit(number: int, what: str) -> str | None:
    """None when a count is within IMPLIED_LIMIT, else the message to refuse it with."""
    if number < IMPLIED_LIMIT:
        return None
    return f"{what} {number}: libvirt would create that many, more than the {IMPLIED_LIMIT} domlint models"
