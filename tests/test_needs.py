"""The compact `needs` form: derived message and hint, {$caps}, load-time errors, flip detection."""

from __future__ import annotations

from pathlib import Path

import pytest

import domlint
from domlint.engine import Engine, load_engine
from domlint.rulepack import RuleErrors
from domlint.selftest import flipping_examples, run_all

IOTUNE = ("<disk type='file'><source file='/a.img'/><target dev='vdb'/>"
          "<iotune><total_bytes_sec>5</total_bytes_sec></iotune></disk>")

NEEDS_RULE = f"""\
  - id: disk-test-iotune
    summary: throttling needs drive-iotune
    severity: error
    stage: command-line
    select: /domain/devices/disk[iotune/*]
    needs: [drive-iotune, drive-readonly]
    feature: "disk {{target/@dev}}: I/O throttling (<iotune>)"
    caps: {{present: [drive]}}
    upstream: [Q083]
    examples:
      invalid:
        - xml: "{IOTUNE}"
          caps: [drive, drive-readonly]
      valid:
        - xml: "{IOTUNE}"
          caps: [drive, drive-iotune, drive-readonly]
"""

DOMAIN = f"""<domain type='qemu'><name>a</name><memory>1024</memory>
<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>
{IOTUNE}
</devices></domain>"""


def _engine(tmp_path: Path, text: str) -> Engine:
    (tmp_path / "r.yaml").write_text("rules:\n" + text)
    return load_engine([tmp_path], use_cache=False, builtin=False)


def _errors(tmp_path: Path, text: str) -> str:
    with pytest.raises(RuleErrors) as exc:
        _engine(tmp_path, text)
    return str(exc.value)


def test_derived_message_and_hint_name_the_missing_capabilities(tmp_path: Path) -> None:
    eng = _engine(tmp_path, NEEDS_RULE)
    [one] = domlint.check(DOMAIN, caps=["drive", "drive-readonly"], engine=eng)
    assert one.message == ("disk vdb: I/O throttling (<iotune>) needs the QEMU capability drive-iotune, "
                           "which this QEMU lacks")
    assert one.hint == "use a QEMU binary that has drive-iotune, or do without I/O throttling (<iotune>)"
    [both] = domlint.check(DOMAIN, caps=["drive"], engine=eng)
    assert "needs the QEMU capabilities drive-iotune, drive-readonly," in both.message
    assert "has drive-iotune and drive-readonly, or" in both.hint


def test_fires_when_any_need_is_missing_and_other_caps_hold(tmp_path: Path) -> None:
    eng = _engine(tmp_path, NEEDS_RULE)
    assert domlint.check(DOMAIN, caps=["drive", "drive-iotune"], engine=eng)
    assert not domlint.check(DOMAIN, caps=["drive", "drive-iotune", "drive-readonly"], engine=eng)
    # caps: still applies: without drive the rule stays silent.
    assert not domlint.check(DOMAIN, caps=[], engine=eng)
    assert not domlint.check(DOMAIN, engine=eng)  # every capability present


def test_message_and_hint_may_be_overridden(tmp_path: Path) -> None:
    rule = NEEDS_RULE.replace(
        "    caps: {", '    message: "disk {target/@dev}: no throttling here (missing {$caps})"\n'
                    "    hint: drop <iotune>\n    caps: {")
    eng = _engine(tmp_path, rule)
    [f] = domlint.check(DOMAIN, caps=["drive", "drive-iotune"], engine=eng)
    assert f.message == "disk vdb: no throttling here (missing drive-readonly)"
    assert f.hint == "drop <iotune>"


def test_caps_placeholder_names_only_what_is_missing_for_older_forms(tmp_path: Path) -> None:
    rule = (NEEDS_RULE.replace("    needs: [drive-iotune, drive-readonly]\n", "")
            .replace('    feature: "disk {target/@dev}: I/O throttling (<iotune>)"\n',
                     '    message: "disk {target/@dev} lacks {$caps}"\n    hint: drop it\n')
            .replace("{present: [drive]}", "{present: [drive], lacking_any: [drive-iotune, drive-readonly]}"))
    eng = _engine(tmp_path, rule)
    [f] = domlint.check(DOMAIN, caps=["drive", "drive-readonly"], engine=eng)
    assert f.message == "disk vdb lacks drive-iotune"


