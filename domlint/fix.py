"""Fixes: a rule's `fix:` turned into edits of the file's own text, applied pass by pass.

A rule's `fix` is data: one remedy, or a list of remedies each with a `when`
(the first that holds is the remedy), each made of edits relative to the
element the rule selected: set or remove attributes, add or remove a child
element, rename the element (`at:` points an edit at an element below it).
Each remedy says whether it is safe (it keeps what the guest sees and what
the author evidently meant) or needs --unsafe-fixes.

Edits are made to the source text at the element's own start tag, found by
scanning the text (sourcetext.py): nothing else in the file moves.
Remedies that would touch one element, or overlapping text, are applied one
per pass; the file is checked again between passes, a remedy is never applied
twice to one finding, and a text seen before ends the passes, so fixes never loop.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lxml import etree

from .domain import foreign_hypervisor, guest_arch, normalise
from .errors import DomlintError
from .findings import Finding
from .formats import CheckedFile
from .parse import Document, parse_bytes
from .predicates import compile_xpath
from .sourcetext import ScanError, Tag, escape, indent_before, line_start, scan

if TYPE_CHECKING:
    from .checker import Checker
    from .engine import Engine, Rule

# A file needing more passes than this has remedies that keep finding work: stop.
MAX_PASSES = 12
# The edit kinds of a remedy (besides `at`), as the schema lists them.
EDIT_KINDS = ("set", "remove", "add-child", "remove-child", "rename")


@dataclass(frozen=True)
class Edit:
    """Replace text[start:end] with text."""

    start: int
    end: int
    text: str


@dataclass
class Mend:
    """One finding's remedy, as edits of one file's text."""

    finding: Finding
    title: str
    safe: bool
    element: int
    edits: list[Edit]


@dataclass
class Outcome:
    """What mending one file did: its bytes before and after, the remedies applied, what remains."""

    path: str
    original: bytes
    fixed: bytes
    applied: list[Mend] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    # Remedies not applied because they need --unsafe-fixes.
    unsafe_left: int = 0
    # Remedies that held for a finding but would change nothing in the text as written (a rule's mistake).
    idle: int = 0
    # Why mending stopped short (a file in another encoding, remedies undoing each other), else empty.
    problem: str = ""

    @property
    def changed(self) -> bool:
        """Whether the text changed."""
        return self.fixed != self.original


# A check's document, findings, each source element's order, and the capabilities it was judged under.
Checked = tuple[Document, list[Finding], dict[etree._Element, int], frozenset[str]]


def alternatives(fix: Any) -> list[dict[str, Any]]:
    """A rule's `fix` as a list of remedies (one remedy may be written without the list)."""
    if not fix:
        return []
    return list(fix) if isinstance(fix, list) else [fix]


def describe(remedy: dict[str, Any]) -> str:
    """The remedy's title, or one derived from its edits ("set cache='none' on <driver>")."""
    if remedy.get("title"):
        return str(remedy["title"])
    parts = []
    for edit in remedy["edits"]:
        where = f" on <{edit['at']}>" if edit.get("at") else ""
        if "set" in edit:
            parts.append("set " + " ".join(f"{k}='{v}'" for k, v in edit["set"].items()) + where)
        elif "remove" in edit:
            parts.append("remove " + ", ".join(edit["remove"]) + where)
        elif "add-child" in edit:
            parts.append(f"add {edit['add-child'].strip()}{where}")
        elif "remove-child" in edit:
            parts.append(f"remove <{edit['remove-child']}>{where}")
        elif "rename" in edit:
            parts.append(f"rename{where} to <{edit['rename']}>")
    return "; ".join(parts)


def check_remedies(fix: Any) -> list[str]:
    """What the schema cannot say about a rule's fix: XPath that compiles, a child that is one element."""
    problems = []
    for i, remedy in enumerate(alternatives(fix)):
        exprs = [("when", f"boolean({remedy['when']})")] if "when" in remedy else []
        for edit in remedy.get("edits", []):
            if "at" in edit:
                exprs.append(("at", edit["at"]))
            if "remove-child" in edit:
                exprs.append(("remove-child", edit["remove-child"]))
            if "add-child" in edit:
                try:
                    el = etree.fromstring(edit["add-child"].strip().encode())
                    if not isinstance(el.tag, str):
                        raise etree.XMLSyntaxError("not an element", None, 1, 1)
                except etree.XMLSyntaxError as exc:
                    problems.append(f"fix[{i}].add-child is not one XML element ({exc})")
        for key, expr in exprs:
            try:
                compile_xpath(expr)
            except etree.XPathError as exc:
                problems.append(f"fix[{i}].{key}: XPath does not compile: {expr!r} ({exc})")
    return problems


