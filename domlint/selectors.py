"""What a rule's select expression needs in a document before it can match anything.

A select such as ``/domain/devices/disk[iotune][target/@bus='ide']`` can only
select something in a domain that holds elements named domain, devices, disk,
iotune and target, an attribute named bus, and an attribute bus='ide'. Those
are the select's needs. The engine reads each document's facts once (its
element names, attribute names and attribute values) and skips every select
whose needs are not all there, so a domain pays only for the rules about what
it holds.

The reading is conservative: it claims only what every match must have. A
predicate under not(), a comparison with a computed value (but count(path),
number(path), string(path) or normalize-space(path) compared with a literal
so that an empty path is false: those need the path), or an or-branch it
cannot read adds nothing; an expression it cannot follow at all needs nothing
and is always evaluated.
"""

from __future__ import annotations

import re

from lxml import etree

from .predicates import NAMESPACES
from .values import LazyPattern

# A fact about a document: an element name (Clark notation), '@' and an
# attribute name, or an (attribute name, value) pair.
Fact = str | tuple[str, str]
Clause = frozenset[Fact]
# One union branch: facts it needs, every one, and clauses needing one fact each.
Branch = tuple[frozenset[Fact], tuple[Clause, ...]]
# None: the expression could not be followed and may match anything.
Needs = tuple[Branch, ...] | None

_AXIS = (r"(?:(?:child|descendant|descendant-or-self|self|parent|ancestor|ancestor-or-self|"
         r"following-sibling|preceding-sibling|following|preceding)::)?")
