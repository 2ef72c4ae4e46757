"""Inline suppressions: `<!-- domlint: VERB RULE[,RULE] - reason -->`.

Three verbs: `ignore` covers the element after the comment and everything inside it;
`ignore-next` covers the findings reported on the line of the next element only (the
per-line form of ruff's noqa or eslint's disable-next-line); `ignore-file`, anywhere in
the file, covers the whole file (every rule when it names none). XML forbids `--`
inside a comment, so the reason follows a single dash (or an en or em dash) set off by
spaces. One without a reason suppresses nothing and is itself reported. Ids that name
no known rule are reported; the known ones of the same comment still apply.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from lxml import etree

from .engine import matches_id
from .findings import Finding
from .formats import RuleInfo
from .parse import Document, _utf16_codec
from .record import field, record
from .values import LazyPattern

REASON = "domlint-suppression-reason"
INVALID = "domlint-suppression-invalid"
UNUSED = "domlint-suppression-unused"

# Rules about the suppression comments themselves; they are reported like any other.
META_RULES: dict[str, RuleInfo] = {
    REASON: RuleInfo(REASON, "error", "A suppression comment must say why the finding does not apply",
                     "add the reason after a dash: <!-- domlint: ignore RULE - why it is fine here -->"),
    INVALID: RuleInfo(INVALID, "warning", "A domlint comment that cannot be read or names no known rule",
                      "write <!-- domlint: ignore RULE[,RULE] - reason --> (or ignore-next, ignore-file) with ids "
                      "from `domlint rules list`"),
    UNUSED: RuleInfo(UNUSED, "warning", "A suppression that silenced nothing (--report-unused-suppressions)",
                     "remove the rule id from the comment, or the whole comment"),
}

_DIRECTIVE = LazyPattern(r"^\s*domlint\s*:(.*)$", re.S)
_REASON_SEP = LazyPattern(r"\s[-\u2013\u2014](?:\s|$)")
_ID = LazyPattern(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")


@record
class Suppression:
    """One parsed `domlint: ignore` comment."""

    comment: etree._Element
    # Empty only for an ignore-file that names no rule: it covers every rule.
    ids: tuple[str, ...]
    reason: str
    target: etree._Element | None
    used: set[str] = field(default_factory=set)
    # ELEMENT (the next element and its contents), LINE (findings on one line) or FILE.
    scope: str = "element"
    line: int = 0


ELEMENT, LINE, FILE = "element", "line", "file"
VERBS = {"ignore": ELEMENT, "ignore-next": LINE, "ignore-file": FILE}


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
        if verb not in VERBS:
            problems.append(_meta(doc, node, INVALID, f"unknown domlint directive {verb!r}; "
                                                      f"known: {', '.join(VERBS)}"))
            continue
        scope = VERBS[verb]
        rest = " " + rest  # so that a reason right after the verb (ignore-file - why) is found
        sep = _REASON_SEP.search(rest)
        ids_text, reason = (rest[:sep.start()], rest[sep.end():].strip()) if sep else (rest, "")
        ids = tuple(i for i in re.split(r"[,\s]+", ids_text.strip()) if i)
        bad = [i for i in ids if not _ID.match(i) or not known(i)]
        if bad:
            problems.append(_meta(doc, node, INVALID, f"suppression comment names no rule matching "
                                                      f"{', '.join(bad)}"
                                                      + ("; its other ids still apply" if len(bad) < len(ids) else "")))
            ids = tuple(i for i in ids if i not in bad)
            if not ids:
                continue
        elif not ids and scope != FILE:
            problems.append(_meta(doc, node, INVALID, "suppression comment names no rule"))
            continue
        if not reason:
            what = ", ".join(ids) or "every rule"
            problems.append(_meta(doc, node, REASON, f"suppression of {what} gives no reason, "
                                                     "so it suppresses nothing"))
            continue
        target = _next_element(node)
        line = 0
        if scope == LINE:
            line = target.sourceline or 0 if target is not None else 0
        found.append(Suppression(node, ids, reason, target, scope=scope, line=line))
    return found, problems


def _covers(s: Suppression, rule_id: str) -> list[str]:
    """The ids of s that cover rule_id (for a blanket ignore-file, the rule itself)."""
    if not s.ids:
        return [] if rule_id in META_RULES else [rule_id]
    return [i for i in s.ids if matches_id(rule_id, [i])]


def apply(doc: Document, findings: list[Finding], suppressions: list[Suppression]) -> list[Finding]:
    """findings less those a suppression covers; marks each suppression id that was used."""
    if not suppressions:
        return findings
    by_target: dict[etree._Element, list[Suppression]] = {}
    by_line: dict[int, list[Suppression]] = {}
    whole = [s for s in suppressions if s.scope == FILE]
    for s in suppressions:
        if s.scope == ELEMENT and s.target is not None:
            by_target.setdefault(s.target, []).append(s)
        elif s.scope == LINE and s.line:
            by_line.setdefault(s.line, []).append(s)
    kept = []
    for f in findings:
        covered = False
        for s in whole + by_line.get(f.line, []):
            used = _covers(s, f.rule_id)
            if used:
                s.used.update(used)
                covered = True
        hits = doc.tree.xpath(f.xpath) if by_target and not covered else None
        el = hits[0] if isinstance(hits, list) and hits else None
        while el is not None and not covered:
            for s in by_target.get(el, ()):
                used = _covers(s, f.rule_id)
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
        if s.scope == FILE:
            if not s.ids and not s.used:
                out.append(_meta(doc, s.comment, UNUSED, "file-wide suppression matched no finding"))
            elif idle:
                out.append(_meta(doc, s.comment, UNUSED, f"file-wide suppression of {', '.join(idle)} "
                                                         "matched no finding"))
        elif s.target is None:
            out.append(_meta(doc, s.comment, UNUSED, "suppression comment is followed by no element"))
        elif idle:
            where = f"line {s.line}" if s.scope == LINE else f"<{s.target.tag}>"
            out.append(_meta(doc, s.comment, UNUSED,
                             f"suppression of {', '.join(idle)} matched no finding on {where}"))
    return out
