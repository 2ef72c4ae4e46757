"""What rule XPath can do beyond plain XPath 1.0: re:test, and attribute names for {$name}."""

from __future__ import annotations

from pathlib import Path

import domlint
from domlint.engine import load_engine

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