class Source:
    """A document's text, its tags, and which tag each parsed element was written as."""

    def __init__(self, doc: Document, order: dict[etree._Element, int]) -> None:
        data = doc.data
        self.bom = b"\xef\xbb\xbf" if data.startswith(b"\xef\xbb\xbf") else b""
        encoding = (doc.tree.docinfo.encoding or "UTF-8").upper().replace("_", "-")
        if encoding not in ("UTF-8", "UTF8", "US-ASCII", "ASCII") or data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise ScanError(f"only UTF-8 files are mended (this one is {encoding})")
        self.text = data[len(self.bom):].decode("utf-8")
        self.tags = scan(self.text)
        self.order = order
        # The elements as written (normalisation changed doc's tree): remedies read and edit these.
        self.elements = list(parse_bytes(data, doc.path).root.iter(etree.Element))
        self.index = {el: i for i, el in enumerate(self.elements)}
        if len(self.tags) != len(self.elements):
            raise ScanError(f"{len(self.tags)} start tags found for {len(self.elements)} elements")
        self.newline = "\r\n" if "\r\n" in self.text else "\n"

    def written(self, el: etree._Element) -> etree._Element | None:
        """The element as written that the normalised el was, or None for one normalisation made (or copied)."""
        i = self.order.get(el)
        return self.elements[i] if i is not None else None

    def tag(self, el: etree._Element) -> tuple[int, Tag] | None:
        """The index and start tag of an element as written, or None."""
        i = self.index.get(el)
        if i is None:
            return None
        tag = self.tags[i]
        line = el.sourceline or 0
        # lxml gives the line on which the start tag ends; a tag may span lines.
        if not (tag.first_line <= line <= tag.last_line) or tag.name.split(":")[-1] != etree.QName(el).localname:
            return None
        return i, tag

    def parent(self, tag: Tag) -> Tag | None:
        """The tag that holds tag, or None for the root."""
        for t in self.tags:
            if tag in t.children:
                return t
        return None

    def unit(self, tag: Tag) -> str:
        """One step of indentation, as the file indents tag under its parent (two spaces when it cannot tell)."""
        own = indent_before(self.text, tag.start)
        parent = self.parent(tag)
        up = indent_before(self.text, parent.start) if parent is not None else None
        if own is not None and up is not None and own.startswith(up) and len(own) > len(up):
            return own[len(up):]
        return "  "

    def byte_offset(self, pos: int) -> int:
        """The byte offset of character pos in the file."""
        return len(self.bom) + len(self.text[:pos].encode("utf-8"))

    def line_col(self, pos: int) -> tuple[int, int]:
        """The 1-based line and column (in code points) of character pos."""
        return self.text.count("\n", 0, pos) + 1, pos - line_start(self.text, pos) + 1


def _edits(src: Source, el: etree._Element, remedy: dict[str, Any]) -> list[Edit] | None:
    """The text edits of one remedy on el, or None when it does not apply to the text as written."""
    out: list[Edit] = []
    for edit in remedy["edits"]:
        targets = [el] if "at" not in edit else compile_xpath(edit["at"])(el)
        targets = [t for t in targets if isinstance(t, etree._Element)] if isinstance(targets, list) else []
        if len(targets) != 1:
            return None
        found = src.tag(targets[0])
        if found is None:
            return None
        tag = found[1]
        if "set" in edit:
            out.extend(_set(src, tag, {str(k): str(v) for k, v in edit["set"].items()}))
        elif "remove" in edit:
            out.extend(Edit(a.start, a.end, "") for a in tag.attrs if a.name in edit["remove"])
        elif "add-child" in edit:
            out.append(_add_child(src, tag, edit["add-child"].strip()))
        elif "remove-child" in edit:
            doomed = compile_xpath(edit["remove-child"])(targets[0])
            for child in doomed if isinstance(doomed, list) else []:
                hit = src.tag(child) if isinstance(child, etree._Element) else None
                if hit is None:
                    continue
                out.append(_remove(src, hit[1]))
        elif "rename" in edit:
            new = str(edit["rename"])
            if tag.name != new:
                out.append(Edit(tag.start + 1, tag.name_end, new))
                if not tag.empty:
                    out.append(Edit(tag.close_start + 2, tag.close_start + 2 + len(tag.name), new))
    return out


