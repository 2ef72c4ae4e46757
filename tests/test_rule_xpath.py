"""What rule XPath can do beyond plain XPath 1.0: re:test, and attribute names for {$name}."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

import domlint
from domlint.engine import load_engine
from domlint.predicates import DL_NS, compile_xpath

RULE = """\
rules:
  - id: disk-test-name
    summary: s
    severity: error
    stage: parse
    select: /domain/devices/disk
    when: "not(re:test(target/@dev, '^(hd|vd)[a-z]+$'))"
    message: "disk {target/@dev}: odd name"
    hint: h
    examples: {invalid: ["<disk><target dev='vdA'/></disk>"], valid: ["<disk><target dev='vda'/></disk>"]}
"""


def _domain(dev: str) -> str:
    return (f"<domain type='qemu'><name>a</name><memory>1024</memory><os><type>hvm</type></os>"
            f"<devices><disk type='file'><source file='/a'/><target dev='{dev}'/></disk></devices></domain>")


def test_re_test_decides_a_rule(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text(RULE)
    eng = load_engine([tmp_path], use_cache=False, builtin=False)
    assert [f.message for f in domlint.check(_domain("vdA"), engine=eng)] == ["disk vdA: odd name"]
    assert domlint.check(_domain("hdb"), engine=eng) == []


ATTR_RULE = """\
rules:
  - id: controller-test-attr
    summary: s
    severity: error
    stage: parse
    select: /domain/devices/controller
    test:
      - int: {value: "driver/@queues | driver/@max_sectors", max: 0}
    message: "{$name} is {$value}"
    hint: h
    examples: {invalid: ["<controller type='scsi'><driver queues='2'/></controller>"],
               valid: ["<controller type='scsi'/>"]}
"""


def test_name_placeholder_names_the_attribute(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text(ATTR_RULE)
    eng = load_engine([tmp_path], use_cache=False, builtin=False)
    xml = _domain("vda").replace("</devices>", "<controller type='scsi'><driver max_sectors='8'/></controller></devices>")
    assert [f.message for f in domlint.check(xml, engine=eng)] == ["max_sectors is 8"]


def test_machine_family_functions() -> None:
    on_pc = compile_xpath("dl:i440fx()")
    on_q35 = compile_xpath("dl:q35()")
    for machine, pc, q35 in (("pc", True, False), ("pc-i440fx-1.6", True, False), ("pc-0.11", True, False),
                             ("rhel6.5.0", True, False), ("q35", False, True), ("pc-q35-2.0", False, True),
                             ("isapc", False, False), ("pseries", False, False)):
        doc = etree.fromstring(f"<domain><os><type machine='{machine}'>hvm</type></os><devices><disk/></devices></domain>")
        disk = doc.find("devices/disk")
        assert (on_pc(disk), on_q35(disk)) == (pc, q35), machine


def test_machine_family_is_read_once_per_document() -> None:
    from domlint.predicates import forget

    on_q35 = compile_xpath("dl:q35()")
    doc = etree.fromstring("<domain><os><type machine='q35'>hvm</type></os><devices><disk/></devices></domain>")
    disk = doc.find("devices/disk")
    forget()
    assert on_q35(disk) is True
    # Rules do not change the document they judge: its chipset is read once until the engine forgets it.
    doc.find("os/type").set("machine", "pc")
    assert on_q35(disk) is True
    forget()
    assert on_q35(disk) is False


def test_dl_functions_reach_only_the_expressions_that_name_them() -> None:
    # A global etree.FunctionNamespace would be registered on every XPath evaluation, the selects' too.
    assert list(etree.FunctionNamespace(DL_NS)) == []
    tree = etree.fromstring("<domain><os><type machine='q35'>hvm</type></os></domain>")
    assert compile_xpath("dl:q35()")(tree) is True
    with pytest.raises(etree.XPathEvalError):
        etree.XPath("dl:q35()", namespaces={"dl": DL_NS})(tree)
