"""Which element names a rule's select expression needs before it can match anything.

A select such as ``/domain/devices/hostdev[@mode='subsystem']/source/address``
can only select something in a domain that has hostdev, source and address
elements. The engine reads each document's element names once and skips every
select whose names are not all there, so a domain pays only for the rules about
what it holds. The reading is conservative: an expression it cannot follow
needs nothing and is always evaluated.
"""

from __future__ import annotations

import re

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


def required_names(expr: str) -> tuple[frozenset[str], ...] | None:
    """For each union branch, the element names it needs; None when any branch is not a plain path."""
    branches = _branches(expr)
    if branches is None:
        return None
    out: list[frozenset[str]] = []
    for branch in branches:
        bare = _strip_predicates(branch)
        names = _names(bare) if bare is not None else None
        if names is None:
            return None
        out.append(names)
    return tuple(out)


def may_match(needs: tuple[frozenset[str], ...] | None, present: set[str] | frozenset[str]) -> bool:
    """Whether a select with these needs can select anything in a document holding present names."""
    return needs is None or any(n <= present for n in needs)