def _set(src: Source, tag: Tag, values: dict[str, str]) -> list[Edit]:
    out = []
    quote = tag.attrs[0].quote if tag.attrs else "'"
    for name, value in values.items():
        attr = tag.attr(name)
        if attr is not None:
            written = escape(value, attr.quote)
            if src.text[attr.value_start:attr.value_end] != written:
                out.append(Edit(attr.value_start, attr.value_end, written))
            continue
        # A new attribute goes after the last one, laid out as that one is (on its own line, or after a space).
        lead = " "
        if tag.attrs:
            last = tag.attrs[-1]
            if "\n" in src.text[last.start:last.name_start]:
                lead = src.text[last.start:last.name_start]
        out.append(Edit(tag.attrs_end, tag.attrs_end, f"{lead}{name}={quote}{escape(value, quote)}{quote}"))
    return out


def _add_child(src: Source, tag: Tag, xml: str) -> Edit:
    text, nl = src.text, src.newline
    own = indent_before(text, tag.start)
    if tag.empty:
        if own is None:
            return Edit(tag.attrs_end, tag.end, f">{xml}</{tag.name}>")
        inner = own + (src.unit(tag.children[0]) if tag.children else src.unit(tag) if src.parent(tag) else "  ")
        return Edit(tag.attrs_end, tag.end, f">{nl}{inner}{xml}{nl}{own}</{tag.name}>")
    close_own_line = indent_before(text, tag.close_start) is not None
    if tag.children:
        last = tag.children[-1]
        child = indent_before(text, last.start)
        if child is not None and close_own_line:
            return Edit(line_start(text, tag.close_start), line_start(text, tag.close_start), f"{child}{xml}{nl}")
        if child is not None:
            return Edit(last.close_end, last.close_end, f"{nl}{child}{xml}")
        return Edit(tag.close_start, tag.close_start, xml)
    if close_own_line and own is not None:
        at = line_start(text, tag.close_start)
        return Edit(at, at, f"{own}{src.unit(tag)}{xml}{nl}")
    return Edit(tag.close_start, tag.close_start, xml)


def _remove(src: Source, tag: Tag) -> Edit:
    """Remove an element; its whole line when it stands alone on it."""
    text = src.text
    start, end = tag.start, tag.close_end
    eol = text.find("\n", end)
    rest = text[end:eol if eol >= 0 else len(text)]
    if indent_before(text, start) is not None and not rest.strip():
        return Edit(line_start(text, start), eol + 1 if eol >= 0 else len(text), "")
    return Edit(start, end, "")


def apply(text: str, edits: list[Edit]) -> str:
    """text with the edits made (edits must not overlap; insertions at one point keep their order)."""
    if not _disjoint(edits):
        raise ValueError("overlapping edits")
    ordered = sorted(enumerate(edits), key=lambda ie: (ie[1].start, ie[1].end, ie[0]))
    for _, e in reversed(ordered):
        text = text[:e.start] + e.text + text[e.end:]
    return text


def _disjoint(edits: list[Edit]) -> bool:
    """Whether edits touch separate stretches of text (insertions at one point excepted)."""
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    return all(b.start >= a.end for a, b in itertools.pairwise(ordered))


def _overlaps(a: list[Edit], b: list[Edit]) -> bool:
    """Whether two remedies touch the same text (an insertion touches the point it is made at)."""
    return any(x.start <= y.end and y.start <= x.end for x in a for y in b)


def check_data(checker: Checker, path: str, data: bytes) -> Checked:
    """Check data as the file path holds it (Checker.check_file on bytes), with each element's source order."""
    settings = checker.settings_for(path)
    doc = parse_bytes(data, path)
    order: dict[etree._Element, int] = {}
    skipped = foreign_hypervisor(doc, settings.target)
    if skipped is not None:
        checker.checked.append(CheckedFile(doc.path, (), note=skipped, target=settings.target.label))
        return doc, [], order, frozenset()
    # Numbered before normalisation adds, moves or copies elements.
    order = {el: i for i, el in enumerate(doc.root.iter(etree.Element))}
    read = checker.suppressions(doc, settings)
    caps = settings.caps_for(guest_arch(doc, settings.host))
    normalise(doc, settings.host, settings.target, caps)
    return doc, checker.check_document(doc, settings, read, caps), order, frozenset(caps)


