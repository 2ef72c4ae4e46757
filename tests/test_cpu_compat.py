"""Guest CPUs compared with the host CPU through a libvirt CPU map (the cpu-compat test)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CONFORMANCE

import domlint
from domlint.cpu import incompatibility, load_map
from domlint.data import data_file
from domlint.errors import InputError
from domlint.host import from_dict, load

EXAMPLE_MAP = str(data_file("cpu-map-example.xml"))
HOST_FEATURES = ("lahf_lm", "cx16", "vmx")
DOMAIN = """<domain type='qemu'><name>a</name><memory>219136</memory>
<os><type arch='{arch}'>hvm</type></os>{cpu}<devices/></domain>"""


def test_models_inherit_their_parents_features() -> None:
    cpu_map = load_map(EXAMPLE_MAP)
    assert cpu_map.models["core2duo"] < cpu_map.models["Nehalem"]
    assert cpu_map.names(cpu_map.models["Nehalem"] - cpu_map.models["core2duo"]) == [
        "cx16", "sse4.1", "sse4.2", "x2apic", "popcnt", "lahf_lm"]


@pytest.mark.parametrize(("model", "features", "match", "problem"), [
    ("core2duo", [], "exact", None),
    ("Nehalem", [], "exact", "lacks features the guest CPU needs: sse4.1, sse4.2, x2apic, popcnt"),
    ("Nehalem", [("sse4.1", "disable"), ("sse4.2", "force"), ("x2apic", "optional"), ("popcnt", "disable")],
     "exact", None),
    ("core2duo", [("aes", "require")], "exact", "lacks features the guest CPU needs: aes"),
    ("core2duo", [("vmx", "forbid")], "exact", "has features the guest CPU forbids: vmx"),
    ("core2duo", [("svm", "forbid")], "exact", None),
    ("core2duo", [], "strict", "beyond the guest CPU's, but the host has vmx, cx16, lahf_lm"),
    ("core2duo", [("lahf_lm", "require"), ("cx16", "optional"), ("vmx", "disable")], "strict", None),
    ("core2duo", [("aes", "require")], "minimum", "lacks features the guest CPU needs: aes"),
    # names the map does not know are another error, not an incompatibility
    ("Westmere", [], "exact", None),
    ("core2duo", [("no-such-feature", "require")], "exact", None),
])
def test_incompatibility(model: str, features: list[tuple[str, str]], match: str, problem: str | None) -> None:
    got = incompatibility(load_map(EXAMPLE_MAP), "core2duo", HOST_FEATURES, model, features, match)
    assert (got is None) == (problem is None)
    if problem:
        assert problem in str(got)


@pytest.mark.corpus
def test_libvirts_own_map_agrees_with_the_conformance_cpu_cases() -> None:
    # The 1.2.8 test host (core2duo plus extra features) runs cpu-fallback's
    # reduced Westmere, but not a full one.
    cpu_map = load_map(str(CONFORMANCE / "host" / "cpu_map.xml"))
    host = ("lahf_lm", "xtpr", "cx16", "tm2", "est", "vmx", "ds_cpl", "pbe", "tm", "ht", "ss", "acpi", "ds")
    reduced = [(f, "disable") for f in ("sse4.1", "sse4.2", "popcnt", "aes")]
    assert incompatibility(cpu_map, "core2duo", host, "Westmere", reduced, "exact") is None
    assert "sse4.1" in str(incompatibility(cpu_map, "core2duo", host, "Westmere", [], "exact"))


def _rules(cpu: str, host_raw: dict[str, object], arch: str = "x86_64") -> list[str]:
    host = from_dict("h", host_raw)
    return [f.rule_id for f in domlint.check(DOMAIN.format(arch=arch, cpu=cpu), host=host)
            if f.rule_id == "cpu-host-incompatible"]


def test_the_rule_needs_a_map_and_a_host_model_and_an_x86_guest() -> None:
    cpu = "<cpu match='exact'><model>Nehalem</model></cpu>"
    host = {"cpu": {"model": "core2duo", "features": list(HOST_FEATURES)}, "cpu_map": EXAMPLE_MAP}
    assert _rules(cpu, host) == ["cpu-host-incompatible"]
    assert _rules(cpu, host, arch="i686") == ["cpu-host-incompatible"]
    assert _rules(cpu, {**host, "cpu_map": None}) == []
    assert _rules(cpu, {"cpu_map": EXAMPLE_MAP}) == []
    assert _rules(cpu, host, arch="ppc64") == []
    assert _rules("<cpu mode='host-model'/>", host) == []


def test_a_profile_names_its_map_relative_to_itself(tmp_path: Path) -> None:
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "cpu.xml").write_text(Path(EXAMPLE_MAP).read_text())
    (tmp_path / "host.yaml").write_text("name: h\ncpu: {model: core2duo}\ncpu_map: maps/cpu.xml\n")
    assert load(tmp_path / "host.yaml").cpu_map == str(tmp_path / "maps" / "cpu.xml")
    (tmp_path / "bad.yaml").write_text("name: h\ncpu_map: maps/none.xml\n")
    with pytest.raises(InputError) as exc:
        load(tmp_path / "bad.yaml")
    assert exc.value.line == 2 and "maps/none.xml" in str(exc.value)


def test_a_broken_map_is_an_input_error_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "map.xml"
    bad.write_text("<cpus>\n<arch name='x86'>\n<model name='a'><feature name='nope'/></model>\n</arch></cpus>\n")
    with pytest.raises(InputError) as exc:
        load_map(str(bad))
    assert exc.value.line == 3 and "nope" in str(exc.value)