def test_examples_of_a_needs_rule_run_and_flip(tmp_path: Path) -> None:
    eng = _engine(tmp_path, NEEDS_RULE)
    assert all(r.ok for r in run_all(eng))
    assert flipping_examples(eng, eng.by_id["disk-test-iotune"]) == ["disk-test-iotune/invalid[0]"]


def test_flip_check_catches_a_rule_whose_examples_ignore_caps(tmp_path: Path) -> None:
    # Examples that pass, but none shows the verdict changing with the capabilities.
    rule = f"""\
  - id: disk-test-iotune
    summary: throttling needs drive
    severity: error
    stage: command-line
    select: /domain/devices/disk[iotune/*]
    caps: {{present: [drive]}}
    message: "disk {{target/@dev}}"
    hint: drop it
    examples:
      invalid: ["{IOTUNE}"]
      valid:
        - xml: "<disk type='file'><source file='/a'/><target dev='vdc'/></disk>"
          caps: [drive]
"""
    eng = _engine(tmp_path, rule)
    assert all(r.ok for r in run_all(eng))
    assert flipping_examples(eng, eng.by_id["disk-test-iotune"]) == []
    fixed = rule.replace("      valid:\n", f"      valid:\n        - xml: \"{IOTUNE}\"\n          caps: []\n")
    eng = _engine(tmp_path, fixed)
    assert flipping_examples(eng, eng.by_id["disk-test-iotune"]) == ["disk-test-iotune/valid[0]"]


LOAD_ERRORS = {
    "unknown-need": (("[drive-iotune, drive-readonly]", "[drive-iotune, warp-drive]"),
                     "field needs: 'warp-drive' is not a capability of libvirt 1.2.8"),
    "needs-without-feature": (('    feature: "disk {target/@dev}: I/O throttling (<iotune>)"\n', ""),
                              "'feature' is required"),
    "feature-without-needs": (("    needs: [drive-iotune, drive-readonly]\n", ""),
                              "'feature' is only allowed together with 'needs'"),
    "bad-feature-placeholder": (("{target/@dev}: I/O", "{target/@@}: I/O"),
                                "field feature: placeholder {target/@@} is not an XPath expression"),
    "feature-value-without-test": (("{target/@dev}: I/O", "{$value}: I/O"),
                                   "field feature: placeholder {$value} needs a test"),
    "internal-placeholder-in-message": (("    caps: {", '    message: "{$caps_noun}"\n    caps: {'),
                                        "field message: unknown placeholder {$caps_noun}"),
}


@pytest.mark.parametrize("kind", sorted(LOAD_ERRORS))
def test_load_errors(kind: str, tmp_path: Path) -> None:
    (old, new), expected = LOAD_ERRORS[kind]
    assert old in NEEDS_RULE
    text = _errors(tmp_path, NEEDS_RULE.replace(old, new))
    assert "rule disk-test-iotune" in text and expected in text, text


def test_caps_placeholder_needs_something_that_can_be_missing(tmp_path: Path) -> None:
    rule = (NEEDS_RULE.replace("    needs: [drive-iotune, drive-readonly]\n", "")
            .replace('    feature: "disk {target/@dev}: I/O throttling (<iotune>)"\n',
                     '    message: "lacks {$caps}"\n    hint: drop it\n'))
    assert "field message: placeholder {$caps} needs `needs`" in _errors(tmp_path, rule)


def test_message_and_hint_required_without_needs(tmp_path: Path) -> None:
    rule = (NEEDS_RULE.replace("    needs: [drive-iotune, drive-readonly]\n", "")
            .replace('    feature: "disk {target/@dev}: I/O throttling (<iotune>)"\n', ""))
    text = _errors(tmp_path, rule)
    assert "'message' is required" in text and "'hint' is required" in text
