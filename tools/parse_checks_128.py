#!/usr/bin/env python3
"""Tabulate libvirt 1.2.8's parser-stage error sites: domlint/data/targets/1.2.8/parse-checks.tsv.

    python tools/parse_checks_128.py SRC [OUT]

SRC is libvirt's source at release 1.2.8: an unpacked tree (holding src/conf/...)
or a git directory with that release (e.g. the mirror of github:hacxman/libvirt),
read at commit 2097f7df5 (`--rev` picks another). OUT defaults to the table in
this repository. Nothing of libvirt is copied here but facts: per error site its
file, function, line, error code, format string and the condition around it.

What the table holds
--------------------
Every error report (`virReportError`, `virReportSystemError`,
`virGenericReportError`, `virReportErrorHelper`; not `virReportOOMError`) in a
function that defining a domain for the QEMU driver can reach, in these files:

- src/conf/domain_conf.c: the parser (`virDomainDefParseString` ->
  `virDomainDefParse` -> `virDomainDefParseNode` -> `virDomainDefParseXML`) and
  its generic post-parse step (`virDomainDefPostParse`);
- src/conf/{cpu_conf,numatune_conf,device_conf}.c and
  src/conf/netdev_{bandwidth,vlan,vport_profile}_conf.c: the parsers of
  `<cpu>`, `<numatune>`, device addresses, `<bandwidth>`, `<vlan>` and
  `<virtualport>` that domain_conf.c calls;
- src/util/virxml.c: reading the text (`virXMLParse` is a macro for
  `virXMLParseHelper`: well-formedness errors) and the `virXPath*` helpers;
- src/util/virbitmap.c (`virBitmapParse`: cpusets and nodesets),
  src/util/virutil.c (`virScaleInteger`: size units; `virValidateWWN`),
  src/util/virnetdevvportprofile.c (the fields each `<virtualport>` type
  needs) and src/util/virstorageencryption.c (`<encryption>`): helpers the
  parser calls that report errors of their own;
- src/qemu/qemu_domain.c: the QEMU driver's parse callbacks
  (`qemuDomainDefPostParse`, `qemuDomainDeviceDefPostParse`), which
  domain_conf.c calls through function pointers (`xmlopt->config`), so they
  are roots of their own.

The file list is the fixed point of `--externals`, which lists every function
outside these files (in src/util and src/conf) that a reachable function names
and that has a report call of its own: it prints nothing for this list. Other
callees (virUUIDParse, virSocketAddrParse's callers, virStrToLong_*) fail
silently and their callers report, so those sites are in the table already.
src/conf/capabilities.c is only asked about the host by the post-parse
callbacks and reports nothing on that path.

Reachability
------------
A name-based call graph over the files above: a function definition is a name
at the start of a line, its parameter list, then `{` (libvirt's style); a
function calls every other defined function whose name occurs in its body
(calls, and names passed as callbacks such as device iterators). Macros that
only rename a function are followed (`virXMLParse*` -> `virXMLParseHelper`).
The roots are `virDomainDefParseString`, `virDomainDefParseNode` and the two
QEMU callbacks. Like the 9.0 corpus's checks.tsv, this over-approximates: a
name-based graph ignores the flags and the driver that decide which branch runs.

Columns (as the 9.0 corpus's checks.tsv)
----------------------------------------
`id` (P0001..., by file then line, so stable while the source is), `file`,
`function`, `line` (of the report call), `code` (`VIR_ERR_SYSTEM_ERROR` for
`virReportSystemError`), `phase`, `message` (the format string, or the one
literal a `"%s"` format prints; empty when the text is built at run time),
`condition` (the innermost `if` / `else` / `case` around the call, folded to one
line and cut at 160 characters; empty at the top of a function; a hint, not a
parse). `phase` is `parse` when the function is reachable from the parse
entry points without going through post-parse, `post-parse` when only through
`virDomainDefPostParse` or the QEMU callbacks.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "domlint" / "data" / "targets" / "1.2.8" / "parse-checks.tsv"
RELEASE = "2097f7df5"

FILES = (
    "src/conf/domain_conf.c",
    "src/conf/cpu_conf.c",
    "src/conf/numatune_conf.c",
    "src/conf/device_conf.c",
    "src/conf/netdev_bandwidth_conf.c",
    "src/conf/netdev_vlan_conf.c",
    "src/conf/netdev_vport_profile_conf.c",
    "src/util/virxml.c",
    "src/util/virbitmap.c",
    "src/util/virutil.c",
    "src/util/virnetdevvportprofile.c",
    "src/util/virstorageencryption.c",
    "src/qemu/qemu_domain.c",
)
ROOTS = ("virDomainDefParseString", "virDomainDefParseNode")
CALLBACKS = ("qemuDomainDefPostParse", "qemuDomainDeviceDefPostParse")
POST_PARSE = ("virDomainDefPostParse", *CALLBACKS)
# Macros that stand for a call of a function (virxml.h).
ALIASES = {name: "virXMLParseHelper" for name in (
    "virXMLParse", "virXMLParseString", "virXMLParseFile",
    "virXMLParseCtxt", "virXMLParseStringCtxt", "virXMLParseFileCtxt")}
# Report call -> (index of the code argument or a fixed code, index of the format argument).
REPORTERS: dict[str, tuple[int | str, int]] = {
    "virReportError": (0, 1),
    "virReportSystemError": ("VIR_ERR_SYSTEM_ERROR", 1),
    "virGenericReportError": (1, 2),
    "virReportErrorHelper": (1, 5),
}
COLUMNS = ("id", "file", "function", "line", "code", "phase", "message", "condition")
KEYWORDS = frozenset({"if", "for", "while", "switch", "return", "sizeof", "else", "do", "case", "default"})


# ---------------------------------------------------------------- reading C


def mask(text: str) -> tuple[str, str]:
    """(code, masked): comments blanked in both; string and char literals and preprocessor lines also in masked.

    Both keep every character's offset and every newline, so offsets and line numbers agree with text.
    """
    code = list(text)
    masked = list(text)
    i, n = 0, len(text)
    line_start = True
    while i < n:
        c = text[i]
        if line_start and c == "#":
            j = i
            while j < n and (text[j] != "\n" or text[j - 1] == "\\"):
                j += 1
            for k in range(i, j):
                if masked[k] != "\n":
                    masked[k] = " "
            i = j
            continue
        if c == "/" and text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            for k in range(i, j):
                if text[k] != "\n":
                    code[k] = masked[k] = " "
            i = j
            continue
        if c == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            for k in range(i, j):
                code[k] = masked[k] = " "
            i = j
            continue
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            for k in range(i + 1, min(j, n)):
                if text[k] != "\n":
                    masked[k] = " "
            i = j + 1
            line_start = False
            continue
        if c == "\n":
            line_start = True
        elif not c.isspace():
            line_start = False
        i += 1
    return "".join(code), "".join(masked)


def closing(masked: str, i: int) -> int:
    """Offset of the bracket closing the one at i."""
    pairs = {"(": ")", "{": "}", "[": "]"}
    open_, close = masked[i], pairs[masked[i]]
    depth = 0
    for j in range(i, len(masked)):
        if masked[j] == open_:
            depth += 1
        elif masked[j] == close:
            depth -= 1
            if depth == 0:
                return j
    return len(masked) - 1


def opening(masked: str, j: int) -> int:
    """Offset of the bracket opening the one at j."""
    pairs = {")": "(", "}": "{", "]": "["}
    close, open_ = masked[j], pairs[masked[j]]
    depth = 0
    for i in range(j, -1, -1):
        if masked[i] == close:
            depth += 1
        elif masked[i] == open_:
            depth -= 1
            if depth == 0:
                return i
    return 0


@dataclass
class Function:
    name: str
    file: str
    start: int      # offset of the name
    body: int       # offset of the body's {
    end: int        # offset of its }


_DEF = re.compile(r"^([A-Za-z_]\w*)[ \t]*\(", re.M)
_IDENT = re.compile(r"\b[A-Za-z_]\w*\b")


def functions(file: str, masked: str) -> list[Function]:
    """The function definitions of a file, in libvirt's layout (name at the start of a line)."""
    out: list[Function] = []
    pos = 0
    for m in _DEF.finditer(masked):
        if m.start() < pos or m.group(1) in KEYWORDS:
            continue
        close = closing(masked, m.end() - 1)
        k = close + 1
        while k < len(masked) and masked[k].isspace():
            k += 1
        if k < len(masked) and masked[k] == "{":
            end = closing(masked, k)
            out.append(Function(m.group(1), file, m.start(), k, end))
            pos = end
    return out


