"""Hardened XML parsing: no entities, no DTD, no network, bounded size."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from lxml import etree

from .errors import InputError
from .record import field, record

if TYPE_CHECKING:
    from pathlib import Path

    from .walk import Walk

# libvirt itself refuses domain XML over 10 MiB (VIR_DOMAIN_XML_MAX_LEN is
# smaller still); anything larger is not a domain definition.
MAX_BYTES = 10 * 1024 * 1024
# libxml2's nesting limit without XML_PARSE_HUGE (huge_tree stays off).
_MAX_DEPTH = 256

_PARSER_OPTIONS = dict(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_pis=True,
    # Kept: inline suppressions are comments.
    remove_comments=False,
    remove_blank_text=False,
)


_PARSERS: list[etree.XMLParser] = []


def _parser() -> etree.XMLParser:
    """One hardened parser, made once: building a parser costs as much as parsing a small domain."""
    if not _PARSERS:
        _PARSERS.append(etree.XMLParser(**_PARSER_OPTIONS))
    return _PARSERS[0]


@record
class Document:
    """A parsed XML file with what findings need to point into it."""

    path: str
    data: bytes
    tree: etree._ElementTree
    _lines: list[str] | None = field(default=None, repr=False)
    # Elements normalisation added (implied controllers, default devices), in the order added.
    implied: list[etree._Element] = field(default_factory=list, repr=False)
    # The walk normalisation read the tree with (walk.Walk): the engine takes the facts from it.
    walk: Walk | None = field(default=None, repr=False)

    @property
    def root(self) -> etree._Element:
        """The root element."""
        return self.tree.getroot()

    def column(self, el: etree._Element) -> int:
        """1-based column of the start tag of el (1 when it cannot be found)."""
        line = el.sourceline
        if not line or not isinstance(el.tag, str):
            return 1
        if self._lines is None:
            # lxml reports UTF-8 for a UTF-16 file without a declaration.
            encoding = _utf16_codec(self.data) or self.tree.docinfo.encoding or "utf-8"
            try:
                text_all = self.data.decode(encoding, errors="replace")
            except LookupError:
                text_all = self.data.decode("utf-8", errors="replace")
            self._lines = text_all.lstrip("\ufeff").split("\n")
        if line > len(self._lines):
            return 1
        text = self._lines[line - 1]
        needle = "<" + etree.QName(el).localname
        # Several elements of one name may start on one line: count which.
        nth = 0
        for other in el.itersiblings(preceding=True):
            if other.sourceline == line and other.tag == el.tag:
                nth += 1
        parent = el.getparent()
        if parent is not None and parent.sourceline == line and parent.tag == el.tag:
            nth += 1
        pos = -1
        for _ in range(nth + 1):
            pos = _find_tag(text, needle, pos + 1)
            if pos < 0:
                return 1
        return pos + 1


def _find_tag(text: str, needle: str, start: int) -> int:
    while True:
        pos = text.find(needle, start)
        if pos < 0:
            return -1
        after = text[pos + len(needle):pos + len(needle) + 1]
        if after in ("", " ", ">", "/", "\t", "\r", "\n"):
            return pos
        start = pos + 1


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, max(offset, 0)) + 1


def _utf16_codec(data: bytes) -> str | None:
    """The codec of UTF-16 data (with a BOM, or starting with '<'), or None."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    return {b"<\x00": "utf-16-le", b"\x00<": "utf-16-be"}.get(data[:2])


def _doctype_offset(data: bytes) -> int | None:
    """Line of a DOCTYPE declaration in data, in UTF-8 or UTF-16, or None."""
    codec = _utf16_codec(data)
    if codec:
        text = data.decode(codec, errors="replace")
        pos = text.find("<!DOCTYPE")
        return text.count("\n", 0, pos) + 1 if pos >= 0 else None
    pos = data.find(b"<!DOCTYPE")
    return _line_of(data, pos) if pos >= 0 else None


