"""The start and end tags of a domain's source text, found by scanning it, so that a fix edits bytes in place.

A fix never serialises the tree again: that would change quoting, attribute
order, comments and indentation all over the file. Instead the text is
scanned once, tag by tag, and each element of the parsed tree is matched to
its start tag by document order; lxml's sourceline (the line where the start
tag ends) confirms every match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_NAME = re.compile(r"[^\s/>=<\"']+")
_SPACE = re.compile(r"\s*")


class ScanError(ValueError):
    """The text is not laid out as the scanner expects (it never is for a file lxml parsed)."""


@dataclass
class Attr:
    """One attribute of a start tag, with offsets into the text."""

    name: str
    start: int        # where the whitespace before the name begins
    name_start: int
    value_start: int  # just inside the opening quote
    value_end: int    # at the closing quote
    quote: str

    @property
    def end(self) -> int:
        """Just after the closing quote."""
        return self.value_end + 1


@dataclass
class Tag:
    """An element as written: its start tag, its attributes, and where its end tag is."""

    name: str
    start: int                 # the '<'
    name_end: int
    attrs_end: int             # after the last attribute (or the name)
    end: int                   # after the start tag's '>'
    empty: bool                # written <name .../>
    first_line: int
    last_line: int
    attrs: list[Attr] = field(default_factory=list)
    close_start: int = -1      # the '</' of the end tag (the start tag's '/' when empty)
    close_end: int = -1        # after the whole element
    children: list[Tag] = field(default_factory=list)

    def attr(self, name: str) -> Attr | None:
        """The attribute called name, as written, or None."""
        for a in self.attrs:
            if a.name == name:
                return a
        return None


def scan(text: str) -> list[Tag]:
    """Every element's tags in document order (ScanError when the text is not well-formed enough)."""
    tags: list[Tag] = []
    stack: list[Tag] = []
    pos = 0
    n = len(text)
    # Lines are counted incrementally: offsets only grow.
    counted = [1, 0]

    def line_at(offset: int) -> int:
        counted[0] += text.count("\n", counted[1], offset)
        counted[1] = offset
        return counted[0]

    while True:
        lt = text.find("<", pos)
        if lt < 0:
            break
        if text.startswith("<!--", lt):
            pos = _past(text, "-->", lt + 4)
        elif text.startswith("<![CDATA[", lt):
            pos = _past(text, "]]>", lt + 9)
        elif text.startswith("<?", lt):
            pos = _past(text, "?>", lt + 2)
        elif text.startswith("<!", lt):
            pos = _past(text, ">", lt + 2)
        elif text.startswith("</", lt):
            m = _NAME.match(text, lt + 2)
            if not m or not stack or stack[-1].name != m.group():
                raise ScanError(f"unexpected end tag at offset {lt}")
            gt = _SPACE.match(text, m.end()).end()
            if gt >= n or text[gt] != ">":
                raise ScanError(f"unterminated end tag at offset {lt}")
            el = stack.pop()
            el.close_start, el.close_end = lt, gt + 1
            pos = gt + 1
        else:
            tag, pos = _start_tag(text, lt)
            tag.first_line = line_at(lt)
            tag.last_line = line_at(pos)
            if stack:
                stack[-1].children.append(tag)
            tags.append(tag)
            if tag.empty:
                tag.close_end = tag.end
            else:
                stack.append(tag)
    if stack:
        raise ScanError(f"<{stack[-1].name}> is not closed")
    return tags


def _past(text: str, end: str, start: int) -> int:
    at = text.find(end, start)
    if at < 0:
        raise ScanError(f"unterminated markup before offset {start}")
    return at + len(end)


def _start_tag(text: str, lt: int) -> tuple[Tag, int]:
    m = _NAME.match(text, lt + 1)
    if not m:
        raise ScanError(f"no element name at offset {lt}")
    tag = Tag(name=m.group(), start=lt, name_end=m.end(), attrs_end=m.end(), end=-1, empty=False,
              first_line=0, last_line=0)
    pos = m.end()
    while True:
        ws = _SPACE.match(text, pos).end()
        if ws >= len(text):
            raise ScanError(f"unterminated start tag at offset {lt}")
        ch = text[ws]
        if ch == ">":
            tag.end = ws + 1
            return tag, tag.end
        if text.startswith("/>", ws):
            tag.empty = True
            tag.close_start = ws
            tag.end = ws + 2
            return tag, tag.end
        name = _NAME.match(text, ws)
        if not name or ws == pos:
            raise ScanError(f"malformed attribute at offset {ws}")
        eq = _SPACE.match(text, name.end()).end()
        if eq >= len(text) or text[eq] != "=":
            raise ScanError(f"attribute without a value at offset {ws}")
        q = _SPACE.match(text, eq + 1).end()
        quote = text[q] if q < len(text) else ""
        if quote not in ("'", '"'):
            raise ScanError(f"unquoted attribute value at offset {q}")
        close = text.find(quote, q + 1)
        if close < 0:
            raise ScanError(f"unterminated attribute value at offset {q}")
        tag.attrs.append(Attr(name.group(), pos, ws, q + 1, close, quote))
        pos = tag.attrs_end = close + 1


def line_start(text: str, pos: int) -> int:
    """The offset where the line holding pos begins."""
    return text.rfind("\n", 0, pos) + 1


def indent_before(text: str, pos: int) -> str | None:
    """The whitespace from the start of pos's line to pos, or None when anything else comes first."""
    head = text[line_start(text, pos):pos]
    return head if not head.strip() else None


def escape(value: str, quote: str) -> str:
    """value written inside an attribute quoted with quote."""
    out = value.replace("&", "&amp;").replace("<", "&lt;")
    return out.replace(quote, "&apos;" if quote == "'" else "&quot;")
