"""The engine skips a select only when it could not have selected anything."""

from __future__ import annotations

import json

import pytest
from conftest import CONFORMANCE
from lxml import etree

from domlint import caps as capsmod
from domlint.domain import normalise
from domlint.engine import load_engine
from domlint.errors import DomlintError
from domlint.examples import example_document
from domlint.parse import parse_bytes
from domlint.predicates import NAMESPACES, compile_xpath, forget
from domlint.selectors import document_facts, may_match, needs_of
from domlint.selftest import example_host, example_xml

ENGINE = load_engine(target="1.2.8")
QEMU = NAMESPACES["qemu"]
DL = NAMESPACES["dl"]


@pytest.mark.parametrize(("expr", "every"), [
    ("/domain/devices/disk[@device='lun']", [{"domain", "devices", "disk", "@device", ("device", "lun")}]),
    ("/domain/devices/*[self::disk or self::hostdev]/address[@type='pci']",
     [{"domain", "devices", "address", "@type", ("type", "pci")}]),
    ("//disk/target/@dev", [{"disk", "target", "@dev"}]),
    ("/domain/devices/disk[x='a|b'] | /domain/cpu", [{"domain", "devices", "disk", "x"}, {"domain", "cpu"}]),
    ("/domain/qemu:commandline/qemu:arg", [{"domain", f"{{{QEMU}}}commandline", f"{{{QEMU}}}arg"}]),
    # Attributes of a known namespace too, as normalisation's dl: markers are read.
    ("/domain[@dl:os-type='implied']", [{"domain", f"@{{{DL}}}os-type", (f"{{{DL}}}os-type", "implied")}]),
    ("/domain/devices/disk/ancestor::domain/following-sibling::x", [{"domain", "devices", "disk", "x"}]),
    ("/domain/devices/disk/..", [{"domain", "devices", "disk"}]),
    # Nested predicates and comparisons with literals need what they read.
    ("/domain/devices/disk[driver[last()]/@iothread > 0][target/@bus!='virtio']",
     [{"domain", "devices", "disk", "driver", "@iothread", "target", "@bus"}]),
    # What a match need not have claims nothing: negations, computed values, numbers, and comparisons an
    # empty path can pass (count below, string() equal to '', unequal to a number).
    ("/domain/devices/disk[not(serial)][count(x) < 2][@a = dl:f()][string(@b)=''][1][@c + 1 = 2]"
     "[string(@d) != 5][count(y) != '0e0'][number(@e) != 1]",
     [{"domain", "devices", "disk"}]),
    # count(), number(), string() and normalize-space() of a path, compared with a literal so that an empty
    # path is false, need what the path needs.
    ("/domain/devices/disk[count(x) > 1][string(@b)='x'][number(driver/@iothread) > 0][2 < count(y)]"
     "[normalize-space(serial) != ''][string(@f) = 5][count(z) != 0]",
     [{"domain", "devices", "disk", "x", "@b", "driver", "@iothread", "y", "serial", "@f", "z"}]),
    # A parenthesised union of paths needs what all its branches need, and its predicates' and later steps' needs.
    ("/domain/devices/disk[(encryption | source/encryption)[@format='luks']/cipher[@name]]",
     [{"domain", "devices", "disk", "encryption", "@format", ("format", "luks"), "cipher", "@name"}]),
])
def test_facts_every_match_needs(expr: str, every: list[set[object]]) -> None:
    needs = needs_of(expr)
    assert needs is not None
    assert [set(n) for n, _ in needs] == every


@pytest.mark.parametrize(("expr", "clauses"), [
    ("/domain/devices/disk[target/@bus='ide' or target/@bus=\"fdc\"]", [{("bus", "ide"), ("bus", "fdc")}]),
    ("/domain/devices/disk[(@a='1' or ../x/@b='2') and serial]", [{("a", "1"), ("b", "2")}]),
    ("/domain/devices/disk[vendor or product]", [{"vendor", "product"}]),
    ("/domain/devices/controller[driver[@queues or @cmd_per_lun]]", [{"@queues", "@cmd_per_lun"}]),
    # An or-branch that promises nothing makes the whole or promise nothing.
    ("/domain/devices/controller[@model='none' or not(@x)]", []),
    # A union's branches with no fact in common need one fact of each.
    ("(/domain/a | /domain/b/c)[1]", [{"a", "b"}]),
])
def test_clauses_a_match_needs_one_fact_of(expr: str, clauses: list[set[object]]) -> None:
    ((_, found),) = needs_of(expr) or ()
    assert [set(c) for c in found] == clauses