# ---------------------------------------------------------------- report sites


def split_args(masked: str, open_: int, close: int) -> list[tuple[int, int]]:
    """Offsets of the arguments of the call whose parentheses are at open_ and close."""
    out, depth, start = [], 0, open_ + 1
    for k in range(open_ + 1, close):
        c = masked[k]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            out.append((start, k))
            start = k + 1
    out.append((start, close))
    return out


_LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"')


def literal(code: str) -> str | None:
    """The string an argument spells with literals only (`_("a" "b")`, `"%s"`), else None."""
    body = code.strip()
    m = re.fullmatch(r"N?_\((.*)\)", body, re.S)
    if m:
        body = m.group(1).strip()
    if not body.startswith('"'):
        return None
    parts = _LITERAL.findall(body)
    rest = _LITERAL.sub("", body).strip()
    return "".join(parts) if not rest else None


def fold(text: str, limit: int = 160) -> str:
    """One line, at most limit characters."""
    return " ".join(text.split())[:limit]


def statement_start(masked: str, pos: int, lo: int) -> int:
    """Offset just after the token that ends the statement or label before pos."""
    k = pos - 1
    while k > lo and masked[k].isspace():
        k -= 1
    return k


def condition(code: str, masked: str, fn: Function, pos: int) -> str:
    """The innermost if / else / case around the report call at pos."""
    while pos > fn.body:
        k = statement_start(masked, pos, fn.body)
        c = masked[k]
        # A statement right after `if (...)`, `else`, a loop header: no braces.
        if c == ")":
            o = opening(masked, k)
            word = _word_before(masked, o)
            if word == "if":
                return fold("if " + code[o:k + 1])
            if word in ("for", "while", "switch"):
                pos = _start_of_word(masked, o)
                continue
        if masked[k - 3:k + 1] == "else" and not (masked[k - 4].isalnum() or masked[k - 4] == "_"):
            return "else"
        # Otherwise: the block around pos.
        block = _enclosing_brace(masked, pos, fn.body)
        if block <= fn.body:
            return ""
        head = statement_start(masked, block, fn.body)
        if masked[head] == ")":
            o = opening(masked, head)
            word = _word_before(masked, o)
            if word == "if":
                return fold("if " + code[o:head + 1])
            if word == "switch":
                return _case_labels(code, masked, block, pos)
            pos = _start_of_word(masked, o)
            continue
        if masked[head - 3:head + 1] == "else":
            return "else"
        pos = block
    return ""


