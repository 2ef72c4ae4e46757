"""Compiled regular-expression programs, kept with the rule pack so a new process need not compile them again.

Python compiles a regular expression in Python code (re._parser, re._compiler): half a million instructions
for one of the rules' patterns, paid again by every process. A check meets a dozen to three dozen of them: the
rules' EXSLT re:test(value, 'pattern') calls (lxml hands each pattern to re.compile the first time an XPath
evaluator meets it) and domlint's own patterns. When the pack is built, each pattern the pack and domlint can
use is compiled once more and what re would hand to _sre.compile (the program: a list of integers, the group
names, the flags) is stored with the pack. A process that reads the pack back makes each pattern from its
program in microseconds (_sre validates the program) and puts it in re's own cache under the key re.compile
looks up, so lxml's re.compile, domlint's own and LazyPattern's all find it there. (Not an XPath compiled with
smart strings: lxml then passes the pattern as a str subclass, another key of re's cache, and re compiles it.)

The programs are the private format of one interpreter's _sre: they are stored with the interpreter's
identity, and any mismatch, missing private name or error leaves re to compile as usual.
"""

from __future__ import annotations

import marshal
import re
import sys
import warnings
import zlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Final

# lxml's EXSLT regexps compile each pattern with re.UNICODE, adding re.IGNORECASE when the call's
# flags argument holds 'i' (lxml's extensions.pxi, _ExsltRegExp._compile).
_EXSLT_FLAGS = int(re.UNICODE)
_EXSLT_CALLS = ("re:test(", "re:match(", "re:replace(")
# Flags re does not cache (DEBUG) or warns about (TEMPLATE, 3.11 and 3.12): such patterns are left alone.
_UNCACHED = int(re.DEBUG) | int(getattr(re, "TEMPLATE", 0))

# (pattern, flags re.compile is given, the flags the compiled pattern holds, code, groups, group index, index
# group): what re._compiler.compile hands to _sre.compile, and the flags re's cache is keyed on.
Program = tuple[str, int, int, list[int], int, dict[str, int], tuple[str | None, ...]]
# The code is stored as native unsigned ints, read back by memoryview.tolist() in C: as a marshal list of
# ints it cost 20 times as much to read (callgrind).
_CODE_FORMAT: Final = "I"


def interpreter() -> tuple[Any, ...] | None:
    """What a stored program is valid for: this exact interpreter and _sre (None if it cannot be told)."""
    try:
        import _sre

        if memoryview(bytes(_sre.CODESIZE)).cast(_CODE_FORMAT).itemsize != _sre.CODESIZE:
            return None
        return (sys.version, sys.implementation.cache_tag, _sre.MAGIC, _sre.CODESIZE, sys.byteorder)
    except (ImportError, AttributeError):
        return None


def exslt_patterns(xpath: str) -> Iterator[tuple[str, int]]:
    """(pattern, flags as lxml passes them to re.compile) of each EXSLT regexp call in an XPath whose
    pattern is a string literal."""
    for call in _EXSLT_CALLS:
        at = xpath.find(call)
        while at >= 0:
            args = _arguments(xpath, at + len(call))
            at = xpath.find(call, at + 1)
            pattern = _literal(args[1]) if len(args) > 1 else None
            if pattern is None:
                continue
            # The third argument is the flags, for re:replace as for re:test and re:match.
            flags = _literal(args[2]) if len(args) > 2 else ""
            if flags is None:  # worked out at run time: either may be asked for
                yield pattern, _EXSLT_FLAGS
                yield pattern, _EXSLT_FLAGS | int(re.IGNORECASE)
            else:
                yield pattern, _EXSLT_FLAGS | (int(re.IGNORECASE) if "i" in flags else 0)


def _arguments(xpath: str, start: int) -> list[str]:
    """The arguments of the call whose argument list starts at start, as text (all of them up to the end
    of the text if the call is not closed)."""
    args: list[str] = []
    depth, quote, begin = 0, "", start
    for i in range(start, len(xpath)):
        ch = xpath[i]
        if quote:
            if ch == quote:  # XPath 1.0 literals have no escapes
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            if depth == 0:
                args.append(xpath[begin:i])
                return args
            depth -= 1
        elif ch == "," and depth == 0:
            args.append(xpath[begin:i])
            begin = i + 1
    args.append(xpath[begin:])
    return args


def _literal(arg: str) -> str | None:
    """The value of an XPath string literal, or None for any other expression."""
    arg = arg.strip()
    if len(arg) >= 2 and arg[0] in "'\"" and arg[-1] == arg[0] and arg[0] not in arg[1:-1]:
        return arg[1:-1]
    return None


