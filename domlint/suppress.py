"""Inline suppressions: `<!-- domlint: ignore RULE[,RULE] - reason -->` just before an element.

XML forbids `--` inside a comment, so the reason follows a single dash (or an en or em
dash) set off by spaces. A suppression covers the element after it and everything
inside that element. One without a reason suppresses nothing and is itself reported.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from lxml import etree

from .engine import matches_id
from .findings import Finding
from .formats import RuleInfo
from .parse import Document, _utf16_codec

REASON = "domlint-suppression-reason"
INVALID = "domlint-suppression-invalid"
UNUSED = "domlint-suppression-unused"

# Rules about the suppression comments themselves; they are reported like any other.
META_RULES: dict[str, RuleInfo] = {
    REASON: RuleInfo(REASON, "error", "A suppression comment must say why the finding does not apply",
                     "add the reason after a dash: <!-- domlint: ignore RULE - why it is fine here -->"),
    INVALID: RuleInfo(INVALID, "warning", "A domlint comment that cannot be read or names no known rule",
                      "write <!-- domlint: ignore RULE[,RULE] - reason --> with ids from `domlint rules list`"),
    UNUSED: RuleInfo(UNUSED, "warning", "A suppression that silenced nothing (--report-unused-suppressions)",
                     "remove the rule id from the comment, or the whole comment"),
}

_DIRECTIVE = re.compile(r"^\s*domlint\s*:(.*)$", re.S)
_REASON_SEP = re.compile(r"\s[-\u2013\u2014](?:\s|$)")
_ID = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")


@dataclass
class Suppression:
    """One parsed `domlint: ignore` comment."""

    comment: etree._Element
    ids: tuple[str, ...]
    reason: str
    target: etree._Element | None
    used: set[str] = field(default_factory=set)


def _next_element(node: etree._Element) -> etree._Element | None:
    nxt = node.getnext()
    while nxt is not None and not isinstance(nxt.tag, str):
        nxt = nxt.getnext()
    return nxt


def _comments(doc: Document) -> Iterable[etree._Element]:
    root = doc.root
    yield from reversed(list(root.itersiblings(etree.Comment, preceding=True)))
    yield from root.iter(etree.Comment)


def _column(doc: Document, node: etree._Element) -> int:
    """1-based column of the `<!--` opening node on its line (comments carry only a line)."""
    line = node.sourceline or 1
    text = doc.data.decode(_utf16_codec(doc.data) or "utf-8", errors="replace").lstrip("\ufeff")
    lines = text.split("\n")
    return (lines[line - 1].find("<!--") + 1 or 1) if line <= len(lines) else 1


def _meta(doc: Document, node: etree._Element, rule_id: str, message: str) -> Finding:
    info = META_RULES[rule_id]
    return Finding(rule_id=rule_id, severity=info.severity, message=message, hint=info.hint,
                   path=doc.path, line=node.sourceline or 1, column=_column(doc, node),
                   xpath=doc.tree.getpath(node), stage="suppression")


def parse(doc: Document, known: Callable[[str], bool]) -> tuple[list[Suppression], list[Finding]]:
    """The usable suppressions of doc, and findings for the comments that are not usable."""
    found: list[Suppression] = []
    problems: list[Finding] = []
    for node in _comments(doc):
        m = _DIRECTIVE.match(node.text or "")
        if m is None:
            continue
        body = m.group(1).strip()
        verb, rest = ([*body.split(None, 1), ""])[:2]
        if verb != "ignore":
            problems.append(_meta(doc, node, INVALID, f"unknown domlint directive {verb!r}; "
                                                      "the only one is 'ignore'"))
            continue
        sep = _REASON_SEP.search(rest)
        ids_text, reason = (rest[:sep.start()], rest[sep.end():].strip()) if sep else (rest, "")
        ids = tuple(i for i in re.split(r"[,\s]+", ids_text.strip()) if i)
        bad = [i for i in ids if not _ID.match(i) or not known(i)]
        if not ids or bad:
            what = f"names no rule matching {', '.join(bad)}" if bad else "names no rule"
            problems.append(_meta(doc, node, INVALID, f"suppression comment {what}"))
            continue
        if not reason:
            problems.append(_meta(doc, node, REASON, f"suppression of {', '.join(ids)} gives no reason, "
                                                     "so it suppresses nothing"))
            continue
        found.append(Suppression(node, ids, reason, _next_element(node)))
    return found, problems


def apply(doc: Document, findings: list[Finding], suppressions: list[Suppression]) -> list[Finding]:
    """findings less those a suppression covers; marks each suppression id that was used."""
    if not suppressions:
        return findings
    by_target: dict[etree._Element, list[Suppression]] = {}
    for s in suppressions:
        if s.target is not None:
            by_target.setdefault(s.target, []).append(s)
    kept = []
    for f in findings:
        hits = doc.tree.xpath(f.xpath)
        el = hits[0] if isinstance(hits, list) and hits else None
        covered = False
        while el is not None and not covered:
            for s in by_target.get(el, ()):
                used = [i for i in s.ids if matches_id(f.rule_id, [i])]
                if used:
                    s.used.update(used)
                    covered = True
            el = el.getparent()
        if not covered:
            kept.append(f)
    return kept


def unused(doc: Document, suppressions: list[Suppression], active: set[str]) -> list[Finding]:
    """Findings for suppression ids that silenced nothing although their rule could fire here."""
    out = []
    for s in suppressions:
        idle = [i for i in s.ids if i not in s.used and any(matches_id(r, [i]) for r in active)]
        if s.target is None:
            out.append(_meta(doc, s.comment, UNUSED, "suppression comment is followed by no element"))
        elif idle:
            out.append(_meta(doc, s.comment, UNUSED,
                             f"suppression of {', '.join(idle)} matched no finding on <{s.target.tag}>"))
    return out