def _word_before(masked: str, i: int) -> str:
    k = i - 1
    while k >= 0 and masked[k].isspace():
        k -= 1
    j = k
    while j >= 0 and (masked[j].isalnum() or masked[j] == "_"):
        j -= 1
    return masked[j + 1:k + 1]


def _start_of_word(masked: str, i: int) -> int:
    k = i - 1
    while k >= 0 and masked[k].isspace():
        k -= 1
    while k >= 0 and (masked[k].isalnum() or masked[k] == "_"):
        k -= 1
    return k + 1


def _enclosing_brace(masked: str, pos: int, lo: int) -> int:
    depth = 0
    for k in range(pos - 1, lo - 1, -1):
        if masked[k] == "}":
            depth += 1
        elif masked[k] == "{":
            if depth == 0:
                return k
            depth -= 1
    return lo


_LABEL = re.compile(r"\b(?:case\b[^:;{}]*?|default\s*):(?!:)")


def _case_labels(code: str, masked: str, block: int, pos: int) -> str:
    """The last run of case labels of the switch body at block before pos (labels of nested blocks skipped)."""
    labels: list[tuple[int, int]] = []
    depth = 0
    k = block + 1
    while k < pos:
        c = masked[k]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif depth == 0 and c in "cd":
            m = _LABEL.match(masked, k)
            if m and (k == 0 or not (masked[k - 1].isalnum() or masked[k - 1] == "_")):
                labels.append((m.start(), m.end()))
                k = m.end()
                continue
        k += 1
    if not labels:
        return ""
    run = [labels[-1]]
    for a, b in reversed(labels[:-1]):
        if masked[b:run[0][0]].strip():
            break
        run.insert(0, (a, b))
    return fold(" ".join(code[a:b] for a, b in run))


@dataclass
class Site:
    file: str
    function: str
    line: int
    code: str
    message: str
    condition: str


def sites(fn: Function, code: str, masked: str) -> Iterable[Site]:
    """The report calls in a function's body."""
    pattern = re.compile(r"\b(" + "|".join(REPORTERS) + r")\s*\(")
    for m in pattern.finditer(masked, fn.body, fn.end):
        open_ = m.end() - 1
        args = split_args(masked, open_, closing(masked, open_))
        code_at, fmt_at = REPORTERS[m.group(1)]
        err = code_at if isinstance(code_at, str) else " ".join(code[slice(*args[code_at])].split())
        fmt = literal(code[slice(*args[fmt_at])]) if fmt_at < len(args) else None
        if fmt == "%s" and fmt_at + 1 < len(args):
            fmt = literal(code[slice(*args[fmt_at + 1])])
        message = (fmt or "").replace("\t", "\\t")
        yield Site(fn.file, fn.name, code.count("\n", 0, m.start()) + 1, err, message,
                   condition(code, masked, fn, m.start()))


