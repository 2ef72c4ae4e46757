"""Secrets in the host profile, and the rules that look disk and hostdev secrets up there."""

from __future__ import annotations

import domlint
from domlint.host import from_dict

DISK = """<domain type='qemu'><name>a</name><memory>1024</memory><os><type arch='x86_64'>hvm</type></os>
<devices><disk type='network' device='disk'><source protocol='rbd' name='pool/img'><host name='m'/></source>
<auth username='u'><secret type='ceph' {ref}/></auth><target dev='vda'/></disk></devices></domain>"""


def _rules(host_raw: dict[str, object], ref: str) -> list[str]:
    host = from_dict("h", host_raw)
    return [f.rule_id for f in domlint.check(DISK.format(ref=ref), caps=["drive"], host=host)]


def test_profile_secrets_are_canonical_and_unknown_without_a_section() -> None:
    h = from_dict("h", {"secrets": [{"usage": "a"}, {"uuid": "0A8B2C0E-5F0E-4A53-9C1F-4B1B3F2F1C22"}]})
    assert h.secret_usages == ("a",) and h.secret_uuids == ("0a8b2c0e5f0e4a539c1f4b1b3f2f1c22",)
    assert from_dict("h", {}).secret_usages is None
    assert from_dict("h", {"secrets": [{"usage": "a"}]}).secret_uuids == ()


def test_lookups_follow_the_profile() -> None:
    known = {"secrets": [{"usage": "ceph_a"}, {"uuid": "0a8b2c0e-5f0e-4a53-9c1f-4b1b3f2f1c22"}]}
    assert _rules(known, "usage='ceph_a'") == []
    assert _rules(known, "usage='ceph_b'") == ["secret-usage-unknown"]
    assert _rules(known, "uuid='0a8b2c0e5f0e4a539c1f4b1b3f2f1c22'") == []
    assert _rules(known, "uuid='11111111-2222-3333-4444-555555555555'") == ["secret-uuid-unknown"]
    # A profile that does not list secrets decides nothing.
    assert _rules({}, "usage='ceph_b'") == []
