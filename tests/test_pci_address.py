"""The pci test: PCI <address> elements compared with a fixed address the way libvirt reads them."""

from __future__ import annotations

import pytest
from lxml import etree

from domlint.predicates import Context, build


def _hit(spec: dict[str, str], address: str) -> str | None:
    el = etree.fromstring(f"<video>{address}</video>")
    hit = build({"pci": {"value": "address", **spec}}).holds(el, Context())
    return None if hit is None else hit.value


@pytest.mark.parametrize("attrs", [
    "domain='0x0000' bus='0x00' slot='0x02' function='0x0'",
    "domain='0' bus='0' slot='2' function='0'",
    "slot='02'",                          # octal 2; missing parts are 0
])
def test_spellings_of_one_address_are_equal(attrs: str) -> None:
    addr = f"<address type='pci' {attrs}/>"
    assert _hit({"equals": "0000:00:02.0"}, addr) == "0000:00:02.0"
    assert _hit({"differs": "0000:00:02.0"}, addr) is None


def test_octal_and_decimal_are_not_confused() -> None:
    # '031' is octal 25, not 31 (0x1f).
    assert _hit({"equals": "0000:00:1f.2"}, "<address type='pci' slot='031' function='2'/>") is None
    assert _hit({"equals": "0000:00:1f.2"}, "<address type='pci' slot='31' function='2'/>") == "0000:00:1f.2"


def test_a_spec_without_function_compares_the_slot() -> None:
    addr = "<address type='pci' domain='0' bus='0' slot='2' function='3'/>"
    assert _hit({"equals": "0000:00:02"}, addr) == "0000:00:02.3"
    assert _hit({"differs": "0000:00:02.0"}, addr) == "0000:00:02.3"


def test_unreadable_addresses_and_no_address_never_hold() -> None:
    assert _hit({"differs": "0000:00:02.0"}, "<address type='pci' slot='two'/>") is None
    assert _hit({"differs": "0000:00:02.0"}, "") is None


@pytest.mark.parametrize("spec", [{}, {"equals": "0:0:1.1", "differs": "0:0:1.1"}, {"equals": "0:1.1"},
                                  {"equals": "0:0:zz.1"}])
def test_bad_specs_are_refused(spec: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        build({"pci": {"value": "address", **spec}})