@dataclass
class Plan:
    """The remedies one check's findings offer."""

    mends: list[Mend] = field(default_factory=list)
    # Remedies held back for --unsafe-fixes, and remedies that would change nothing.
    unsafe_left: int = 0
    idle: int = 0
    src: Source | None = None


def mends(rules: dict[str, Rule], checked: Checked, unsafe: bool) -> Plan:
    """The remedies of a check's findings that apply to the text as written, how many more need unsafe, and the source."""
    doc, findings, order, caps = checked
    wanted = [f for f in findings if f.rule_id in rules and rules[f.rule_id].body.get("fix")]
    if not wanted:
        return Plan()
    src = Source(doc, order)
    plan = Plan(src=src)
    seen: set[tuple[str, int]] = set()
    for f in wanted:
        found = doc.tree.xpath(f.xpath)
        el = found[0] if isinstance(found, list) and found and isinstance(found[0], etree._Element) else None
        # A remedy reads and edits the element as written, not as normalisation filled it in.
        el = src.written(el) if el is not None else None
        hit = src.tag(el) if el is not None else None
        if el is None or hit is None or (f.rule_id, hit[0]) in seen:
            continue
        seen.add((f.rule_id, hit[0]))
        for remedy in alternatives(rules[f.rule_id].body["fix"]):
            if "when" in remedy and not compile_xpath(f"boolean({remedy['when']})")(el):
                continue
            need = remedy.get("caps", {})
            if not set(need.get("present", ())) <= caps or set(need.get("absent", ())) & caps:
                continue
            edits = _edits(src, el, remedy)
            if not edits or not _disjoint(edits):
                # Nothing to change in the text as written, or edits of one remedy that collide.
                plan.idle += 1
                break
            if not remedy["safe"] and not unsafe:
                plan.unsafe_left += 1
                break
            plan.mends.append(Mend(f, describe(remedy), bool(remedy["safe"]), hit[0], edits))
            break
    return plan


def mend(check: Callable[[bytes], Checked], rules: dict[str, Rule], path: str, data: bytes,
         unsafe: bool = False) -> Outcome:
    """Apply the remedies of the findings check gives, pass by pass; the Outcome's findings are the mended text's."""
    outcome = Outcome(path, data, data)
    seen_texts = {data}
    done: set[tuple[str, str]] = set()
    for _ in range(MAX_PASSES):
        checked = check(outcome.fixed)
        outcome.findings = checked[1]
        try:
            plan = mends(rules, checked, unsafe)
        except ScanError as exc:
            outcome.problem = str(exc)
            return outcome
        outcome.unsafe_left, outcome.idle, src = plan.unsafe_left, plan.idle, plan.src
        chosen: list[Mend] = []
        elements: set[int] = set()
        for m in plan.mends:
            key = (m.finding.rule_id, m.finding.xpath)
            # One remedy per element and per stretch of text in a pass; the next pass sees the result.
            if key in done or m.element in elements or any(_overlaps(m.edits, c.edits) for c in chosen):
                continue
            chosen.append(m)
            elements.add(m.element)
        if not chosen or src is None:
            return outcome
        new = src.bom + apply(src.text, [e for m in chosen for e in m.edits]).encode("utf-8")
        try:
            parse_bytes(new, path)
        except DomlintError as exc:
            outcome.problem = f"a fix would leave the file unreadable ({exc.message}); not applied"
            return outcome
        if new in seen_texts:
            outcome.problem = "fixes undo each other; stopped"
            return outcome
        seen_texts.add(new)
        done.update((m.finding.rule_id, m.finding.xpath) for m in chosen)
        outcome.applied.extend(chosen)
        outcome.fixed = new
    outcome.problem = f"still finding fixes after {MAX_PASSES} passes; stopped"
    return outcome


def mend_file(checker: Checker, path: str, data: bytes, unsafe: bool = False) -> Outcome:
    """mend() for one file of a run: checked as Checker.check_file would, recorded once as checked."""
    keep = len(checker.checked)

    def check(text: bytes) -> Checked:
        # Only the last pass's check counts as the file's check.
        del checker.checked[keep:]
        return check_data(checker, path, text)

    return mend(check, checker.settings_for(path).engine.by_id, path, data, unsafe)


