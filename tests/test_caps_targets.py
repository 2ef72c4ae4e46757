"""Capability sources per target: libvirt 9.0's cache files, built-in profiles, unknown flag names."""

from __future__ import annotations

import pytest
from conftest import CORPORA, REPO, run_cli

from domlint import caps as capsmod
from domlint import target as targetmod

CAPS_9 = sorted((CORPORA["9.0"] / "qemu-caps").glob("caps_*.xml"))
# Without the corpus, one case that skips saying how to get it (rather than pytest's "empty parameter set").
CAPS_9_PARAMS = CAPS_9 or [pytest.param(None, id="no-corpus")]


@pytest.mark.parametrize("path", CAPS_9_PARAMS, ids=[p.name for p in CAPS_9] or None)
@pytest.mark.corpus
def test_every_9_0_capability_file_is_read(path) -> None:
    caps = capsmod.from_file(path, "9.0", warn=pytest.fail)  # every flag of the file is a 9.0 name
    info = capsmod.read_qemu_caps(path)
    assert caps >= set(info["flags"]) and caps.version == info["version_number"] > 0
    assert caps.arch == path.name.split(".")[-2]
    assert caps.machines and all(m["type"] in ("kvm", "tcg") for m in caps.machines)
    proc = run_cli("check", "--libvirt", "9.0", "--qemu-caps", str(path), str(REPO / "examples" / "guest-good.xml"))
    assert proc.returncode in (0, 1), proc.stderr


@pytest.mark.parametrize("path", CAPS_9_PARAMS, ids=[p.name for p in CAPS_9] or None)
@pytest.mark.corpus
def test_built_in_profiles_are_the_files(path) -> None:
    caps = capsmod.from_file(path, "9.0")
    profile = capsmod.from_profile(f"{'.'.join(str(caps.version // 1000 ** i % 1000) for i in (2, 1, 0))}-{caps.arch}",
                                   "9.0")
    assert profile == caps and profile.machines == caps.machines and profile.cpu_models == caps.cpu_models


@pytest.mark.corpus
def test_names_a_target_does_not_know_are_a_warning_not_a_failure() -> None:
    newest = CAPS_9[-1]
    warned: list[str] = []
    caps = capsmod.from_file(newest, "1.2.8", warn=warned.append)
    assert len(warned) == 1 and "libvirt 1.2.8 does not know" in warned[0] and "pcie-root-port" in warned[0]
    assert "pcie-root-port" not in caps and caps <= set(targetmod.load("1.2.8").caps_names)
    proc = run_cli("check", "--libvirt", "1.2.8", "--qemu-caps", str(newest), str(REPO / "examples" / "guest-good.xml"))
    # Exit 0 or 1 (a 1.2.8 rule may miss flags a newer libvirt stopped writing), never 2.
    assert proc.returncode in (0, 1) and "warning:" in proc.stderr and f"{newest}:" in proc.stderr


def test_retired_flags_count_as_present_under_9_0() -> None:
    t = targetmod.load("9.0")
    assert "drive" in t.retired and "drive" in capsmod.from_list("pcie-root-port", "9.0")
    assert "drive" not in capsmod.from_list("name", "1.2.8")


def test_each_target_has_a_default_profile_for_every_arch_it_ships() -> None:
    assert capsmod.newest_profile("9.0").source == "profile qemu-7.2.50-x86_64"
    assert capsmod.newest_profile("9.0", "ppc64").arch == "ppc64"
    # None for sparc: the x86_64 profile's flags stand in, but not its arch, machines or CPU models.
    stand_in = capsmod.newest_profile("9.0", "sparc")
    assert stand_in.arch is None and not stand_in.machines and stand_in >= {"pcie-root-port"}
    assert capsmod.newest_profile("1.2.8").source == "profile qemu-1.6.50"


def test_a_ppc64le_guest_is_judged_under_the_ppc64_binary() -> None:
    # There is no qemu-system-ppc64le: libvirt runs little-endian POWER guests with qemu-system-ppc64.
    from domlint import caps

    le = caps.newest_profile("9.0", "ppc64le")
    assert le == caps.newest_profile("9.0", "ppc64") and le.arch == "ppc64" and le.machines
