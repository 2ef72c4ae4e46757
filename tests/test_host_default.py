"""With no --host, the default host asserts no fact a real host may lack, so host-fact rules stay silent."""

from __future__ import annotations

from pathlib import Path

import pytest

from domlint.cli import main
from domlint.host import default_host

HEAD = "<domain type='qemu'><name>a</name><memory>219136</memory><os><type arch='x86_64' machine='pc'>hvm</type></os>"
DOMAINS = {
    "hugepages-no-hugetlbfs": HEAD.replace("<os>", "<memoryBacking><hugepages/></memoryBacking><os>")
    + "<devices/></domain>",
    "graphics-spice-tls-disabled": HEAD + "<devices><graphics type='spice' port='5903' tlsPort='5904' "
    "autoport='no'/></devices></domain>",
    "hostdev-pci-no-backend": HEAD + "<devices><hostdev mode='subsystem' type='pci' managed='yes'><source>"
    "<address domain='0x0000' bus='0x06' slot='0x12' function='0x5'/></source></hostdev></devices></domain>",
    "tuning-memtune-session": HEAD.replace("<os>", "<memtune><hard_limit unit='KiB'>9437184</hard_limit>"
                                           "</memtune><os>") + "<devices/></domain>",
}
# A host profile stating the fact each rule needs, the way that makes the rule fire.
STATING = {
    "hugepages-no-hugetlbfs": "driver:\n  hugetlbfs: []\n",
    "graphics-spice-tls-disabled": "driver:\n  spice_tls: false\n",
    "hostdev-pci-no-backend": "pci_backend: null\n",
    "tuning-memtune-session": "driver:\n  privileged: false\n",
}
CAPS = "device,spice,mem-path,pci-device"


def _ids(capsys: pytest.CaptureFixture[str], tmp_path: Path, rule: str, host: str | None) -> str:
    dom = tmp_path / "d.xml"
    dom.write_text(DOMAINS[rule])
    words = ["check", "--libvirt", "1.2.8", "--no-config", "--caps", CAPS, "--format", "json", str(dom)]
    if host is not None:
        (tmp_path / "h.yaml").write_text("name: h\n" + host)
        words[1:1] = ["--host", str(tmp_path / "h.yaml")]
    main(words)
    return capsys.readouterr().out


@pytest.mark.parametrize("rule", sorted(DOMAINS))
def test_no_host_no_host_fact_finding(rule: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert rule not in _ids(capsys, tmp_path, rule, None)


@pytest.mark.parametrize("rule", sorted(DOMAINS))
def test_a_host_stating_the_fact_gets_the_finding(rule: str, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert rule in _ids(capsys, tmp_path, rule, STATING[rule])


def test_default_host_states_none_of_the_facts() -> None:
    h = default_host()
    for fact in ("privileged", "hugetlbfs", "hugepage_sizes", "spice_tls", "seccomp_sandbox", "smbios",
                 "network_driver", "networks", "pci_backend", "cpu_models", "cpu_model", "secret_usages",
                 "secret_uuids", "guest_archs"):
        assert getattr(h, fact) is None, fact
    assert not h.stated and h.domain_types == {} and h.qemu_caps == {}


def test_argv_still_builds_with_qemu_conf_defaults(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dom = tmp_path / "d.xml"
    dom.write_text(HEAD + "<devices><graphics type='vnc' port='5900' autoport='no'/></devices></domain>")
    assert main(["argv", "--libvirt", "1.2.8", "--no-config", "--caps", "vnc,vnc-colon", str(dom)]) == 0
    assert "-vnc 127.0.0.1:0" in capsys.readouterr().out