def example_check(engine: Engine, example: Any, name: str, select: set[str] | None = None) -> Callable[[bytes], Checked]:
    """A check of a rule example's text, as `domlint rules test` runs it (its caps and host)."""
    from .selftest import example_caps, example_host_for

    caps = example_caps(example, engine.target)
    host = example_host_for(example)

    def check(data: bytes) -> Checked:
        doc = parse_bytes(data, name)
        order = {el: i for i, el in enumerate(doc.root.iter(etree.Element))}
        normalise(doc, host, engine.target, caps)
        return doc, engine.evaluate(doc, caps, select=select, host=host), order, frozenset(caps)

    return check


def unified_diff(outcome: Outcome) -> str:
    """The change to one file as a unified diff (a/ and b/ prefixes, as git apply and patch -p1 take)."""
    import difflib

    name = Path(outcome.path).as_posix().lstrip("/")
    before = outcome.original.decode("utf-8", errors="replace").splitlines(keepends=True)
    after = outcome.fixed.decode("utf-8", errors="replace").splitlines(keepends=True)
    lines = list(difflib.unified_diff(before, after, f"a/{name}", f"b/{name}"))
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def sarif_fixes(checker: Checker, path: str, unsafe: bool) -> dict[tuple[str, str], dict[str, Any]]:
    """SARIF `fix` objects for the findings of one file that have a remedy, by (rule id, xpath)."""
    keep = len(checker.checked)
    try:
        data = Path(path).read_bytes()
        plan = mends(checker.settings_for(path).engine.by_id, check_data(checker, path, data), unsafe)
    except (OSError, DomlintError, ScanError):
        return {}
    finally:
        del checker.checked[keep:]
    out: dict[tuple[str, str], dict[str, Any]] = {}
    src = plan.src
    for m in plan.mends:
        assert src is not None
        replacements = []
        for e in sorted(m.edits, key=lambda e: e.start):
            (sl, sc), (el, ec) = src.line_col(e.start), src.line_col(e.end)
            start = src.byte_offset(e.start)
            replacements.append({
                "deletedRegion": {"startLine": sl, "startColumn": sc, "endLine": el, "endColumn": ec,
                                  "byteOffset": start, "byteLength": src.byte_offset(e.end) - start},
                "insertedContent": {"text": e.text},
            })
        out[(m.finding.rule_id, m.finding.xpath)] = {
            "description": {"text": m.title + ("" if m.safe else " (unsafe: needs --unsafe-fixes)")},
            "replacements": replacements,
        }
    return out


def example_result(engine: Engine, rule: Rule, index: int) -> tuple[bool, str]:
    """Whether rule's fix mends its invalid example index: the rule falls silent and no rule fires more often.

    The example is mended with this rule's remedies alone, unsafe ones too. An
    example for which no remedy's when and caps hold passes with "" as the detail
    (the fix is not offered there); a remedy that would change nothing fails.
    """
    from collections import Counter

    from .examples import example_document
    from .selftest import example_xml

    example = rule.body["examples"]["invalid"][index]
    name = f"{rule.id}/invalid[{index}]"
    try:
        data = example_document(example_xml(example), name).data
        check_all = example_check(engine, example, name)
        before = Counter(f.rule_id for f in check_all(data)[1])
        outcome = mend(example_check(engine, example, name, select={rule.id}), {rule.id: rule}, name, data,
                       unsafe=True)
    except (DomlintError, ValueError) as exc:
        return False, f"example does not parse: {exc}"
    if outcome.problem:
        return False, outcome.problem
    if not before[rule.id]:
        return False, "the example does not fire its rule"
    if outcome.idle:
        return False, "the fix changes nothing in the example as written"
    if not outcome.applied:
        # No remedy's when or caps holds here: the fix is not offered for this example.
        return True, ""
    after = Counter(f.rule_id for f in check_all(outcome.fixed)[1])
    if after[rule.id]:
        return False, f"the rule still fires after the fix ({', '.join(m.title for m in outcome.applied)})"
    new = sorted(r for r, n in after.items() if n > before[r])
    if new:
        return False, f"the fix makes new findings: {', '.join(new)}"
    return True, ", ".join(m.title for m in outcome.applied)