@pytest.mark.parametrize("expr", ["(/domain/devices/disk)[1]", "dl:controller('scsi', 0)",
                                  "/domain/devices/disk[1", "/domain/unknown:thing", "'disk'"])
def test_a_select_it_cannot_follow_needs_nothing(expr: str) -> None:
    assert needs_of(expr) is None
    assert may_match(None, set())


def test_document_facts() -> None:
    root = etree.fromstring("<domain type='kvm'><!-- c --><devices><disk device='lun'/></devices></domain>")
    assert document_facts(root) - {etree.Comment} == {
        "domain", "devices", "disk", "@type", ("type", "kvm"), "@device", ("device", "lun")}


def _documents() -> list[tuple[str, etree._ElementTree]]:
    """Every normalised corpus domain and every rule example: the shapes rules meet."""
    host = example_host()
    docs = []
    manifest = json.loads((CONFORMANCE / "manifest.json").read_text())
    for xml in sorted({c["xml"] for c in manifest["cases"]}):
        doc = parse_bytes((CONFORMANCE / xml).read_bytes(), xml)
        docs.append((xml, normalise(doc, host).tree))
    for rule in ENGINE.rules:
        for kind in ("invalid", "valid"):
            for i, ex in enumerate(rule.body["examples"][kind]):
                doc = example_document(example_xml(ex), f"{rule.id}/{kind}[{i}]")
                try:
                    docs.append((doc.path, normalise(doc, host).tree))
                except DomlintError:  # examples the parser refuses select nothing anyway
                    continue
    return docs


@pytest.mark.corpus
def test_every_skipped_select_would_have_selected_nothing() -> None:
    # Soundness of the index over every document shape at hand: for each
    # (document, select) the index skips, the select really is empty there.
    checked = skipped = 0
    selects = {expr: (needs_of(expr), compile_xpath(expr)) for expr in {r.select for r in ENGINE.rules}}
    for name, tree in _documents():
        facts = document_facts(tree.getroot())
        for expr, (needs, xp) in selects.items():
            if may_match(needs, facts):
                continue
            skipped += 1
            assert xp(tree) == [], f"{name}: the index skipped {expr!r}, which selects something"
        checked += 1
    assert checked > 1000 and skipped > checked * 50


@pytest.mark.corpus
def test_findings_equal_those_of_evaluating_every_select(monkeypatch: pytest.MonkeyPatch) -> None:
    host = example_host()
    oldest = capsmod.from_profile(next(iter(capsmod.profiles())))
    docs = [(f, parse_bytes((CONFORMANCE / f).read_bytes(), f)) for f in
            sorted({c["xml"] for c in json.loads((CONFORMANCE / "manifest.json").read_text())["cases"]})]
    indexed = [[f.as_dict() for f in ENGINE.evaluate(normalise(d, host), oldest, host=host)] for _, d in docs]
    blind = load_engine(target="1.2.8")
    monkeypatch.setattr(blind, "_needs", dict.fromkeys(blind._needs))  # every select: "needs nothing"
    monkeypatch.setattr(blind, "_index", None)  # and the index of the pack read from the cache is made from that
    assert blind._plan(oldest, None, None).always  # the blind engine really evaluates everything
    for (name, doc), want in zip(docs, indexed, strict=True):
        assert [f.as_dict() for f in blind.evaluate(doc, oldest, host=host)] == want, name
    assert sum(map(len, indexed)) > 100  # the oldest QEMU lacks much: plenty of findings compared


def test_dl_controller_finds_controllers_by_type_and_decimal_index() -> None:
    tree = etree.ElementTree(etree.fromstring(
        "<domain><devices><controller type='scsi' index='0' model='lsilogic'/>"
        "<controller type='scsi' index='2' model='virtio-scsi'/><controller type='usb' index='2'/>"
        "<disk><address type='drive' controller='02'/></disk><disk><address controller='x'/></disk>"
        "</devices></domain>"))
    forget()
    find = compile_xpath("dl:controller('scsi', address/@controller)/@model")
    first, second = tree.getroot().iterfind("devices/disk")
    assert find(first) == ["virtio-scsi"]
    assert find(second) == []
    assert compile_xpath("dl:controller('scsi', 0)/@model")(tree) == ["lsilogic"]
    # A changed document is read afresh once the engine forgets the last one.
    tree.getroot().find("devices/controller").set("model", "buslogic")
    tree.getroot().find("devices").remove(tree.getroot().find("devices/controller[@index='2']"))
    forget()
    assert find(first) == []
    assert compile_xpath("dl:controller('scsi', 0)/@model")(tree) == ["buslogic"]