# ---------------------------------------------------------------- the graph


def read_source(src: Path, rev: str, name: str) -> str:
    """A file of libvirt's source, from a tree or a git directory."""
    if (src / name).is_file():
        return (src / name).read_text(errors="replace")
    out = subprocess.run(["git", "--git-dir", str(src), "show", f"{rev}:{name}"],
                         capture_output=True, check=True)
    return out.stdout.decode(errors="replace")


def reach(graph: dict[str, set[str]], roots: Iterable[str], cut: Iterable[str] = ()) -> set[str]:
    """Functions reachable from roots, not entering the cut ones."""
    blocked = set(cut)
    seen: set[str] = set()
    todo = [r for r in roots if r in graph and r not in blocked]
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        seen.add(f)
        todo.extend(g for g in graph[f] if g not in seen and g not in blocked)
    return seen


def build(src: Path, rev: str) -> tuple[list[dict[str, str]], dict[str, set[str]], set[str]]:
    """(rows, call graph, reachable functions)."""
    sources: dict[str, tuple[str, str]] = {}
    defs: dict[str, Function] = {}
    for name in FILES:
        code, masked = mask(read_source(src, rev, name))
        sources[name] = (code, masked)
        for fn in functions(name, masked):
            # A static name defined twice: the parser files come first and win.
            defs.setdefault(fn.name, fn)
    graph: dict[str, set[str]] = {}
    for fn in defs.values():
        masked = sources[fn.file][1]
        names = {ALIASES.get(w, w) for w in _IDENT.findall(masked, fn.body, fn.end)}
        graph[fn.name] = {w for w in names if w in defs and w != fn.name}
    parse = reach(graph, ROOTS, cut=POST_PARSE)
    everything = reach(graph, (*ROOTS, *CALLBACKS))
    rows: list[dict[str, str]] = []
    for fn in sorted((defs[f] for f in everything), key=lambda f: (FILES.index(f.file), f.start)):
        code, masked = sources[fn.file]
        for s in sites(fn, code, masked):
            rows.append({"file": s.file, "function": s.function, "line": str(s.line), "code": s.code,
                         "phase": "parse" if fn.name in parse else "post-parse",
                         "message": s.message, "condition": s.condition})
    rows.sort(key=lambda r: (r["file"], int(r["line"])))
    for i, r in enumerate(rows, 1):
        r["id"] = f"P{i:04d}"
    return rows, graph, everything


def externals(src: Path, rev: str, graph: dict[str, set[str]], reachable: set[str]) -> list[str]:
    """Callees outside FILES (by name, in src/util and src/conf) that report errors of their own."""
    files = subprocess.run(["git", "--git-dir", str(src), "ls-tree", "-r", "--name-only", rev, "src/util", "src/conf"],
                           capture_output=True, text=True).stdout.split() if not (src / "src").is_dir() else [
        str(p.relative_to(src)) for d in ("src/util", "src/conf") for p in (src / d).glob("*.c")]
    called: set[str] = set()
    for name in FILES:
        code, masked = mask(read_source(src, rev, name))
        for fn in functions(name, masked):
            if fn.name in reachable:
                called |= set(_IDENT.findall(masked, fn.body, fn.end))
    out = []
    for name in sorted(f for f in files if f.endswith(".c") and f not in FILES):
        code, masked = mask(read_source(src, rev, name))
        for fn in functions(name, masked):
            if fn.name in called and any(True for _ in sites(fn, code, masked)):
                out.append(f"{name}\t{fn.name}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("src", type=Path, help="libvirt 1.2.8 source tree, or a git directory holding the release")
    ap.add_argument("out", type=Path, nargs="?", default=DEFAULT_OUT)
    ap.add_argument("--rev", default=RELEASE, help=f"commit to read from a git directory (default {RELEASE})")
    ap.add_argument("--externals", action="store_true",
                    help="also list the functions outside the tabulated files that are called and report errors")
    args = ap.parse_args(argv)
    rows, graph, reachable = build(args.src, args.rev)
    # Plain tab-separated lines (no quoting: messages hold quotes, no field holds a tab or a newline).
    args.out.write_text("".join("\t".join(r[c] for c in COLUMNS) + "\n"
                                for r in [{c: c for c in COLUMNS}, *rows]))
    by_file: dict[str, int] = {}
    for r in rows:
        by_file[r["file"]] = by_file.get(r["file"], 0) + 1
    print(f"{len(rows)} rows, {len(reachable)} reachable functions: "
          + ", ".join(f"{f} {n}" for f, n in by_file.items()), file=sys.stderr)
    if args.externals:
        print("\n".join(externals(args.src, args.rev, graph, reachable)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