def rule_patterns(bodies: Iterable[Any]) -> list[tuple[str, int]]:
    """The (pattern, flags) of every EXSLT regexp call with a literal pattern in any text of the rule bodies
    (select, when, tests, messages), examples aside."""
    found: dict[tuple[str, int], None] = {}

    def walk(value: Any) -> None:
        if isinstance(value, str):
            if "re:" in value:
                found.update(dict.fromkeys(exslt_patterns(value)))
        elif isinstance(value, dict):
            for k, v in value.items():
                if k != "examples":
                    walk(v)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)

    for body in bodies:
        walk(body)
    return list(found)


def own_patterns() -> list[tuple[str, int]]:
    """domlint's own patterns (each LazyPattern of the modules a check imports)."""
    from . import checker  # noqa: F401 - imported for its LazyPatterns: the check path, whoever builds the pack
    from .values import LazyPattern

    return list(dict.fromkeys(LazyPattern.made))


def _program(pattern: str, flags: int) -> Program | None:
    """What re._compiler.compile (3.11 to 3.13) hands to _sre.compile for the pattern, if it rebuilds to the
    very pattern re.compile makes; else None."""
    from re import _compiler, _parser  # type: ignore[attr-defined]

    p = _parser.parse(pattern, flags)
    # Plain ints: the opcodes are int subclasses (named constants), which marshal does not take.
    code = [int(op) for op in _compiler._code(p, flags)]
    groupindex = dict(p.state.groupdict)
    indexgroup: list[str | None] = [None] * p.state.groups
    for name, i in groupindex.items():
        indexgroup[i] = name
    program: Program = (pattern, flags, flags | p.state.flags, code, p.state.groups - 1, groupindex,
                        tuple(indexgroup))
    made, real = _make(program), _compiler.compile(pattern, flags)
    # Patterns compare equal when their pattern text, flags and code are the same.
    if made != real or made.groups != real.groups or dict(made.groupindex) != dict(real.groupindex):
        return None
    return program


def _make(program: Program) -> re.Pattern[str]:
    import _sre

    pattern, _flags, final_flags, code, groups, groupindex, indexgroup = program
    return _sre.compile(pattern, final_flags, code, groups, groupindex, indexgroup)  # type: ignore[no-any-return]


def stored(patterns: Iterable[tuple[str, int]]) -> bytes | None:
    """The programs of these patterns as bytes to store with the pack (None when this interpreter's
    cannot be kept): patterns that fail to compile or to rebuild exactly are left out."""
    from array import array

    key = interpreter()
    if key is None:
        return None
    programs: list[tuple[Any, ...]] = []
    for pattern, flags in dict.fromkeys(patterns):
        if not isinstance(pattern, str) or flags & _UNCACHED:
            continue
        try:
            with warnings.catch_warnings(record=True) as said:
                warnings.simplefilter("always")
                found = _program(pattern, flags)
        except Exception:  # a bad pattern, or an re whose internals differ: re.compile will say or do it
            continue
        if said:
            # A pattern re warns about (a FutureWarning on a nested set, say) is left to re, so every run
            # still warns as it compiles it, and no more than once.
            continue
        if found is not None:
            pattern, flags, final_flags, code, groups, groupindex, indexgroup = found
            programs.append((pattern, flags, final_flags, array(_CODE_FORMAT, code).tobytes(), groups, groupindex,
                             indexgroup))
    try:
        body = marshal.dumps(programs)
    except ValueError:
        return None
    # The checksum: a damaged entry's program could still be a valid one, of another pattern's matcher.
    return marshal.dumps((key, zlib.adler32(body), body))


def seed(entry: Sequence[bytes | None]) -> int:
    """Put the patterns of a stored entry (a list whose first item is what stored() made) in re's cache,
    where re.compile finds them; how many were put there. Never raises: anything amiss leaves re alone."""
    try:
        blob = entry[0]
        if blob is None:
            return 0
        key, check, body = marshal.loads(blob)
        if key != interpreter() or zlib.adler32(body) != check:
            return 0
        programs = marshal.loads(body)
        cache = re._cache  # type: ignore[attr-defined]
        if not isinstance(cache, dict):
            return 0
        # re.compile looks up (type(pattern), pattern, flags as an int) in _cache (3.11) or in _cache2 and
        # then _cache (3.12, 3.13: a hit in _cache moves there), compiling only on a miss.
        room = re._MAXCACHE - len(cache)  # type: ignore[attr-defined]
        put = 0
        for pattern, flags, final_flags, code, groups, groupindex, indexgroup in programs:
            if put >= room:  # never past re's own limit, which would push out what re put there
                break
            cache_key = (str, pattern, flags)
            if cache_key not in cache:
                cache[cache_key] = _make((pattern, flags, final_flags, memoryview(code).cast(_CODE_FORMAT).tolist(),
                                          groups, groupindex, indexgroup))
                put += 1
        return put
    except Exception:  # never worse than no seed: re compiles what is missing
        return 0


__all__ = ["exslt_patterns", "interpreter", "own_patterns", "rule_patterns", "seed", "stored"]
