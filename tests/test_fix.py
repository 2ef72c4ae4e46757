"""`check --fix` and `--diff`: only the edited lines change, nothing loops, and the reports say what remains."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import REPO

from domlint.cli import main
from domlint.parse import parse_bytes
from domlint.sourcetext import scan

pytestmark = pytest.mark.libvirt("9.0")

BAD = REPO / "examples" / "guest-bad.xml"
GOOD = REPO / "examples" / "guest-good.xml"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def changed_lines(before: bytes, after: bytes) -> list[tuple[str, str]]:
    a, b = before.decode().splitlines(), after.decode().splitlines()
    assert len(a) == len(b), "the line count changed"
    return [(x, y) for x, y in zip(a, b, strict=True) if x != y]


def test_fix_mends_io_native_in_the_bad_example_and_nothing_else(tmp_path: Path, capsys) -> None:
    guest = tmp_path / "guest.xml"
    shutil.copy(BAD, guest)
    code, out, err = run(capsys, "check", "--fix", str(guest))
    after = guest.read_bytes()
    assert changed_lines(BAD.read_bytes(), after) == [
        ("      <driver name='qemu' type='qcow2' cache='writeback' io='native'/>",
         "      <driver name='qemu' type='qcow2' cache='none' io='native'/>")]
    parse_bytes(after, str(guest))
    # What remains is reported as a check reports it, and still fails the run.
    assert code == 1
    assert "disk-io-native-cache" not in out and "[disk-readonly-ide-sata]" in out and "[disk-lun-source-type]" in out
    assert "fixed 1 finding(s) in 1 file(s)" in err


def test_fix_under_1_2_8_mends_the_same_line(tmp_path: Path, capsys) -> None:
    guest = tmp_path / "guest.xml"
    shutil.copy(BAD, guest)
    run(capsys, "check", "--libvirt", "1.2.8", "--fix", str(guest))
    assert [b for _, b in changed_lines(BAD.read_bytes(), guest.read_bytes())] == [
        "      <driver name='qemu' type='qcow2' cache='none' io='native'/>"]


def test_a_file_with_nothing_to_fix_is_not_written(tmp_path: Path, capsys) -> None:
    guest = tmp_path / "guest.xml"
    shutil.copy(GOOD, guest)
    os.utime(guest, ns=(1_000_000_000, 1_000_000_000))
    code, _, err = run(capsys, "check", "--fix", str(guest))
    assert code == 0 and guest.read_bytes() == GOOD.read_bytes()
    assert guest.stat().st_mtime_ns == 1_000_000_000
    assert "fixed 0 finding(s) in 0 file(s)" in err


def test_diff_shows_the_fix_changes_nothing_and_applies_with_git(tmp_path: Path, capsys) -> None:
    shutil.copy(BAD, tmp_path / "guest.xml")
    os.chdir(tmp_path)
    code, out, err = run(capsys, "check", "--diff", "guest.xml")
    assert (tmp_path / "guest.xml").read_bytes() == BAD.read_bytes()
    assert out.startswith("--- a/guest.xml\n+++ b/guest.xml\n@@ ")
    assert "-      <driver name='qemu' type='qcow2' cache='writeback' io='native'/>\n" in out
    assert "+      <driver name='qemu' type='qcow2' cache='none' io='native'/>\n" in out
    # The report of what would remain goes to standard error, so standard output is a clean patch.
    assert "[disk-readonly-ide-sata]" in err and "would fix 1 finding(s)" in err
    assert code == 1
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "apply"], input=out, text=True, cwd=tmp_path, check=True)
    shutil.copy(BAD, tmp_path / "fixed.xml")
    run(capsys, "check", "--fix", "fixed.xml")
    assert (tmp_path / "guest.xml").read_bytes() == (tmp_path / "fixed.xml").read_bytes()


STYLED = (
    '<?xml version="1.0"?>\r\n'
    "<!-- a comment with a tag in it: <driver cache='writeback' io='native'/> -->\r\n"
    '<domain type="kvm">\r\n'
    "\t<name>styled</name>\r\n"
    '\t<memory unit="MiB">512</memory>\r\n'
    "\t<os><type arch='x86_64' machine='pc'>hvm</type></os>\r\n"
    "\t<devices>\r\n"
    "\t\t<disk type='file' device='disk'><!-- keep me -->\r\n"
    "\t\t\t<driver\r\n"
    '\t\t\t\tname="qemu"   type="raw"\r\n'
    '\t\t\t\tio="native" cache="writeback" />\r\n'
    "\t\t\t<source file='/a.img'/><target dev='vda' bus='virtio'/>\r\n"
    "\t\t</disk>\r\n"
    "\t</devices>\r\n"
    "</domain>\r\n"
)


def test_quoting_layout_comments_and_line_ends_stay_as_written(tmp_path: Path, capsys) -> None:
    guest = tmp_path / "styled.xml"
    guest.write_bytes(STYLED.encode())
    run(capsys, "check", "--fix", str(guest))
    assert guest.read_bytes() == STYLED.replace('cache="writeback"', 'cache="none"').encode()


def test_a_byte_order_mark_stays(tmp_path: Path, capsys) -> None:
    guest = tmp_path / "bom.xml"
    guest.write_bytes(b"\xef\xbb\xbf" + BAD.read_bytes())
    run(capsys, "check", "--fix", str(guest))
    assert guest.read_bytes() == b"\xef\xbb\xbf" + BAD.read_bytes().replace(b"cache='writeback'", b"cache='none'")


def test_an_attribute_added_is_laid_out_as_the_ones_before_it(tmp_path: Path, capsys) -> None:
    # 9.0 refuses io='native' with no cache mode at all: the fix adds cache after the last attribute.
    text = STYLED.replace(' cache="writeback"', "")
    guest = tmp_path / "styled.xml"
    guest.write_bytes(text.encode())
    run(capsys, "check", "--fix", str(guest))
    # The last attribute stands on its own line, so the new one does too.
    assert guest.read_bytes() == text.replace('io="native"', 'io="native"\r\n\t\t\t\tcache="none"').encode()


def test_a_child_is_added_on_its_own_line_and_unsafe_fixes_wait_for_the_switch(tmp_path: Path, capsys) -> None:
    text = ("<domain type='qemu'>\n  <name>h</name>\n  <memory>524288</memory>\n"
            "  <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n  </os>\n  <devices>\n"
            "    <hostdev mode='subsystem' type='pci' managed='yes'>\n"
            "      <source>\n        <address domain='0x0000' bus='0x06' slot='0x12' function='0x5'/>\n"
            "      </source>\n    </hostdev>\n  </devices>\n</domain>\n")
    guest = tmp_path / "h.xml"
    guest.write_text(text)
    # A host whose profile cannot say which PCI backend libvirt would pick.
    host = tmp_path / "host.yaml"
    host.write_text((REPO / "domlint" / "data" / "host-default.yaml").read_text() + "\npci_backend:\n")
    opts = ["check", "--libvirt", "1.2.8", "--caps", "device,vfio-pci,drive", "--host", str(host)]
    code, out, err = run(capsys, *opts, "--fix", str(guest))
    assert code == 1 and guest.read_text() == text and "[hostdev-pci-no-backend]" in out
    assert "fixed 0 finding(s) in 0 file(s), 1 more with --unsafe-fixes" in err
    _code, out, err = run(capsys, *opts, "--fix", "--unsafe-fixes", str(guest))
    assert guest.read_text() == text.replace("      </source>\n", "      </source>\n      <driver name='vfio'/>\n")
    assert "[hostdev-pci-no-backend]" not in out


def test_a_self_closing_element_is_opened_to_take_a_child(tmp_path: Path, capsys) -> None:
    text = ("<domain type='kvm'>\n  <name>h</name>\n  <memory>524288</memory>\n"
            "  <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n  </os>\n  <devices>\n"
            "    <interface type='vhostuser'>\n      <mac address='52:54:00:3b:83:1a'/>\n"
            "      <source type='unix' path='/tmp/vhost.sock' mode='server'/>\n    </interface>\n"
            "  </devices>\n</domain>\n")
    guest = tmp_path / "v.xml"
    guest.write_text(text)
    run(capsys, "check", "--libvirt", "1.2.8", "--fix", str(guest))
    assert guest.read_text() == text.replace(
        "mode='server'/>\n    </interface>", "mode='server'/>\n      <model type='virtio'/>\n    </interface>")


def test_a_removed_child_takes_its_line_with_it(tmp_path: Path, capsys) -> None:
    text = ("<domain type='kvm'>\n  <name>r</name>\n  <memory>524288</memory>\n"
            "  <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n  </os>\n  <devices>\n"
            "    <controller type='pci' index='0' model='pci-root'>\n"
            "      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0'/>\n"
            "    </controller>\n  </devices>\n</domain>\n")
    guest = tmp_path / "r.xml"
    guest.write_text(text)
    run(capsys, "check", "--fix", str(guest))
    assert guest.read_text() == text.replace(
        "      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0'/>\n", "")


RULES = """\
rules:
  - id: clock-demo-track
    summary: demo
    severity: error
    stage: parse
    select: /domain/clock/timer[@name='rtc'][@track='boot']
    message: m
    hint: h
    fix: {safe: true, edits: [{set: {track: guest}}]}
    examples:
      invalid: ["<clock offset='utc'><timer name='rtc' track='boot'/></clock>"]
      valid: ["<clock offset='utc'><timer name='rtc' track='guest'/></clock>"]
  - id: clock-demo-tick
    summary: demo
    severity: error
    stage: parse
    select: /domain/clock/timer[@name='rtc'][@tickpolicy='merge']
    message: m
    hint: h
    fix: {safe: true, edits: [{set: {tickpolicy: catchup}}]}
    examples:
      invalid: ["<clock offset='utc'><timer name='rtc' tickpolicy='merge'/></clock>"]
      valid: ["<clock offset='utc'><timer name='rtc' tickpolicy='catchup'/></clock>"]
  - id: clock-demo-flip
    summary: demo
    severity: error
    stage: parse
    select: /domain/clock[@adjustment='1']
    message: m
    hint: h
    fix: {safe: true, edits: [{set: {adjustment: "2"}}]}
    examples:
      invalid: ["<clock offset='variable' adjustment='1'/>"]
      valid: ["<clock offset='variable' adjustment='3'/>"]
  - id: clock-demo-flop
    summary: demo
    severity: error
    stage: parse
    select: /domain/clock[@adjustment='2']
    message: m
    hint: h
    fix: {safe: true, edits: [{set: {adjustment: "1"}}]}
    examples:
      invalid: ["<clock offset='variable' adjustment='2'/>"]
      valid: ["<clock offset='variable' adjustment='3'/>"]