_NAME = r"[A-Za-z_][\w.-]*"
_NAMED_STEP = LazyPattern(rf"{_AXIS}(?:({_NAME}):)?({_NAME})")
_ATTRIBUTE_STEP = LazyPattern(rf"(?:@|attribute::)(?:({_NAME}):)?({_NAME}|\*)")
# Steps that name no element: any element, the context, its parent, text and other nodes.
_OPEN_STEP = LazyPattern(rf"|\.|\.\.|{_AXIS}\*|{_AXIS}(?:node|text|comment)\(\)")
_LITERAL = LazyPattern(r"'[^']*'|\"[^\"]*\"|-?[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
_COMPARISON = LazyPattern(r"!=|<=|>=|=|<|>")
_CONNECTIVE = LazyPattern(r"\s+(and|or)\s+")


def _levels(text: str) -> tuple[list[tuple[int, str, int]], bool]:
    """Each character outside string literals with its bracket depth (a bracket counts at the depth outside it),
    and whether every literal and bracket closes."""
    out: list[tuple[int, str, int]] = []
    depth = 0
    quote = ""
    ok = True
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "[(":
            out.append((i, ch, depth))
            depth += 1
        elif ch in "])":
            depth -= 1
            ok = ok and depth >= 0
            out.append((i, ch, depth))
        else:
            out.append((i, ch, depth))
    return out, ok and depth == 0 and not quote


def _scan(text: str) -> list[tuple[int, str]]:
    """(position, character) of each character outside literals, brackets and parentheses."""
    return [(i, ch) for i, ch, depth in _levels(text)[0] if depth == 0 and ch not in "[]()"]


def _balanced(text: str) -> bool:
    return _levels(text)[1]


def _split_on(text: str, positions: list[tuple[int, int]]) -> list[str]:
    parts, start = [], 0
    for begin, end in positions:
        parts.append(text[start:begin])
        start = end
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _split_word(text: str, word: str) -> list[str]:
    """text split at top-level `and` or `or`."""
    cuts = []
    last = -2
    for i, ch in _scan(text):
        if ch.isspace() and i > last:
            m = _CONNECTIVE.match(text, i)
            if m and m.group(1) == word:
                cuts.append((i, m.end()))
                last = m.end()
    return _split_on(text, cuts)


def _closing(text: str, start: int) -> int:
    """Index of the bracket closing the one at start (-1 if none)."""
    levels = [(i, ch, depth) for i, ch, depth in _levels(text)[0] if i >= start]
    opened = levels[0][2] if levels else 0
    return next((i for i, ch, depth in levels[1:] if ch in ")]" and depth == opened), -1)


def _unwrap(text: str) -> str:
    """text without parentheses around all of it ('(a) or (b)' keeps its own)."""
    text = text.strip()
    while text.startswith("(") and _closing(text, 0) == len(text) - 1:
        text = text[1:-1].strip()
    return text


def _steps(path: str) -> list[str] | None:
    """The steps of a location path (with their predicates), or None if it is not one."""
    if not path or not _balanced(path):
        return None
    cuts = [(i, i + 1) for i, ch in _scan(path) if ch == "/"]
    outside = "".join(ch for _, ch in _scan(path))
    if any(c in outside for c in "|=<>!$,+") or re.search(r"\s(and|or|div|mod)\s", outside):
        return None
    return _split_on(path, cuts)


def _union_step_facts(step: str) -> list[Clause] | None:
    """The clauses of a step that filters a parenthesised union of paths, '(a | b/a)[p]', or None."""
    close = _closing(step, 0)
    body = step[close + 1:].strip() if close > 0 else ""
    if close < 0 or (body and not body.startswith("[")):
        return None
    branches = _branches(step[1:close])
    if branches is None or len(branches) < 2:
        return None
    per_branch = [_path_clauses(b) for b in branches]
    if any(c is None for c in per_branch):
        return None
    # What every branch needs, the union needs; and one more fact of each branch (as an or's branches).
    common = set.intersection(*({c for c in found if len(c) == 1} for found in per_branch if found is not None))
    clauses: list[Clause] = list(common)
    rest = [[c for c in found if c not in common] for found in per_branch if found is not None]
    if all(rest):
        clauses.append(frozenset().union(*(min(c, key=lambda cl: (len(cl), all(isinstance(f, str) for f in cl)))
                                           for c in rest)))
    # Each predicate holds on the selected node, whichever branch found it.
    for predicate in _predicates(body):
        clauses.extend(_expr_clauses(predicate))
    return clauses


def _attribute_name(prefix: str | None, local: str) -> str | None:
    """An attribute step's name as a document's facts hold it (Clark notation when prefixed), None for @*
    or an unknown prefix."""
    if local == "*":
        return None
    if prefix is None:
        return local
    uri = NAMESPACES.get(prefix)
    return None if uri is None else f"{{{uri}}}{local}"


def _step_facts(step: str) -> list[Clause] | None:
    """The clauses one step of a path implies when it selects something, or None if not a step."""
    step = step.strip()
    if step.startswith("("):
        return _union_step_facts(step)
    bracket = step.find("[")
    head = (step if bracket < 0 else step[:bracket]).strip()
    body = "" if bracket < 0 else step[bracket:]
    clauses: list[Clause] = []
    if _OPEN_STEP.fullmatch(head):
        pass
    elif m := _ATTRIBUTE_STEP.fullmatch(head):
        name = _attribute_name(*m.groups())
        if name is not None:
            clauses.append(frozenset({f"@{name}"}))
    elif m := _NAMED_STEP.fullmatch(head):
        prefix, local = m.groups()
        if prefix is None:
            clauses.append(frozenset({local}))
        elif prefix in NAMESPACES:
            clauses.append(frozenset({f"{{{NAMESPACES[prefix]}}}{local}"}))
        else:
            return None
    else:
        return None
    # Each predicate of the step holds on the selected node: its needs hold too.
    for predicate in _predicates(body):
        clauses.extend(_expr_clauses(predicate))
    return clauses


def _predicates(body: str) -> list[str]:
    """The bodies of a run of predicates '[a][b]'."""
    out: list[str] = []
    start = 0
    for i, ch, depth in _levels(body)[0]:
        if depth == 0 and ch == "[":
            start = i + 1
        elif depth == 0 and ch == "]":
            out.append(body[start:i])
    return out


def _path_clauses(path: str) -> list[Clause] | None:
    """The clauses a location path implies when it selects anything; None if it is not a path."""
    steps = _steps(path)
    if steps is None:
        return None
    out: list[Clause] = []
    for step in steps:
        found = _step_facts(step)
        if found is None:
            return None
        out.extend(found)
    return out


def _comparison_clauses(text: str) -> list[Clause] | None:
    """Needs of `path op literal` (or path op path), or None if text is no such comparison."""
    ops = [(i, ch) for i, ch in _scan(text) if ch in "=<>!"]
    if not ops:
        return None
    first = ops[0][0]
    m = _COMPARISON.match(text, first)
    if m is None or any(i >= m.end() for i, _ in ops):
        return [] if m else None  # a chain of comparisons: claim nothing
    left, op, right = text[:first].strip(), m.group(0), text[m.end():].strip()
    out: list[Clause] = []
    # A comparison with an empty node-set is false for every operator, as long as
    # the other side is a literal or a node-set (a boolean would compare otherwise).
    sides: list[str] = []
    for side in (left, right):
        if _LITERAL.fullmatch(side):
            continue
        clauses = _path_clauses(side)
        if clauses is None:
            other = right if side is left else left
            if len(sides) or not _LITERAL.fullmatch(other):
                return []
            # f(path) op literal: a call that is false of an empty path claims the path's needs.
            return _call_clauses(side, op if side is left else _MIRROR.get(op, op), other)
        sides.append(side)
        out.extend(clauses)
    if op == "=" and len(sides) == 1:
        path, literal = (left, right) if sides[0] == left else (right, left)
        last = (_steps(path) or [""])[-1]
        attr = _ATTRIBUTE_STEP.fullmatch(last)
        name = _attribute_name(*attr.groups()) if attr else None
        if name is not None and literal[:1] in "'\"":
            out.append(frozenset({(name, literal[1:-1])}))
    return out


_MIRROR = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}
_XPATH_NUMBER = LazyPattern(r"\s*-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*")
_CALL = LazyPattern(r"(string|normalize-space|number|count)\((.*)\)", re.S)


