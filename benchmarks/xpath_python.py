#!/usr/bin/env python3
"""Would the rules' XPath run faster translated to Python? Measured: no. Kept to show it.

lxml sets up a context for every evaluation and calls back into Python for
each re:test and dl: function, so translating the pack's expressions into
Python functions that walk the lxml tree directly (steps as iterchildren()
loops, predicates as conditions, re:test as a compiled pattern's search()) looked
like a way under the XPath floor xpath_floor.py measures. This script holds that
translator, for the part of XPath 1.0 the pack uses; anything else is
Unsupported and a value it cannot reproduce exactly (a number that is not a
plain integer, the document node) raises Fallback.

It records every evaluation a check of the public 1.2.8 domains makes under each
target (as xpath_floor.py does), checks that each translated function gives
lxml's answer on every one of them, then times both replays: lxml, the
translations, and the better of the two per expression.

    python benchmarks/xpath_python.py [--corpus DIR] [--rounds N]

Measured on 2 unloaded cores (2026-12-03, public 1.2.8 domains): the translations agree
with lxml on every one of some 63,000 evaluations, and take about twice lxml's
time (1.9x to 2.0x). Keeping the faster of the two for each expression brings the
XPath time to 0.78x to 0.91x of lxml's, 30 to 65 us a domain: about 5% of a
check, not worth a second XPath engine to keep exact. A Python step over a node
(a proxy found, a tag string made, a call) costs more than libxml2's whole
evaluation of a short path; only expressions heavy with re:test gain.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lxml import etree

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from xpath_floor import SMART_STRINGS, TARGETS, Call, record, replay  # noqa: E402

from domlint.predicates import _FUNCTIONS, NAMESPACES  # noqa: E402


class Unsupported(Exception):
    """The expression uses XPath the translator does not cover."""


class Fallback(Exception):
    """A value the translated code does not reproduce exactly: lxml answers this call."""


# --- run-time helpers the generated code calls ---------------------------------------------------

_BLANKS = " \t\r\n"
_INTEGER = re.compile(r"[ \t\r\n]*(-?)([0-9]{1,15})[ \t\r\n]*")
# What libxml2 may read as a number (its own grammar, exponents included); anything else is NaN.
_NUMERIC = re.compile(r"[ \t\r\n]*-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9])[0-9]*(?:[eE][+-]?[0-9]*)?[ \t\r\n]*")
_NAN = float("nan")


def _num(text: str | None) -> float:
    """XPath number() of a string (None: an empty node-set)."""
    if text is None:
        return _NAN
    if text.isdigit() and text.isascii() and len(text) <= 15:
        return float(text)
    m = _INTEGER.fullmatch(text)
    if m is not None:
        value = float(m.group(2))
        return -value if m.group(1) else value
    if _NUMERIC.fullmatch(text) is not None:
        # Fractions, exponents, long digit strings: libxml2's own rounding decides.
        raise Fallback(text)
    return _NAN


def _nstr(x: float) -> str:
    """XPath string() of a number, for the values whose spelling is certain."""
    if x != x:
        return "NaN"
    if x in (math.inf, -math.inf):
        return "Infinity" if x > 0 else "-Infinity"
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    raise Fallback(x)


def _sv(el: etree._Element) -> str:
    """The string-value of an element: all its descendant text."""
    if len(el) == 0:
        return el.text or ""
    return "".join(el.itertext())


def _bnum(x: float) -> bool:
    return x == x and x != 0


def _norm(text: str) -> str:
    """normalize-space(): XPath's four blanks only."""
    return " ".join(part for part in re.split("[ \t\r\n]+", text) if part)


def _before(a: str, b: str) -> str:
    i = a.find(b)
    return "" if i < 0 else a[:i]


def _after(a: str, b: str) -> str:
    i = a.find(b)
    return "" if i < 0 else a[i + len(b):]


def _translate(text: str, src: str, dst: str) -> str:
    table: dict[int, int | None] = {}
    for i, ch in enumerate(src):
        if ord(ch) not in table:
            table[ord(ch)] = ord(dst[i]) if i < len(dst) else None
    return text.translate(table)


def _div(a: float, b: float) -> float:
    if b == 0:
        if a != a or a == 0:
            return _NAN
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _mod(a: float, b: float) -> float:
    if b == 0 or a != a or b != b or a in (math.inf, -math.inf):
        return _NAN
    return math.fmod(a, b)


def _floor(x: float) -> float:
    return x if x != x or x in (math.inf, -math.inf) else float(math.floor(x))


def _ceiling(x: float) -> float:
    return x if x != x or x in (math.inf, -math.inf) else float(math.ceil(x))


