"""Rules may use EXSLT regular expressions (re:test) where XPath 1.0 has no character classes."""

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
