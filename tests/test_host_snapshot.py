"""`domlint host snapshot` against a stand-in virsh, and how a snapshot's facts reach the verdicts."""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import CONFORMANCE_9, require_corpora

from domlint.caps import of_host
from domlint.checker import Checker, Options
from domlint.cli import main
from domlint.commands.host import _conf_values, driver_settings
from domlint.host import from_dict, load

pytestmark = pytest.mark.libvirt("9.0")

CAPS = """<capabilities>
  <host><cpu><arch>x86_64</arch><model>Skylake-Client</model><vendor>Intel</vendor>
    <feature name='vmx'/></cpu></host>
  <guest><os_type>hvm</os_type>
    <arch name='x86_64'><wordsize>64</wordsize><emulator>/usr/bin/qemu-system-x86_64</emulator>
      <machine maxCpus='255'>pc-i440fx-7.2</machine><machine canonical='pc-i440fx-7.2' maxCpus='255'>pc</machine>
      <machine maxCpus='288'>pc-q35-7.2</machine><machine canonical='pc-q35-7.2' maxCpus='288'>q35</machine>
      <domain type='qemu'/></arch></guest>
  <guest><os_type>hvm</os_type>
    <arch name='i686'><wordsize>32</wordsize><emulator>/usr/bin/qemu-system-i386</emulator>
      <machine maxCpus='255'>pc-i440fx-7.2</machine><domain type='qemu'/></arch></guest>
</capabilities>
"""
DOMCAPS = """<domainCapabilities><cpu><mode name='custom' supported='yes'>
  <model usable='yes'>qemu64</model><model usable='no'>Skylake-Client</model></mode></cpu></domainCapabilities>"""
SECRET = "<secret><uuid>0a8b2c0e-5f0e-4a53-9c1f-4b1b3f2f1c22</uuid><usage type='ceph'><name>client.admin</name></usage></secret>"
NET = "<network><name>default</name><ip address='192.168.122.1' netmask='255.255.255.0'/></network>"

FAKE_VIRSH = """#!{python}
import sys
words = [w for w in sys.argv[1:] if w not in ('-q',)]
words = words[2:] if words[:1] == ['-c'] else words
out = {{
    'capabilities': {caps!r}, 'hostname': 'fakehost\\n', 'domcapabilities': {domcaps!r},
    'secret-list': ' 0a8b2c0e-5f0e-4a53-9c1f-4b1b3f2f1c22   ceph client.admin\\n',
    'secret-dumpxml': {secret!r}, 'net-list': 'default\\n', 'net-dumpxml': {net!r}, 'pool-list': '',
}}
if words[0] not in out:
    sys.exit('error: unknown command')
sys.stdout.write(out[words[0]])
"""

DOMAIN = """<domain type='{type}'><name>a</name><memory>219136</memory>
<os><type arch='{arch}' machine='pc'>hvm</type></os><devices>{devices}</devices></domain>"""


@pytest.fixture
def snapshot_dir(tmp_path: Path) -> Path:
    require_corpora()
    virsh = tmp_path / "virsh"
    virsh.write_text(FAKE_VIRSH.format(python=sys.executable, caps=CAPS, domcaps=DOMCAPS, secret=SECRET, net=NET))
    virsh.chmod(0o755)
    cache = tmp_path / "cache"
    cache.mkdir()
    shutil.copyfile(CONFORMANCE_9 / "qemu-caps" / "caps_8.0.0.x86_64.xml", cache / "0123abcd.xml")
    conf = tmp_path / "qemu.conf"
    conf.write_text('# spice_tls = 1\nspice_tls = 0\nvnc_listen = "0.0.0.0"  # all\nhugetlbfs_mount = []\n')
    out = tmp_path / "snap"
    assert main(["host", "snapshot", "-c", "qemu:///system", "-o", str(out), "--virsh", str(virsh),
                 "--caps-dir", str(cache), "--qemu-conf", str(conf)]) == 0
    return out


def test_qemu_conf_values() -> None:
    text = textwrap.dedent('''\
        # vnc_tls = 1
        vnc_tls = 1
        spice_listen = "::"   # everywhere
        hugetlbfs_mount = ["/dev/hugepages2M",
                           "/dev/hugepages1G"]
        user = "root"
        ''')
    assert _conf_values(text) == {"vnc_tls": 1, "spice_listen": "::", "user": "root",
                                  "hugetlbfs_mount": ["/dev/hugepages2M", "/dev/hugepages1G"]}
    d = driver_settings(_conf_values(text), privileged=False)
    assert d["vnc_tls"] is True and d["spice_tls"] is False and d["spice_listen"] == "::"
    assert d["vnc_listen"] == "127.0.0.1" and d["spice_tls_x509_cert_dir"] == "/etc/pki/qemu"
    assert d["privileged"] is False and "seccomp_sandbox" not in d


