"""Host settings (privileged, hugetlbfs, seccomp, SMBIOS, PCI backend) and the host test ops that read them."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from domlint.errors import InputError
from domlint.host import from_dict, load
from domlint.predicates import Context, build

EL = etree.fromstring("<hostdev/>")


def _holds(spec: dict[str, str], raw: dict[str, object]) -> str | None:
    hit = build({"host": spec}).holds(EL, Context(host=from_dict("h", raw)))
    return None if hit is None else hit.value


@pytest.mark.parametrize(("raw", "enabled", "disabled"), [
    ({"driver": {"privileged": True}}, "True", None),
    ({"driver": {"privileged": False}}, None, "False"),
    ({}, None, None),
])
def test_switch_is_silent_unless_the_profile_says(raw: dict[str, object], enabled: str | None,
                                                  disabled: str | None) -> None:
    assert _holds({"fact": "privileged", "op": "enabled"}, raw) == enabled
    assert _holds({"fact": "privileged", "op": "disabled"}, raw) == disabled


def test_an_empty_mount_list_is_disabled_and_a_missing_one_unknown() -> None:
    assert _holds({"fact": "hugetlbfs", "op": "disabled"}, {"driver": {"hugetlbfs": []}}) == ""
    assert _holds({"fact": "hugetlbfs", "op": "disabled"}, {"driver": {}}) is None
    assert _holds({"fact": "hugetlbfs", "op": "disabled"}, {}) is None
    mounts = [{"mount": "/a", "page_size_kib": 2048}, {"mount": "/b", "page_size_kib": 1048576}]
    assert _holds({"fact": "hugetlbfs", "op": "enabled"}, {"driver": {"hugetlbfs": mounts}}) == "/a, /b"


def test_equals_compares_a_domain_value_with_a_fact() -> None:
    spec = {"fact": "pci_backend", "op": "equals", "value": "'kvm'"}
    assert _holds(spec, {"pci_backend": "kvm"}) == "kvm"
    assert _holds(spec, {"pci_backend": "vfio"}) is None
    assert _holds(spec, {}) is None


def test_a_switch_that_is_not_true_or_false_names_its_line(tmp_path: Path) -> None:
    f = tmp_path / "host.yaml"
    f.write_text("name: h\narch: x86_64\ndriver:\n  seccomp_sandbox: sometimes\n")
    with pytest.raises(InputError) as exc:
        load(f)
    assert exc.value.line == 4
    assert "driver.seccomp_sandbox" in str(exc.value) and "boolean" in str(exc.value)
