"""The host profile's SPICE TLS switch and hugetlbfs page sizes, and the rules that read them."""

from __future__ import annotations

from pathlib import Path

import pytest

import domlint
from domlint.errors import InputError
from domlint.host import from_dict, load

SPICE = """<domain type='qemu'><name>a</name><memory>219136</memory><os><type arch='x86_64'>hvm</type></os>
<devices><graphics type='spice' {ports}/></devices></domain>"""

PAGES = """<domain type='qemu'><name>a</name><memory>2097152</memory>
<memoryBacking><hugepages><page size='{size}' {unit}/></hugepages></memoryBacking>
<os><type arch='x86_64'>hvm</type></os><cpu><numa><cell id='0' cpus='0' memory='2097152'/></numa></cpu>
<devices/></domain>"""
BACKENDS = ["mem-path", "memory-backend-ram", "memory-backend-file"]


def _fired(xml: str, host_raw: dict[str, object], caps: list[str]) -> list[str]:
    return sorted({f.rule_id for f in domlint.check(xml, caps=caps, host=from_dict("h", host_raw))})


def test_profile_reads_both_facts_and_leaves_them_unknown_when_absent() -> None:
    h = from_dict("h", {"driver": {"spice_tls": True, "hugetlbfs": [
        {"mount": "/dev/hugepages2M", "page_size_kib": 2048}, {"mount": "/dev/hugepages1G", "page_size_kib": 1048576}]}})
    assert h.spice_tls is True and h.hugepage_sizes == ("2048", "1048576")
    empty = from_dict("h", {})
    assert empty.spice_tls is None and empty.hugepage_sizes is None


@pytest.mark.parametrize("text", ["  hugetlbfs: 2048\n", "  hugetlbfs: [{mount: /h, page_size_kib: 2M}]\n",
                                  "  hugetlbfs: [{mount: /h, page_size_kib: 0}]\n", "  spice_tls: maybe\n"])
def test_a_malformed_fact_names_the_file_and_line(text: str, tmp_path: Path) -> None:
    path = tmp_path / "host.yaml"
    path.write_text("name: h\ndriver:\n" + text)
    with pytest.raises(InputError) as exc:
        load(path)
    assert exc.value.line == 3 and str(path) in str(exc.value)


def test_a_tls_port_follows_the_hosts_spice_tls_switch() -> None:
    xml = SPICE.format(ports="port='5903' tlsPort='5904' autoport='no'")
    assert "graphics-spice-tls-disabled" in _fired(xml, {"driver": {"spice_tls": False}}, ["spice"])
    assert "graphics-spice-tls-disabled" not in _fired(xml, {"driver": {"spice_tls": True}}, ["spice"])
    assert "graphics-spice-tls-disabled" not in _fired(xml, {}, ["spice"])
    # autoport picks the ports at start-up, so a written tlsPort is not used
    auto = SPICE.format(ports="port='5903' tlsPort='5904' autoport='yes'")
    assert "graphics-spice-tls-disabled" not in _fired(auto, {"driver": {"spice_tls": False}}, ["spice"])


@pytest.mark.parametrize(("size", "unit", "fires"), [
    ("2048", "", False), ("2", "unit='M'", False), ("1", "unit='G'", False),
    ("1048576", "unit='KiB'", False), ("4096", "", True), ("16", "unit='G'", True)])
def test_page_sizes_are_compared_in_kib_with_the_hosts_mounts(size: str, unit: str, fires: bool) -> None:
    host = {"driver": {"hugetlbfs": [{"mount": "/dev/hugepages2M", "page_size_kib": 2048},
                                     {"mount": "/dev/hugepages1G", "page_size_kib": 1048576}]}}
    fired = _fired(PAGES.format(size=size, unit=unit), host, BACKENDS)
    assert ("hugepages-numa-no-mount" in fired) == fires
    # A host that does not say which page sizes it has mounted decides nothing.
    assert "hugepages-numa-no-mount" not in _fired(PAGES.format(size=size, unit=unit), {}, BACKENDS)


@pytest.mark.parametrize("graphics", ["vnc", "spice"])
def test_a_network_listen_follows_the_hosts_networks(graphics: str) -> None:
    xml = SPICE.replace("graphics type='spice' {ports}/",
                        f"graphics type='{graphics}' port='5903' autoport='no'>"
                        "<listen type='network' network='default'/></graphics")
    caps = ["vnc", "vnc-colon", "spice"]
    kinds = {f"graphics-{graphics}-listen-network-no-driver", f"graphics-{graphics}-listen-network-no-address"}
    assert kinds <= set(_fired(xml, {"network_driver": False, "networks": {}}, caps))
    assert not kinds & set(_fired(xml, {"network_driver": True, "networks": {"default": {"address": "192.168.122.1"}}}, caps))
    assert _fired(xml, {"network_driver": True, "networks": {"other": {"address": "10.0.0.1"}}}, caps) == [
        f"graphics-{graphics}-listen-network-no-address"]
    assert not kinds & set(_fired(xml, {}, caps))