def _sum(values: Any) -> float:
    total = 0.0
    for v in values:
        total += _num(v)
    return total


def _parent(el: etree._Element) -> tuple[etree._Element, ...]:
    parent = el.getparent()
    if parent is None:
        raise Fallback("the document node")  # the root element's parent is no element
    return (parent,)


def _at(nodes: list[Any], k: int) -> list[Any]:
    """The k-th (from 1) of nodes, as a list of it or of none."""
    return nodes[k - 1:k] if k >= 1 else []


def _order(nodes: list[etree._Element]) -> list[etree._Element]:
    """nodes without repeats, in document order."""
    if len(nodes) < 2:
        return nodes
    unique = list({id(n): n for n in nodes}.values())
    if len(unique) > 1:
        root = unique[0].getroottree().getroot()
        pos = {id(n): i for i, n in enumerate(root.iter())}
        unique.sort(key=lambda n: pos.get(id(n), -1))
    return unique


def _union(*sets: list[etree._Element]) -> list[etree._Element]:
    found = [s for s in sets if s]
    if len(found) == 1:
        return found[0]
    return _order([n for s in found for n in s])


def _local(el: etree._Element) -> str:
    tag = el.tag
    return tag[tag.rfind("}") + 1:] if isinstance(tag, str) else ""


def _make_string(value: Any) -> str:
    """An extension function's string argument as lxml's EXSLT functions read it."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        if not value:
            return ""
        first = value[0]
        return first if isinstance(first, str) else _sv(first)
    return str(value)


class _Context:
    """What a dl: function reads of lxml's evaluation context."""

    __slots__ = ("context_node",)

    def __init__(self, node: etree._Element) -> None:
        self.context_node = node


_HELPERS: dict[str, Any] = {name: value for name, value in globals().items()
                            if name.startswith("_") and callable(value) and not name.startswith("__")}
_HELPERS.update({"_ELEMENT": etree.Element, "_ELEMENT_TYPE": etree._Element, "_NAN": _NAN, "Fallback": Fallback})


# --- tokens ---------------------------------------------------------------------------------------

_TOKEN = re.compile(r"""\s*(?:
    (?P<num>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)
  | (?P<str>"[^"]*"|'[^']*')
  | (?P<op>//|/|::|\.\.|\.|@|,|\(|\)|\[|\]|\||\+|-|!=|<=|>=|=|<|>|\*|\$)
  | (?P<name>[A-Za-z_][\w.-]*(?::(?:[A-Za-z_][\w.-]*|\*))?)
)""", re.X)
_OPERATOR_NAMES = {"and", "or", "div", "mod"}
# After these a '*' or a name is an operand; after anything else an operator (XPath 1.0, 3.7).
_OPERAND_NEXT = {"@", "::", "(", "[", ",", "/", "//", "|", "+", "-", "!=", "<=", ">=", "=", "<", ">"}