def test_snapshot_profile(snapshot_dir: Path) -> None:
    host = load(snapshot_dir / "host.yaml")
    assert host.name == "fakehost" and host.cpu_model == "Skylake-Client" and host.cpu_vendor == "Intel"
    assert host.cpu_models == ("qemu64", "Skylake-Client")
    x86 = host.guest("x86_64")
    assert x86 is not None and x86.machines[0] == "pc-i440fx-7.2" and x86.aliases == {"pc": "pc-i440fx-7.2",
                                                                                       "q35": "pc-q35-7.2"}
    assert host.domain_types == {"x86_64": ("qemu",), "i686": ("qemu",)}
    assert host.guest_archs == ("x86_64", "i686")
    # Only the x86_64 emulator has a cache file; it is copied and named relative to the profile.
    assert host.raw["qemu_caps"] == {"x86_64": str(snapshot_dir / "qemu-caps" / "qemu-system-x86_64.xml")}
    assert host.spice_tls is False and host.hugetlbfs == () and host.privileged is True
    assert host.raw["driver"]["vnc_listen"] == "0.0.0.0"
    assert host.secret_usages == ("client.admin",) and host.networks == ("default",)
    assert host.raw["qemu_version"] == 7002050


def test_snapshot_judges_with_its_caps_and_guests(snapshot_dir: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    host = snapshot_dir / "host.yaml"
    settings = Checker(Options(libvirt="9.0", host=str(host), use_config=False)).settings_for(tmp_path / "x.xml")
    assert settings.caps_for("x86_64").source == str(snapshot_dir / "qemu-caps" / "qemu-system-x86_64.xml")
    assert settings.caps_for("aarch64").source != settings.caps_for("x86_64").source
    files = {
        "kvm": DOMAIN.format(type="kvm", arch="x86_64", devices=""),
        "qemu": DOMAIN.format(type="qemu", arch="x86_64", devices=""),
        "aarch64": DOMAIN.format(type="qemu", arch="aarch64", devices="").replace("machine='pc'", "machine='virt'"),
        "spice": DOMAIN.format(type="qemu", arch="x86_64",
                               devices="<graphics type='spice' port='5900' tlsPort='5901' autoport='no'/>"),
    }
    for name, xml in files.items():
        (tmp_path / f"{name}.xml").write_text(xml)
    main(["check", "--libvirt", "9.0", "--no-config", "--host", str(host), "--format", "json",
          *(str(tmp_path / f"{n}.xml") for n in files)])
    found = {(Path(f["path"]).stem, f["rule_id"]) for f in json.loads(capsys.readouterr().out)["findings"]
             if f["severity"] == "error"}
    assert found == {("kvm", "host-domain-type-unavailable"), ("aarch64", "host-arch-no-emulator"),
                     ("spice", "host-spice-tls-disabled")}
    # The same domains under no host: nothing about the host is known.
    main(["check", "--libvirt", "9.0", "--no-config", "--format", "json", *(str(tmp_path / f"{n}.xml") for n in files)])
    assert not [f for f in json.loads(capsys.readouterr().out)["findings"] if f["rule_id"].startswith("host-")]


@pytest.mark.corpus
def test_of_host_needs_a_file_for_the_arch() -> None:
    assert of_host(from_dict("h", {}), "9.0", "x86_64") is None
    caps_file = str(CONFORMANCE_9 / "qemu-caps" / "caps_8.0.0.x86_64.xml")
    host = from_dict("h", {"qemu_caps": {"x86_64": caps_file}})
    assert of_host(host, "9.0", "x86_64").source == caps_file and of_host(host, "9.0", "ppc64") is None


def test_host_test_key_reads_a_per_arch_table() -> None:
    from lxml import etree

    from domlint.predicates import Context, build

    test = build({"host": {"value": "@type", "fact": "domain_types", "key": "os/type/@arch", "op": "not-in"}})
    dom = etree.fromstring("<domain type='kvm'><os><type arch='x86_64'>hvm</type></os></domain>")
    guests = [{"arch": "x86_64", "emulator": "/e", "domain_types": ["qemu"]}, {"arch": "ppc64", "emulator": "/p"}]
    assert test.holds(dom, Context(host=from_dict("h", {"guests": guests}))).value == "kvm"
    guests[0]["domain_types"] = ["qemu", "kvm"]
    assert test.holds(dom, Context(host=from_dict("h", {"guests": guests}))) is None
    ppc = etree.fromstring("<domain type='kvm'><os><type arch='ppc64'>hvm</type></os></domain>")
    assert test.holds(ppc, Context(host=from_dict("h", {"guests": guests}))) is None


def test_unset_fires_only_on_a_key_the_profile_names_empty() -> None:
    from lxml import etree

    from domlint.predicates import Context, build

    test = build({"host": {"fact": "pci_backend", "op": "unset"}})
    el = etree.fromstring("<hostdev/>")
    assert test.holds(el, Context(host=from_dict("h", {"pci_backend": None}))) is not None
    assert test.holds(el, Context(host=from_dict("h", {}))) is None
    assert test.holds(el, Context(host=from_dict("h", {"pci_backend": "vfio"}))) is None


@pytest.mark.corpus
def test_a_cache_of_another_libvirt_generation_is_not_used() -> None:
    caps_file = str(CONFORMANCE_9 / "qemu-caps" / "caps_8.0.0.x86_64.xml")
    host = from_dict("h", {"qemu_caps": {"x86_64": caps_file}, "libvirt_version": "9.0.0"})
    assert of_host(host, "9.0", "x86_64") is not None and of_host(host, "1.2.8", "x86_64") is None