def _call_clauses(call: str, op: str, literal: str) -> list[Clause]:
    """Needs of `f(path) op literal` for f among string, normalize-space, number and count: the path's,
    when the comparison is false for every empty path (else nothing)."""
    m = _CALL.fullmatch(call.strip())
    if m is None or _closing(call.strip(), len(m.group(1))) != len(call.strip()) - 1:
        return []
    name, arg = m.group(1), m.group(2).strip()
    clauses = _path_clauses(arg) if arg else None
    if not clauses:
        return []
    quoted = literal[:1] in "'\""
    text = literal[1:-1] if quoted else literal
    # The literal as XPath's number() reads it (NaN for anything but an optional minus and decimal digits).
    number = float(text) if _XPATH_NUMBER.fullmatch(text) else float("nan")
    if name == "count":
        # count() of an empty path is 0: false for these only.
        empty_false = ((op == ">" and number >= 0) or (op in (">=", "=") and number > 0)
                       or (op == "!=" and number == 0))
    elif name == "number" or op not in ("=", "!="):
        # number() of an empty path is NaN, as is '' compared by order: false for all but !=.
        empty_false = op != "!="
    elif quoted:
        # string() and normalize-space() of an empty path are '': compared as strings.
        empty_false = (text != "") if op == "=" else (text == "")
    else:
        # '' against a number: NaN, equal to nothing and unequal to everything.
        empty_false = op == "="
    return clauses if empty_false else []


def _atom_clauses(text: str) -> list[Clause]:
    text = _unwrap(text)
    if len(_split_word(text, "or")) > 1 or len(_split_word(text, "and")) > 1:
        return _expr_clauses(text)
    compared = _comparison_clauses(text)
    if compared is not None:
        return compared
    return _path_clauses(text) or []


def _expr_clauses(expr: str) -> list[Clause]:
    """What a predicate expression needs when it is true: clauses that each need one fact."""
    out: list[Clause] = []
    for conjunct in _split_word(_unwrap(expr), "and"):
        branches = _split_word(_unwrap(conjunct), "or")
        if len(branches) == 1:
            out.extend(_atom_clauses(branches[0]))
            continue
        # True through any branch: the clause holds one fact from each branch.
        per_branch = [_atom_clauses(b) for b in branches]
        if all(per_branch):
            # Prefer a branch's attribute values, the rarest facts, when it offers some.
            out.append(frozenset().union(*(min(c, key=lambda cl: (len(cl), all(isinstance(f, str) for f in cl)))
                                           for c in per_branch)))
    return out


def _branches(expr: str) -> list[str] | None:
    """The top-level union branches of expr, or None when a literal or bracket does not close."""
    if not _balanced(expr):
        return None
    cuts = [(i, i + 1) for i, ch in _scan(expr) if ch == "|"]
    return _split_on(expr, cuts)


def needs_of(expr: str) -> Needs:
    """What each union branch of a select needs; None when any branch is not a plain path."""
    branches = _branches(expr)
    if branches is None:
        return None
    out: list[Branch] = []
    for branch in branches:
        clauses = _path_clauses(branch)
        if clauses is None:
            return None
        every = frozenset(f for c in clauses if len(c) == 1 for f in c)
        some = tuple(dict.fromkeys(c for c in clauses if len(c) > 1))
        out.append((every, some))
    return tuple(out)


def document_facts(root: etree._Element) -> set[Fact]:
    """Every element name, attribute name and attribute (name, value) pair a document holds."""
    facts: set[Fact] = set()
    add = facts.add
    for el in root.iter():
        add(el.tag)
        for pair in el.items():
            add(pair)
            add("@" + pair[0])
    return facts


def may_match(needs: Needs, facts: set[Fact]) -> bool:
    """Whether a select with these needs can select anything in a document with these facts."""
    if needs is None:
        return True
    # Plain loops: this runs for every candidate select of every document.
    for every, clauses in needs:
        if every <= facts:
            for clause in clauses:
                if clause.isdisjoint(facts):
                    break
            else:
                return True
    return False
