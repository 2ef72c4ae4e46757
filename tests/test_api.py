"""The Python API."""

from __future__ import annotations

import pytest
from conftest import REPO

import domlint

DISK = """<domain type='qemu'><name>a</name><memory>1024</memory>
<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>
<disk type='file' device='disk'><source file='/a'/><target dev='hda'/><readonly/></disk>
</devices></domain>"""


def test_check_string_bytes_and_path() -> None:
    for source in (DISK, DISK.encode()):
        ids = [f.rule_id for f in domlint.check(source)]
        assert ids == ["disk-ide-readonly"]
    findings = domlint.check(REPO / "examples" / "guest-bad.xml")
    assert {f.rule_id for f in findings} == {"disk-ide-readonly", "disk-io-native-cache", "disk-lun-not-block"}
    f = next(f for f in findings if f.rule_id == "disk-ide-readonly")
    assert (f.line, f.column, f.xpath, f.severity) == (17, 5, "/domain/devices/disk[2]", "error")
    assert f.hint and "hdb" in f.message


def test_caps_change_the_verdict() -> None:
    assert domlint.check(DISK, caps=["drive", "drive-readonly"])
    assert not domlint.check(DISK, caps=["drive"])
    assert not domlint.check(DISK, caps=[])


def test_select_and_ignore() -> None:
    assert not domlint.check(DISK, ignore=["disk-ide-readonly"])
    assert not domlint.check(DISK, ignore=["disk"])
    assert domlint.check(DISK, select=["disk-ide"])


def test_bad_input_raises_input_error() -> None:
    with pytest.raises(domlint.InputError) as exc:
        domlint.check("<domain><name>x</domain>")
    assert exc.value.line == 1