def _tokens(expr: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    expr = expr.rstrip()
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if m is None or m.end() == pos:
            raise Unsupported(f"cannot read {expr[pos:]!r}")
        pos = m.end()
        kind = m.lastgroup or ""
        text = m.group(kind)
        operand = not out or out[-1][0] in ("mul", "opname") or (out[-1][0] == "op" and out[-1][1] in _OPERAND_NEXT)
        if kind == "op" and text == "*" and not operand:
            kind = "mul"
        elif kind == "name" and text in _OPERATOR_NAMES and not operand:
            kind = "opname"
        out.append((kind, text))
    return out


# --- parser: tokens to a tree of tuples ------------------------------------------------------------

_AXES = {"child", "self", "parent", "attribute", "preceding-sibling", "following-sibling", "descendant",
         "descendant-or-self", "ancestor", "ancestor-or-self", "following", "preceding", "namespace"}
_NODE_TYPES = {"node", "text", "comment", "processing-instruction"}


class _Parser:
    def __init__(self, expr: str) -> None:
        self.toks = _tokens(expr)
        self.i = 0

    def peek(self, k: int = 0) -> tuple[str, str]:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else ("end", "")

    def take(self, text: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if text is not None and tok[1] != text:
            raise Unsupported(f"expected {text!r}, found {tok[1]!r}")
        self.i += 1
        return tok

    def parse(self) -> Any:
        node = self.expr()
        if self.peek()[0] != "end":
            raise Unsupported(f"unexpected {self.peek()[1]!r}")
        return node

    def expr(self) -> Any:
        return self.binary(0)

    _LEVELS: tuple[tuple[str, ...], ...] = (("or",), ("and",), ("=", "!="), ("<", ">", "<=", ">="), ("+", "-"),
                                            ("*", "div", "mod"))

    def binary(self, level: int) -> Any:
        if level == len(self._LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        while True:
            kind, text = self.peek()
            if text in self._LEVELS[level] and kind in ("op", "opname", "mul"):
                self.take()
                node = ("bin", text, node, self.binary(level + 1))
            else:
                return node

    def unary(self) -> Any:
        if self.peek() == ("op", "-"):
            self.take()
            return ("neg", self.unary())
        node = self.path()
        while self.peek() == ("op", "|"):
            self.take()
            node = ("union", node, self.path())
        return node

    def path(self) -> Any:
        kind, text = self.peek()
        if kind == "op" and text in ("/", "//"):
            self.take()
            steps: list[Any] = [] if text == "/" else [("descendant-or-self", ("node",), [])]
            if text == "/" and not self.step_starts():
                raise Unsupported("the document node alone")
            return ("path", "root", None, steps + self.steps())
        if self.step_starts():
            return ("path", "ctx", None, self.steps())
        primary = self.primary()
        preds = self.predicates()
        if self.peek()[1] in ("/", "//"):
            return ("path", "filter", (primary, preds), self.more_steps())
        return primary if not preds else ("path", "filter", (primary, preds), [])

    def step_starts(self) -> bool:
        kind, text = self.peek()
        if kind == "op":
            return text in (".", "..", "@", "*")
        if kind == "name":
            nxt = self.peek(1)
            return nxt[1] != "(" or text in _NODE_TYPES
        return False

    def steps(self) -> list[Any]:
        out = [self.step()]
        out.extend(self.more_steps())
        return out

    def more_steps(self) -> list[Any]:
        out: list[Any] = []
        while self.peek()[1] in ("/", "//"):
            if self.take()[1] == "//":
                out.append(("descendant-or-self", ("node",), []))
            out.append(self.step())
        return out

    def step(self) -> Any:
        kind, text = self.peek()
        if text == ".":
            self.take()
            return ("self", ("node",), [])
        if text == "..":
            self.take()
            return ("parent", ("node",), [])
        axis = "child"
        if text == "@":
            self.take()
            axis = "attribute"
        elif kind == "name" and self.peek(1)[1] == "::":
            if text not in _AXES:
                raise Unsupported(f"axis {text}")
            axis = text
            self.take()
            self.take("::")
        kind, text = self.take()
        if kind == "op" and text == "*":
            test: Any = ("any",)
        elif kind == "name" and text in _NODE_TYPES and self.peek()[1] == "(":
            self.take("(")
            self.take(")")
            test = (text,)
        elif kind == "name":
            test = ("name", text)
        else:
            raise Unsupported(f"step {text!r}")
        return (axis, test, self.predicates())

    def predicates(self) -> list[Any]:
        out = []
        while self.peek()[1] == "[":
            self.take()
            out.append(self.expr())
            self.take("]")
        return out

    def primary(self) -> Any:
        kind, text = self.take()
        if kind == "str":
            return ("str", text[1:-1])
        if kind == "num":
            return ("num", text)
        if kind == "op" and text == "(":
            node = self.expr()
            self.take(")")
            return ("paren", node)
        if kind == "name" and self.peek()[1] == "(":
            self.take("(")
            args = []
            if self.peek()[1] != ")":
                args.append(self.expr())
                while self.peek()[1] == ",":
                    self.take()
                    args.append(self.expr())
            self.take(")")
            return ("call", text, args)
        raise Unsupported(f"primary {text!r}")


# --- code generation -------------------------------------------------------------------------------

# Value kinds: E a list of elements, A a list of attribute values, O one optional attribute value of the
# context node (str or None), S a string, N a number, B a boolean. An element list's shape: "one" (at
# most one node), "flat" (document order, no node inside another), "ord" (document order), "any".
_Code = tuple[str, str, str]
# A value of each kind as a boolean, and (but for node-sets, read through their string) as a number: {} is its
# code, which never holds a brace.
_AS_BOOLEAN = {"E": "bool({})", "A": "bool({})", "O": "({} is not None)", "S": "({} != '')", "N": "_bnum({})",
               "B": "{}"}
_AS_NUMBER = {"O": "_num({})", "S": "_num({})", "B": "(1.0 if {} else 0.0)", "N": "{}"}


class _Gen:
    def __init__(self, namespaces: dict[str, str], document: bool) -> None:
        self.namespaces = namespaces
        self.consts: dict[str, Any] = {}
        self.n = 0
        self.uses_root = False
        # Evaluated against a whole document: nothing may read the context node.
        self.document = document

    def var(self) -> str:
        self.n += 1
        return f"v{self.n}"

    def const(self, value: Any) -> str:
        for name, held in self.consts.items():
            if held is value or (type(held) is type(value) and held == value and not isinstance(value, float)):
                return name
        name = f"K{len(self.consts)}"
        self.consts[name] = value
        return name

    def clark(self, name: str) -> str:
        if ":" in name:
            prefix, local = name.split(":", 1)
            if prefix == "xml":
                uri = "http://www.w3.org/XML/1998/namespace"
            elif prefix in self.namespaces:
                uri = self.namespaces[prefix]
            else:
                raise Unsupported(f"prefix {prefix}")
            return f"{{{uri}}}{local}"
        return name

    def ctx(self, ctx: str) -> str:
        if self.document and ctx == "n":
            raise Unsupported("reads the document node")
        return ctx

    # values of each kind as another kind

    def boolean(self, code: _Code) -> str:
        return _AS_BOOLEAN[code[1]].format(code[0])

    def string(self, code: _Code) -> str:
        text, kind, shape = code
        if kind == "E":
            if shape not in ("one", "flat", "ord"):
                text = f"_order({text})"
            return f"(lambda s: _sv(s[0]) if s else '')({text})"
        if kind == "A":
            if shape not in ("one", "flat", "ord"):
                raise Unsupported("first attribute of an unordered set")
            return f"(lambda s: s[0] if s else '')({text})"
        if kind == "O":
            return f"({text} or '')"
        if kind == "N":
            return f"_nstr({text})"
        if kind == "B":
            return f"('true' if {text} else 'false')"
        return text

    def number(self, code: _Code) -> str:
        if code[1] in ("E", "A"):
            return f"_num({self.string(code)})"
        return _AS_NUMBER[code[1]].format(code[0])

    def strings(self, code: _Code) -> str:
        """Code for an iterable of the string-values of a node-set."""
        text, kind, _ = code
        if kind == "E":
            return f"map(_sv, {text})"
        if kind == "A":
            return text
        return f"(lambda v: () if v is None else (v,))({text})"

    def nodes(self, code: _Code) -> str:
        """A node-set as lxml hands it to an extension function (a list, in document order)."""
        text, kind, shape = code
        if kind == "E":
            return text if shape in ("one", "flat", "ord") else f"_order({text})"
        if kind == "A":
            if shape not in ("one", "flat", "ord"):
                raise Unsupported("attributes of an unordered set")
            return text
        if kind == "O":
            return f"(lambda v: [] if v is None else [v])({text})"
        raise Unsupported("not a node-set")

    # expressions

    def gen(self, node: Any, ctx: str) -> _Code:
        op = node[0]
        if op == "str":
            return (self.const(node[1]), "S", "")
        if op == "num":
            text = node[1]
            if not re.fullmatch(r"[0-9]{1,15}", text):
                raise Unsupported(f"number {text}")
            return (repr(float(text)), "N", "")
        if op == "paren":
            return self.gen(node[1], ctx)
        if op == "neg":
            return (f"(-{self.number(self.gen(node[1], ctx))})", "N", "")
        if op == "bin":
            return self.binary(node[1], node[2], node[3], ctx)
        if op == "union":
            parts = []
            for branch in self.flatten_union(node):
                code = self.gen(branch, ctx)
                if code[1] != "E":
                    raise Unsupported("union of other than elements")
                parts.append(code[0] if code[2] in ("one", "flat", "ord") else f"_order({code[0]})")
            return (f"_union({', '.join(parts)})", "E", "ord")
        if op == "path":
            return self.path(node, ctx)
        if op == "call":
            return self.call(node[1], node[2], ctx)
        raise Unsupported(op)

    def flatten_union(self, node: Any) -> list[Any]:
        if node[0] == "union":
            return self.flatten_union(node[1]) + self.flatten_union(node[2])
        return [node]

    def binary(self, op: str, left: Any, right: Any, ctx: str) -> _Code:
        if op in ("and", "or"):
            a = self.boolean(self.gen(left, ctx))
            b = self.boolean(self.gen(right, ctx))
            return (f"({a} {op} {b})", "B", "")
        if op in ("+", "-", "*", "div", "mod"):
            a = self.number(self.gen(left, ctx))
            b = self.number(self.gen(right, ctx))
            if op == "div":
                return (f"_div({a}, {b})", "N", "")
            if op == "mod":
                return (f"_mod({a}, {b})", "N", "")
            return (f"({a} {op} {b})", "N", "")
        return self.compare(op, self.gen(left, ctx), self.gen(right, ctx))

    def compare(self, op: str, a: _Code, b: _Code) -> _Code:
        py = "==" if op == "=" else op
        sets = ("E", "A", "O")
        if a[1] not in sets and b[1] in sets:
            # Swap so that the node-set is on the left: a < b is b > a.
            flipped = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(op, op)
            return self.compare(flipped, b, a)
        if a[1] in sets and b[1] in sets:
            if op in ("=", "!="):
                return (f"(lambda bs: any(x {py} y for x in {self.strings(a)} for y in bs))"
                        f"(list({self.strings(b)}))", "B", "")
            return (f"(lambda bs: any(_num(x) {py} y for x in {self.strings(a)} for y in bs))"
                    f"([_num(y) for y in {self.strings(b)}])", "B", "")
        if a[1] in sets:
            if b[1] == "B":
                return (f"({self.boolean(a)} {py} {b[0]})", "B", "")
            if b[1] == "S" and op in ("=", "!="):
                if a[1] == "O":
                    if op == "=":
                        return (f"({a[0]} == {b[0]})", "B", "")
                    return (f"({a[0]} not in (None, {b[0]}))", "B", "")
                if op == "=":
                    return (f"({b[0]} in list({self.strings(a)}))", "B", "")
                return (f"(lambda y: any(x != y for x in {self.strings(a)}))({b[0]})", "B", "")
            other = self.number(b)
            if a[1] == "O":
                return (f"(_num({a[0]}) {py} {other})", "B", "")
            return (f"(lambda y: any(_num(x) {py} y for x in {self.strings(a)}))({other})", "B", "")
        if op in ("=", "!="):
            if "B" in (a[1], b[1]):
                return (f"({self.boolean(a)} {py} {self.boolean(b)})", "B", "")
            if "N" in (a[1], b[1]):
                return (f"({self.number(a)} {py} {self.number(b)})", "B", "")
            return (f"({self.string(a)} {py} {self.string(b)})", "B", "")
        return (f"({self.number(a)} {py} {self.number(b)})", "B", "")

    def call(self, name: str, args: list[Any], ctx: str) -> _Code:
        n = len(args)
        if name.startswith("dl:"):
            return self.dl_call(name[3:], args, ctx)
        if name == "re:test":
            if n not in (2, 3) or args[1][0] != "str" or (n == 3 and args[2][0] != "str"):
                raise Unsupported("re:test with a computed pattern")
            flags = re.UNICODE | (re.IGNORECASE if n == 3 and "i" in args[2][1] else 0)
            pattern = self.const(re.compile(args[1][1], flags))
            subject = self.gen(args[0], ctx)
            # The subject as lxml's EXSLT functions read it: a node-set's first node, str() of anything else.
            if subject[1] == "S":
                text = subject[0]
            elif subject[1] == "O":
                text = f"({subject[0]} or '')"
            elif subject[1] in ("E", "A"):
                text = f"_make_string({self.nodes(subject)})"
            else:
                text = f"str({subject[0]})"
            return (f"({pattern}.search({text}) is not None)", "B", "")
        one = (lambda: self.gen(args[0], ctx)) if n else (lambda: (self.ctx(ctx), "E", "one"))
        if name == "not" and n == 1:
            return (f"(not {self.boolean(self.gen(args[0], ctx))})", "B", "")
        if name == "boolean" and n == 1:
            return (self.boolean(self.gen(args[0], ctx)), "B", "")
        if name in ("true", "false") and n == 0:
            return ("True" if name == "true" else "False", "B", "")
        if name == "count" and n == 1:
            code = self.gen(args[0], ctx)
            if code[1] == "O":
                return (f"(0.0 if {code[0]} is None else 1.0)", "N", "")
            if code[1] == "E":
                inner = code[0] if code[2] in ("one", "flat", "ord") else f"_order({code[0]})"
                return (f"float(len({inner}))", "N", "")
            if code[1] == "A" and code[2] in ("one", "flat", "ord"):
                return (f"float(len({code[0]}))", "N", "")
            raise Unsupported("count of that")
        if name == "string" and n <= 1:
            return (self.string(one()), "S", "")
        if name == "number" and n <= 1:
            return (self.number(one()), "N", "")
        if name == "normalize-space" and n <= 1:
            return (f"_norm({self.string(one())})", "S", "")
        if name == "string-length" and n <= 1:
            return (f"float(len({self.string(one())}))", "N", "")
        if name in ("starts-with", "contains", "substring-before", "substring-after") and n == 2:
            a = self.string(self.gen(args[0], ctx))
            b = self.string(self.gen(args[1], ctx))
            if name == "starts-with":
                return (f"{a}.startswith({b})", "B", "")
            if name == "contains":
                return (f"({b} in {a})", "B", "")
            return (f"{'_before' if name == 'substring-before' else '_after'}({a}, {b})", "S", "")
        if name == "concat" and n >= 2:
            return ("(" + " + ".join(self.string(self.gen(a, ctx)) for a in args) + ")", "S", "")
        if name == "translate" and n == 3:
            a, b, c = (self.string(self.gen(x, ctx)) for x in args)
            return (f"_translate({a}, {b}, {c})", "S", "")
        if name == "sum" and n == 1:
            code = self.gen(args[0], ctx)
            if code[1] not in ("E", "A", "O") or code[2] == "any":
                raise Unsupported("sum of that")
            return (f"_sum({self.strings(code)})", "N", "")
        if name in ("floor", "ceiling") and n == 1:
            return (f"_{name}({self.number(self.gen(args[0], ctx))})", "N", "")
        if name == "local-name" and n <= 1:
            code = one()
            if code[1] != "E":
                raise Unsupported("local-name of that")
            inner = code[0] if code[2] in ("one", "flat", "ord") else f"_order({code[0]})"
            return (f"(lambda s: _local(s[0]) if s else '')({inner})" if n else f"_local({code[0]})", "S", "")
        raise Unsupported(f"function {name}")

    # dl: functions, called as lxml calls them: (context, arguments as lxml converts them)
    _DL_KINDS = {"i440fx": "B", "q35": "B", "ipv4": "B", "int": "N", "kib": "N", "max": "N",
                 "controller": "E", "having": "E"}

    def dl_call(self, name: str, args: list[Any], ctx: str) -> _Code:
        kind = self._DL_KINDS.get(name)
        if kind is None or name not in _FUNCTIONS:
            raise Unsupported(f"dl:{name}")
        converted = []
        shape = "any"
        for i, arg in enumerate(args):
            code = self.gen(arg, ctx)
            if code[1] in ("E", "A", "O"):
                converted.append(self.nodes(code))
                if i == 0 and name == "having" and code[1] == "E":
                    shape = code[2]
            else:
                converted.append(code[0])
        fn = self.const(_FUNCTIONS[name])
        here = "R" if self.document and ctx == "n" else ctx
        call = f"{fn}(_Context({here}), {', '.join(converted)})"
        if kind == "E":
            # lxml turns a returned list into a node-set: elements only, each once.
            return (f"[x for x in {call} if isinstance(x, _ELEMENT_TYPE)]", "E", shape if shape != "one" else "one")
        if kind == "B":
            return (f"bool({call})", "B", "")
        return (f"float({call})", "N", "")

    # paths

    def path(self, node: Any, ctx: str) -> _Code:
        _, start, filt, steps = node
        clauses: list[str] = []
        if start == "root":
            self.uses_root = True
            cur, shape = None, "one"  # None: the document node, whose only element child is R
        elif start == "ctx":
            cur, shape = self.ctx(ctx), "one"
        else:
            primary, preds = filt
            code = self.gen(primary, ctx)
            if code[1] != "E":
                raise Unsupported("steps after a value that is not elements")
            v = self.var()
            conds = [self.predicate(p, v) for p in preds]
            if any(c is None for c in conds):
                raise Unsupported("position in a filter expression")
            clauses.append(f"for {v} in {code[0]}" + "".join(f" if {c}" for c in conds))
            cur, shape = v, code[2]
        result_kind = "E"
        i = 0
        while i < len(steps):
            axis, test, preds = steps[i]
            if axis == "descendant-or-self" and test == ("node",) and not preds and i + 1 < len(steps):
                # '//' and a child step: descendants of one node by name.
                axis2, test2, preds2 = steps[i + 1]
                if axis2 != "child" or shape != "one" or test2[0] not in ("name", "any"):
                    raise Unsupported("// that is not one node's named descendants")
                v = self.var()
                conds = [self.predicate(p, v) for p in preds2]
                if any(c is None for c in conds):
                    raise Unsupported("position after //")
                tag = self.tag_arg(test2)
                src = f"R.iter({tag})" if cur is None else f"{cur}.iterdescendants({tag})"
                clauses.append(f"for {v} in {src}" + "".join(f" if {c}" for c in conds))
                cur, shape = v, "ord"
                i += 2
                continue
            if result_kind == "A":
                raise Unsupported("a step after an attribute")
            if axis == "attribute":
                if preds or test[0] not in ("name", "any"):
                    raise Unsupported("attribute step form")
                if cur is None:
                    raise Unsupported("attribute of the document node")
                v = self.var()
                if test[0] == "any":
                    clauses.append(f"for {v} in {cur}.values()")
                else:
                    name = self.clark(test[1])
                    if shape == "one" and not clauses and i == len(steps) - 1:
                        return (f"{cur}.get({self.const(name)})", "O", "one")
                    clauses.append(f"for {v} in ({cur}.get({self.const(name)}),) if {v} is not None")
                cur = v
                result_kind = "A"
                i += 1
                continue
            cur, shape = self.step(axis, test, preds, cur, shape, clauses)
            i += 1
        if cur is None:
            raise Unsupported("the document node")
        if not clauses:
            return (f"[{cur}]", "E", "one")
        return (f"[{cur} {' '.join(clauses)}]", result_kind, shape)

    def tag_arg(self, test: Any) -> str:
        if test[0] == "any":
            return "_ELEMENT"
        return self.const(self.clark(test[1]))

    def step(self, axis: str, test: Any, preds: list[Any], cur: str | None, shape: str,
             clauses: list[str]) -> tuple[str, str]:
        v = self.var()
        kind = test[0]
        if kind not in ("name", "any", "node"):
            raise Unsupported(f"node test {kind}")
        reverse = False
        if cur is None:
            # From the document node: its element child is the root element.
            if axis != "child":
                raise Unsupported(f"{axis} of the document node")
            source = "(R,)"
            cond = self.tag_cond(test, v)
            new_shape = "one"
        elif axis == "child":
            if kind == "node":
                raise Unsupported("child::node()")
            source = f"{cur}.iterchildren({self.tag_arg(test)})"
            cond = None
            new_shape = "flat" if shape in ("one", "flat") else "any"
        elif axis == "self":
            source = f"({cur},)"
            cond = self.tag_cond(test, v)
            new_shape = shape
        elif axis == "parent":
            source = f"_parent({cur})"
            cond = self.tag_cond(test, v)
            new_shape = "one" if shape == "one" else "any"
        elif axis in ("preceding-sibling", "following-sibling"):
            if kind == "node":
                raise Unsupported("sibling::node()")
            reverse = axis == "preceding-sibling"
            source = f"{cur}.itersiblings({self.tag_arg(test)}{', preceding=True' if reverse else ''})"
            cond = None
            new_shape = "flat" if shape == "one" else "any"
        else:
            raise Unsupported(f"axis {axis}")
        # Each predicate's condition on v, None for a position.
        pred_conds = [self.predicate(p, v) for p in preds]
        conds = ([cond] if cond is not None else []) + pred_conds
        if all(c is not None for c in conds):
            if reverse and shape == "one" and preds:
                # Predicates without positions do not depend on the order: filter, then restore document order.
                inner = f"[{v} for {v} in {source}" + "".join(f" if {c}" for c in conds) + "]"
                clauses.append(f"for {v} in {inner}[::-1]")
            else:
                clauses.append(f"for {v} in {source}" + "".join(f" if {c}" for c in conds))
                if reverse:
                    new_shape = "any"
            return v, new_shape
        # Positions count the nodes that reach each predicate, per context node, in the axis's order.
        seq = f"list({source})" if cond is None else f"[{v} for {v} in {source} if {cond}]"
        for p, c in zip(preds, pred_conds, strict=True):
            seq = f"_at({seq}, {int(p[1])})" if c is None else f"[{v} for {v} in {seq} if {c}]"
        if reverse:
            seq = f"{seq}[::-1]"
        clauses.append(f"for {v} in {seq}")
        return v, new_shape

    def tag_cond(self, test: Any, v: str) -> str | None:
        if test[0] == "name":
            return f"{v}.tag == {self.const(self.clark(test[1]))}"
        if test[0] == "any":
            return f"isinstance({v}.tag, str)"
        return None

    def predicate(self, pred: Any, v: str) -> str | None:
        """A predicate's condition on v, or None for a position ([1])."""
        if pred[0] == "num":
            if not re.fullmatch(r"[0-9]{1,6}", pred[1]):
                raise Unsupported("position")
            return None
        if _mentions_position(pred):
            raise Unsupported("position() or last()")
        code = self.gen(pred, v)
        if code[1] == "N":
            raise Unsupported("a computed position")
        return self.boolean(code)


def _mentions_position(node: Any) -> bool:
    if isinstance(node, tuple):
        if node[:1] == ("call",) and node[1] in ("position", "last"):
            return True
        return any(_mentions_position(x) for x in node[1:])
    if isinstance(node, list):
        return any(_mentions_position(x) for x in node)
    return False


def translate(expr: str, namespaces: dict[str, str], document: bool,
              smart_strings: bool = False) -> tuple[str, dict[str, Any], bool]:
    """Python source of a function (n, R) giving what lxml gives for expr at node n of the tree under root R
    (n is None for a whole tree), its constants, and whether it reads R; Unsupported outside the subset."""
    tree = _Parser(expr).parse()
    gen = _Gen(namespaces, document)
    code, kind, shape = gen.gen(tree, "n")
    if smart_strings and kind in ("A", "O", "S"):
        raise Unsupported("smart strings")  # lxml's strings that know their parent
    if kind == "E" and shape not in ("one", "flat", "ord"):
        code = f"_order({code})"
    elif kind == "O":
        code = f"(lambda v: [] if v is None else [v])({code})"
    source = f"def f(n, R):\n    return {code}\n"
    return source, gen.consts, gen.uses_root


def build(expr: str, namespaces: dict[str, str], document: bool,
          smart_strings: bool = False) -> tuple[Callable[..., Any], bool]:
    """The function translate() describes, made, and whether it reads R."""
    source, consts, uses_root = translate(expr, namespaces, document, smart_strings)
    scope: dict[str, Any] = dict(_HELPERS)
    scope.update(consts)
    exec(compile(source, f"<xpath {expr[:60]}>", "exec"), scope)
    return scope["f"], uses_root


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(x is y if isinstance(x, etree._Element) else (x == y and type(x) is type(y))
                                        for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return (a != a and b != b) or a == b
    return type(a) is type(b) and a == b


class _Translated:
    """One expression's translation for one kind of node, called as lxml's XPath is (lxml on Fallback)."""

    def __init__(self, xp: Any, fn: Callable[..., Any], tree: bool) -> None:
        self.xp, self.fn, self.tree = xp, fn, tree

    def __call__(self, node: Any, **variables: Any) -> Any:
        try:
            if self.tree:
                return self.fn(None, node.getroot())
            return self.fn(node, node.getroottree().getroot())
        except Fallback:
            return self.xp(node, **variables)


def compare(calls: list[Call], rounds: int) -> dict[str, float]:
    """Agreement and replay times of lxml and of the translations over the same evaluations."""
    made: dict[tuple[int, bool], Any] = {}
    translated: list[Call] = []
    agree = differ = untranslated = 0
    for xp, node, variables in calls:
        tree = isinstance(node, etree._ElementTree)
        key = (id(xp), tree)
        if key not in made:
            try:
                namespaces = {p: u for p, u in NAMESPACES.items() if f"{p}:" in xp.path}
                fn, _ = build(xp.path, namespaces, tree, SMART_STRINGS.get(id(xp), False))
                made[key] = _Translated(xp, fn, tree)
            except Unsupported:
                made[key] = None
        fast = made[key]
        if fast is None or variables:
            untranslated += 1
            translated.append((xp, node, variables))
            continue
        if _same(fast(node), xp(node)):
            agree += 1
        else:
            differ += 1
        translated.append((fast, node, variables))
    lxml_time = replay(calls, rounds)
    python_time = replay(translated, rounds)
    # The better of the two for each expression, timed apart.
    by_expr: dict[int, tuple[list[Call], list[Call]]] = {}
    for slow, fast in zip(calls, translated, strict=True):
        pair = by_expr.setdefault(id(slow[0]), ([], []))
        pair[0].append(slow)
        pair[1].append(fast)
    best = sum(min(replay(a, rounds), replay(b, rounds)) for a, b in by_expr.values())
    return {"agree": agree, "differ": differ, "untranslated": untranslated, "lxml": lxml_time,
            "python": python_time, "best": best}


def main() -> int:
    """Print agreement and times of the translated XPath against lxml, per target."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "conformance" / "libvirt-1.2.8")
    ap.add_argument("--rounds", type=int, default=3, help="replays timed (best one kept)")
    args = ap.parse_args()
    cases = json.loads((args.corpus / "manifest.json").read_text())["cases"]
    files = sorted({args.corpus / c["xml"] for c in cases})
    for target in TARGETS:
        got = compare(record(files, target), args.rounds)
        n = len(files)
        print(f"{target}: {got['agree']:,.0f} evaluations agree with lxml, {got['differ']:,.0f} differ, "
              f"{got['untranslated']:,.0f} left to lxml (untranslated)")
        print(f"  per domain: lxml {got['lxml'] / n * 1e6:.0f} us; translated {got['python'] / n * 1e6:.0f} us "
              f"({got['python'] / got['lxml']:.2f}x); the faster of the two per expression "
              f"{got['best'] / n * 1e6:.0f} us ({got['best'] / got['lxml']:.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
