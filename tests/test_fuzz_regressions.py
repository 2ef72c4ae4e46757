"""Inputs the fuzzer (benchmarks/fuzz.py) once crashed on: each must now end in findings or a refusal."""

from __future__ import annotations

import pytest
from emit_helpers import after, domain, emit_unchecked, emit_words

import domlint
from domlint.values import is_digits, parse_cpuset


def _hyperv(spinlocks: str) -> str:
    return domain(top=f"<features><hyperv><relaxed state='on'/>{spinlocks}</hyperv></features>")


# libvirt reads the count as an unsigned long that must fit an unsigned int: '-1' (2**64 - 1) does not.
@pytest.mark.parametrize("retries", ["spapr-vio", "-", "", " ", "4094", "0x1000", "9" * 30, "\u00b2", "-1",
                                     "-4294963201"])
def test_bad_spinlock_retries_are_findings(retries: str) -> None:
    findings = domlint.check(_hyperv(f"<spinlocks state='on' retries='{retries}'/>"))
    assert [f.rule_id for f in findings] == ["features-hyperv-spinlocks-retries"]
    with pytest.raises(domlint.Refused):
        domlint.emit(_hyperv(f"<spinlocks state='on' retries='{retries}'/>"))


def test_missing_spinlock_retries_is_a_finding() -> None:
    findings = domlint.check(_hyperv("<spinlocks state='on'/>"))
    assert [f.rule_id for f in findings] == ["features-hyperv-spinlocks-no-retries"]


@pytest.mark.parametrize(("retries", "shown"), [("4096", "0x1000"), (" +8191", "0x1fff"), ("4294967295", "0xffffffff")])
def test_spinlock_retries_in_hexadecimal(retries: str, shown: str) -> None:
    words = emit_words(_hyperv(f"<spinlocks state='on' retries='{retries}'/>"))
    assert after(words, "-cpu") == [f"qemu64,hv_relaxed,hv_spinlocks={shown}"]


def test_emitter_refuses_unreadable_retries_without_the_rules() -> None:
    with pytest.raises(domlint.InputError, match="retries='x' is not a number"):
        emit_unchecked(_hyperv("<spinlocks state='on' retries='x'/>"))


@pytest.mark.parametrize(("vcpu", "why"), [
    ("<vcpu>1\u00b2</vcpu>", "'1\u00b2' is not a decimal integer"),
    ("<vcpu>\u0661</vcpu>", "'\u0661' is not a decimal integer"),
    ("<vcpu>-0</vcpu>", "'-0' is not a decimal integer from 1 to 65535"),
    ("<vcpu current='\u00b2'>2</vcpu>", "current '\u00b2' is not a decimal integer"),
    ("<vcpu current='3'>2</vcpu>", "current 3 is more than the maximum 2"),
])
def test_bad_vcpu_counts_are_refused_like_libvirt_refuses_them(vcpu: str, why: str) -> None:
    # libvirt cannot define such a domain: an input error naming the line, for check and argv alike.
    xml = domain().replace("<vcpu>1</vcpu>", vcpu)
    for run in (domlint.check, domlint.emit):
        with pytest.raises(domlint.InputError, match=why):
            run(xml)


def test_empty_vcpu_means_one() -> None:
    words = emit_words(domain().replace("<vcpu>1</vcpu>", "<vcpu/>"))
    assert after(words, "-smp") == ["1"]


@pytest.mark.parametrize("text", ["\u00b2", "1\u00b2", "\u0661", "\uff11"])
def test_emitter_reads_only_ascii_digits(text: str) -> None:
    # Even without the rules, a unicode 'digit' is an input error, never a crash in int().
    with pytest.raises(domlint.InputError, match="is not a decimal integer"):
        emit_unchecked(domain().replace("<vcpu>1</vcpu>", f"<vcpu>{text}</vcpu>"))


@pytest.mark.parametrize(("text", "ok"), [("12", True), ("\u00b2", False), ("\u0661", False), ("", False),
                                          (" 1", False)])
def test_is_digits_takes_ascii_only(text: str, ok: bool) -> None:
    assert is_digits(text) is ok


def test_cpuset_with_unicode_digits_is_malformed() -> None:
    assert parse_cpuset("0-\u00b2") is None
    assert parse_cpuset("\u0661") is None
    assert parse_cpuset("0-2") == {0, 1, 2}