"""


def _demo(tmp_path: Path, clock: str) -> tuple[Path, Path]:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "demo.yaml").write_text(RULES)
    guest = tmp_path / "c.xml"
    guest.write_text(f"<domain type='kvm'>\n  <name>c</name>\n  <memory>524288</memory>\n  {clock}\n"
                     "  <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n  </os>\n</domain>\n")
    return rules, guest


def test_fixes_on_one_element_are_applied_one_at_a_time(tmp_path: Path, capsys) -> None:
    rules, guest = _demo(tmp_path, "<clock offset='utc'><timer name='rtc' track='boot' tickpolicy='merge'/></clock>")
    code, _out, err = run(capsys, "check", "--rules", str(rules), "--select", "clock-demo", "--fix", str(guest))
    assert "<timer name='rtc' track='guest' tickpolicy='catchup'/>" in guest.read_text()
    assert code == 0 and "fixed 2 finding(s) in 1 file(s)" in err


def test_fixes_that_undo_each_other_stop(tmp_path: Path, capsys) -> None:
    rules, guest = _demo(tmp_path, "<clock offset='variable' adjustment='1'/>")
    code, out, err = run(capsys, "check", "--rules", str(rules), "--select", "clock-demo", "--fix", str(guest))
    assert "fixes undo each other" in err
    assert "adjustment='2'" in guest.read_text() and "[clock-demo-flop]" in out and code == 1


def test_a_fix_the_schema_refuses_is_named_with_its_rule_and_line(tmp_path: Path, capsys) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "demo.yaml").write_text(RULES.replace("edits: [{set: {track: guest}}]", "edits: [{paint: red}]"))
    code, _, err = run(capsys, "check", "--rules", str(rules), str(GOOD))
    assert code == 2 and "demo.yaml:9: rule clock-demo-track, field fix" in err
    (rules / "demo.yaml").write_text(RULES.replace("edits: [{set: {track: guest}}]", "edits: [{add-child: '<a>'}]"))
    code, _, err = run(capsys, "check", "--rules", str(rules), str(GOOD))
    assert code == 2 and "add-child is not one XML element" in err


def test_a_file_in_another_encoding_is_left_alone(tmp_path: Path, capsys) -> None:
    guest = tmp_path / "u16.xml"
    data = BAD.read_text().encode("utf-16")
    guest.write_bytes(data)
    code, _out, err = run(capsys, "check", "--fix", str(guest))
    assert guest.read_bytes() == data and "only UTF-8 files are mended" in err and code == 1


@pytest.mark.corpus
def test_sarif_results_carry_the_fix_as_byte_and_line_regions(capsys) -> None:
    import jsonschema
    from conftest import CONFORMANCE

    _code, out, _ = run(capsys, "check", "--format", "sarif", str(BAD))
    schema = json.loads((CONFORMANCE.parent.parent / "schemas" / "sarif-schema-2.1.0.json").read_text())
    errors = list(jsonschema.Draft4Validator(schema).iter_errors(json.loads(out)))
    assert not errors, errors[0]
    results = json.loads(out)["runs"][0]["results"]
    fixed = [r for r in results if r.get("fixes")]
    assert [r["ruleId"] for r in fixed] == ["disk-io-native-cache-v9"]
    assert all("fixes" not in r for r in results if r not in fixed)
    (fix,) = fixed[0]["fixes"]
    assert fix["description"]["text"] == "set cache='none' on <driver>"
    (change,) = fix["artifactChanges"]
    assert change["artifactLocation"] == fixed[0]["locations"][0]["physicalLocation"]["artifactLocation"]
    (rep,) = change["replacements"]
    region, data = rep["deletedRegion"], BAD.read_bytes()
    assert data[region["byteOffset"]:region["byteOffset"] + region["byteLength"]] == b"writeback"
    line = data.decode().splitlines()[region["startLine"] - 1]
    assert line[region["startColumn"] - 1:region["endColumn"] - 1] == "writeback"
    assert rep["insertedContent"] == {"text": "none"}


def test_rules_show_says_whether_a_rule_can_fix(capsys) -> None:
    _, out, _ = run(capsys, "rules", "show", "disk-io-native-cache-v9")
    assert "# fix: check --fix can mend it: set cache='directsync' on <driver> where driver/@cache='writethrough' " \
           "(safe); or set cache='none' on <driver> (safe)" in out
    _, out, _ = run(capsys, "rules", "show", "--libvirt", "1.2.8", "hostdev-pci-no-backend")
    assert "(unsafe: --unsafe-fixes)" in out
    _, out, _ = run(capsys, "rules", "show", "disk-readonly-ide-sata")
    assert "# fix: none" in out
    _, out, _ = run(capsys, "rules", "list", "--format", "json")
    kinds = {r["id"]: r["fix"] for r in json.loads(out)}
    assert kinds["disk-io-native-cache-v9"] == "safe" and kinds["disk-readonly-ide-sata"] is None


@pytest.mark.corpus
def test_the_scanner_finds_every_element_lxml_finds() -> None:
    # Every domain at hand: the examples, real-world domains and both conformance corpora.
    from conftest import CORPORA
    from lxml import etree

    from domlint.errors import InputError

    paths = [*sorted((REPO / "examples").glob("*.xml")), *sorted((REPO / "tests" / "realworld").glob("*.xml"))]
    for corpus in CORPORA.values():
        paths += sorted((corpus / "cases").glob("*.xml"))
    matched = 0
    for path in paths:
        data = path.read_bytes()
        try:
            doc = parse_bytes(data, str(path), roots=None)
            text = data.decode("utf-8")
        except (InputError, UnicodeDecodeError):
            continue
        tags = scan(text.lstrip("\ufeff"))
        elements = list(doc.root.iter(etree.Element))
        assert [t.name for t in tags] == [etree.QName(e).localname if not e.prefix else f"{e.prefix}:"
                                          f"{etree.QName(e).localname}" for e in elements], path
        assert all(t.first_line <= e.sourceline <= t.last_line for t, e in zip(tags, elements, strict=True)), path
        matched += 1
    assert matched > 1000


def _shape(el) -> tuple:
    """An element as a tree of names, attributes and non-blank text: what an edit may change."""
    from lxml import etree

    kids = tuple(_shape(c) for c in el if isinstance(c.tag, str))
    text = (el.text or "").strip()
    return (etree.QName(el).localname, tuple(sorted(el.attrib.items())), text, kids)


PROBE = "a'b\"c<&>"


def _set(el) -> None:
    el.set("probe", PROBE)


def _remove(el) -> None:
    for key in ("type", "name", "dev"):
        el.attrib.pop(key, None)


def _add(el) -> None:
    from lxml import etree

    el.append(etree.fromstring("<probe kind='x'/>"))


def _drop(el) -> None:
    for child in el.xpath("*[1]"):
        el.remove(child)


def _rename(el) -> None:
    el.tag = "renamed"


EDITS = [({"set": {"probe": PROBE}}, _set), ({"remove": ["type", "name", "dev"]}, _remove),
         ({"add-child": "<probe kind='x'/>"}, _add), ({"remove-child": "*[1]"}, _drop), ({"rename": "renamed"}, _rename)]


@pytest.mark.parametrize("kind", range(len(EDITS)), ids=[next(iter(e[0])) for e in EDITS])
def test_each_edit_of_the_text_makes_the_change_lxml_would(kind: int) -> None:
    # Edit the text of many elements of real domains, one at a time, and compare with lxml making the change.
    from conftest import CORPORA
    from lxml import etree

    from domlint import fix

    edit, by_lxml = EDITS[kind]
    paths = [*sorted((REPO / "tests" / "realworld").glob("*.xml")), *sorted((CORPORA["9.0"] / "cases").glob("*.xml"))[::9]]
    tried = 0
    for path in paths:
        data = path.read_bytes()
        doc = parse_bytes(data, str(path))
        elements = list(doc.root.iter(etree.Element))
        src = fix.Source(doc, {el: i for i, el in enumerate(elements)})
        for i in range(1, len(elements), 5):
            el = src.elements[i]
            if el.prefix or (kind == 3 and not len(el)) or (kind == 2 and (el.text or "").strip()):
                continue
            edits = fix._edits(src, el, {"edits": [edit]})
            if not edits:
                continue
            mended = parse_bytes(src.bom + fix.apply(src.text, edits).encode(), str(path))
            expected = parse_bytes(data, str(path))
            by_lxml(list(expected.root.iter(etree.Element))[i])
            assert _shape(mended.root) == _shape(expected.root), (path, i)
            # Lines the edit does not reach are kept byte for byte.
            first = src.text.count("\n", 0, min(e.start for e in edits))
            before, after = src.text.splitlines(), mended.data.decode().splitlines()
            assert before[:first] == after[:first]
            tail = len(before) - src.text.count("\n", 0, max(e.end for e in edits)) - 1
            assert before[len(before) - tail:] == after[len(after) - tail:] if tail else True
            tried += 1
    assert tried > 100
