"""What a rule's select expression needs in a document before it can match anything.

A select such as ``/domain/devices/hostdev[@mode='subsystem']/source/address``
can only select something in a domain that has hostdev, source and address
elements and some attribute mode='subsystem'. The engine reads each document's
element names and attribute values once and skips every select whose needs are
not there, so a domain pays only for the rules about what it holds. The reading
is conservative: what it cannot follow needs nothing, and an expression it
cannot follow at all is always evaluated.
"""

from __future__ import annotations

import re

from lxml import etree

from .predicates import NAMESPACES

_AXIS = r"(?:(?:child|descendant|descendant-or-self|self|parent|ancestor|ancestor-or-self|" \
        r"following-sibling|preceding-sibling|following|preceding)::)?"
_NAME = r"[A-Za-z_][\w.-]*"
_NAMED_STEP = re.compile(rf"{_AXIS}(?:({_NAME}):)?({_NAME})")
# Steps that select elements of any name, or no elements at all.
_OPEN_STEP = re.compile(rf"(?:|\.|\.\.|{_AXIS}\*|{_AXIS}(?:node|text|comment)\(\)|(?:@|attribute::)(?:{_NAME}:)?(?:{_NAME}|\*))")


def _strip_predicates(branch: str) -> str | None:
    """The branch with its [...] predicates removed; None if brackets or quotes do not balance."""
    out: list[str] = []
    depth = 0
    quote = ""
    for ch in branch:
        if quote:
            if ch == quote:
                quote = ""
            continue
        if ch in "'\"":
            if depth == 0:
                return None  # a literal outside a predicate: not a plain path
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth < 0:
                return None
        elif depth == 0:
            out.append(ch)
    return "".join(out) if depth == 0 and not quote else None


def _branches(expr: str) -> list[str] | None:
    """The top-level union branches of expr, or None when a literal or bracket does not close."""
    parts: list[str] = []
    depth = 0
    quote = ""
    start = 0
    for i, ch in enumerate(expr):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(expr[start:i])
            start = i + 1
    if quote or depth:
        return None
    parts.append(expr[start:])
    return [p.strip() for p in parts]


def _names(path: str) -> frozenset[str] | None:
    """Element names (Clark notation) every step of a plain location path needs; None if not plain."""
    names: set[str] = set()
    for step in path.split("/"):
        step = step.strip()
        if _OPEN_STEP.fullmatch(step):
            continue
        m = _NAMED_STEP.fullmatch(step)
        if m is None:
            return None
        prefix, local = m.groups()
        if prefix is None:
            names.add(local)
        elif prefix in NAMESPACES:
            names.add(f"{{{NAMESPACES[prefix]}}}{local}")
        else:
            return None
    return frozenset(names)


Pair = tuple[str, str]
# One union branch: element names it needs, all of them, and clauses of
# attribute (name, value) pairs, each needing one of its pairs.
Branch = tuple[frozenset[str], tuple[frozenset[Pair], ...]]
# None: the expression could not be followed and may match anything.
Needs = tuple[Branch, ...] | None

_EQUALS = re.compile(r"""(?:(?:\.\.|\.|[A-Za-z_][\w.-]*)/)*@([A-Za-z_][\w.-]*)\s*=\s*(?:'([^']*)'|"([^"]*)")""")
_CONNECTIVE = re.compile(r"\s+(and|or)\s+")


def _top_level(text: str) -> list[tuple[int, str]]:
    """(position, 'and'/'or') of each connective outside quotes, brackets and parentheses."""
    found: list[tuple[int, str]] = []
    depth = 0
    quote = ""
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif depth == 0 and ch.isspace():
            m = _CONNECTIVE.match(text, i)
            if m and (not found or found[-1][0] < i - 1):
                found.append((i, m.group(1)))
    return found


def _split(text: str, word: str) -> list[str]:
    cuts = [i for i, w in _top_level(text) if w == word]
    parts, start = [], 0
    for i in cuts:
        parts.append(text[start:i])
        start = _CONNECTIVE.match(text, i).end()  # type: ignore[union-attr]
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _unwrap(text: str) -> str:
    """text without parentheses around all of it."""
    while text.startswith("(") and text.endswith(")"):
        depth = 0
        for i, ch in enumerate(text):
            depth += (ch == "(") - (ch == ")")
            if depth == 0 and i < len(text) - 1:
                return text  # '(a) or (b)': the first parenthesis closes early
        text = text[1:-1].strip()
    return text


def _clauses(predicate: str) -> list[frozenset[Pair]]:
    """The attribute clauses a predicate implies: each conjunct that is an or-chain of @a='v' tests."""
    out = []
    for conjunct in _split(_unwrap(predicate.strip()), "and"):
        pairs = set()
        for test in _split(_unwrap(conjunct), "or"):
            m = _EQUALS.fullmatch(test)
            if m is None:
                break
            pairs.add((m.group(1), m.group(2) if m.group(2) is not None else m.group(3)))
        else:
            out.append(frozenset(pairs))
    return out


def _predicates(branch: str) -> list[str]:
    """The bodies of the predicates on the branch's own steps (nested ones are part of their parent)."""
    out: list[str] = []
    depth = 0
    quote = ""
    start = 0
    for i, ch in enumerate(branch):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "[":
            depth += 1
            if depth == 1:
                start = i + 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                out.append(branch[start:i])
    return out


def needs_of(expr: str) -> Needs:
    """What each union branch of a select needs; None when any branch is not a plain path."""
    branches = _branches(expr)
    if branches is None:
        return None
    out: list[Branch] = []
    for branch in branches:
        bare = _strip_predicates(branch)
        names = _names(bare) if bare is not None else None
        if names is None:
            return None
        clauses = tuple(c for p in _predicates(branch) for c in _clauses(p))
        out.append((names, clauses))
    return tuple(out)


def document_facts(root: etree._Element) -> tuple[set[str], set[Pair]]:
    """The element names and the attribute (name, value) pairs a document holds."""
    names: set[str] = set()
    pairs: set[Pair] = set()
    for el in root.iter():
        names.add(el.tag)
        pairs.update(el.items())
    return names, pairs


def may_match(needs: Needs, names: set[str], pairs: set[Pair]) -> bool:
    """Whether a select with these needs can select anything in a document with these facts."""
    if needs is None:
        return True
    # Plain loops: this runs for every candidate select of every document.
    for needed, clauses in needs:
        if needed <= names:
            for clause in clauses:
                if clause.isdisjoint(pairs):
                    break
            else:
                return True
    return False