def parse_bytes(data: bytes, path: str, roots: tuple[str, ...] | None = ("domain",)) -> Document:
    """Parse data as XML whose root must be one of roots (any if None); raise InputError."""
    if len(data) > MAX_BYTES:
        raise InputError(path, None, f"file is {len(data)} bytes, over the {MAX_BYTES}-byte (10 MiB) size limit")
    if not data or data.isspace():
        raise InputError(path, 1, "file is empty")
    # UTF-16 (with a BOM, or autodetected from '<' as libxml2 does) is full of NUL bytes;
    # a NUL character in it is still refused by the parser.
    if b"\x00" in data and _utf16_codec(data) is None:
        raise InputError(path, _line_of(data, data.index(b"\x00")), "file contains a NUL byte")
    doctype = _doctype_offset(data)
    if doctype is not None:
        # Refused before libxml2 sees it: some parser options make it open
        # the external subset even with DTD loading off.
        raise InputError(
            path, doctype,
            "DOCTYPE declarations are refused: entities and DTDs are never expanded or loaded",
        )
    try:
        tree = etree.ElementTree(etree.fromstring(data, _parser()))
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        msg = exc.msg or "not well-formed XML"
        msg = msg.split(", line ")[0]
        if msg.startswith("Excessive depth in document"):
            # libvirt parses without XML_PARSE_HUGE too, so it refuses the same file.
            msg = f"elements nested deeper than {_MAX_DEPTH} levels, libxml2's limit (libvirt refuses it too)"
        if "hyphen within comment" in msg:
            # Easy to write when copying eslint-style `-- reason` into a suppression.
            msg += " (XML comments cannot hold '--'; a domlint suppression puts its reason after a single '-')"
        raise InputError(path, line, f"not well-formed XML: {msg}") from None
    except (ValueError, MemoryError) as exc:
        raise InputError(path, None, f"cannot parse XML: {exc}") from None
    docinfo = tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        pos = data.find(b"<!DOCTYPE")
        raise InputError(
            path, _line_of(data, pos) if pos >= 0 else 1,
            "DOCTYPE declarations are refused: entities and DTDs are never expanded or loaded",
        )
    root = tree.getroot()
    if not isinstance(root.tag, str) or (roots is not None and root.tag not in roots):
        want = " or ".join(f"<{r}>" for r in roots or ("an element",))
        got = root.tag if isinstance(root.tag, str) else "a non-element"
        raise InputError(path, root.sourceline, f"root element is <{got}>, expected {want}")
    return Document(path=path, data=data, tree=tree)


def _read(fd: int, limit: int) -> bytes:
    """Up to limit bytes from fd, until end of file."""
    chunks: list[bytes] = []
    got = 0
    while got < limit:
        chunk = os.read(fd, limit - got)
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def parse_file(path: str | Path, roots: tuple[str, ...] | None = ("domain",)) -> Document:
    """Read and parse one file; raise InputError naming it."""
    name = str(path)
    # Read with os calls: a Python file object (an io.FileIO and its buffer) costs
    # more than the system calls themselves.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            size = os.fstat(fd).st_size
            # A regular file over the limit is refused unread; a pipe is read no further
            # than the limit. A file is read by its size (asking for MAX_BYTES + 1 would
            # allocate that much for every file), and further only if it grew.
            data = b""
            if size <= MAX_BYTES:
                data = _read(fd, size + 1) if size else b""
                if not size or len(data) > size:
                    data += _read(fd, MAX_BYTES + 1 - len(data))
        finally:
            os.close(fd)
    except OSError as exc:
        raise InputError(name, None, f"cannot read: {exc.strerror or exc}") from None
    if size > MAX_BYTES or len(data) > MAX_BYTES:
        shown = f"{size} bytes" if size > MAX_BYTES else "more than that"
        raise InputError(name, None, f"file is {shown}, over the {MAX_BYTES}-byte (10 MiB) size limit")
    return parse_bytes(data, name, roots)
