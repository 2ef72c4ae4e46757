"""Unusable input: a one-line message with file and line, exit 2, no traceback, others still checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO, run_cli

import domlint

SECRET = "TOP-SECRET-CONTENT-4711"

BROKEN = {
    "not-well-formed": (b"<domain type='kvm'>\n  <name>x</name>\n  <devices>\n</domain>\n", 4, "not well-formed"),
    "wrong-root": (b"<?xml version='1.0'?>\n<network><name>default</name></network>\n", 2, "root element is <network>"),
    "entity-expansion": (
        b"<?xml version='1.0'?>\n<!DOCTYPE domain [\n <!ENTITY a 'aaaaaaaaaa'>\n"
        b" <!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>\n <!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'>\n]>\n"
        b"<domain type='kvm'><name>&c;</name></domain>\n", 2, "DOCTYPE declarations are refused"),
    "external-entity": (None, 2, "DOCTYPE declarations are refused"),
    "external-dtd": (None, 1, "DOCTYPE declarations are refused"),
    "empty": (b"", 1, "file is empty"),
    "blank": (b"\n\n   \n", 1, "file is empty"),
    "nul-byte": (b"<domain type='kvm'>\n<name>a\x00b</name></domain>\n", 2, "NUL byte"),
    "invalid-utf8": (b"<domain type='kvm'>\n<name>\xff\xfe\xfa</name></domain>\n", 2, "not well-formed"),
}


def _content(kind: str, tmp_path: Path) -> bytes:
    data = BROKEN[kind][0]
    if data is not None:
        return data
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    if kind == "external-entity":
        return (f"<?xml version='1.0'?>\n<!DOCTYPE domain [<!ENTITY x SYSTEM 'file://{secret}'>]>\n"
                f"<domain type='kvm'><name>&x;</name></domain>\n").encode()
    return f"<!DOCTYPE domain SYSTEM '{secret}'>\n<domain type='kvm'><name>x</name></domain>\n".encode()


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_broken_xml(kind: str, tmp_path: Path) -> None:
    bad = tmp_path / f"{kind}.xml"
    bad.write_bytes(_content(kind, tmp_path))
    good = REPO / "examples" / "guest-bad.xml"
    proc = run_cli("check", str(bad), str(good))
    _, line, message = BROKEN[kind]
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"{bad}:{line}: " in proc.stderr and message in proc.stderr, proc.stderr
    # The other file was still checked.
    assert "[disk-ide-readonly]" in proc.stdout
    assert SECRET not in proc.stdout + proc.stderr


def test_missing_file_and_other_still_checked(tmp_path: Path) -> None:
    proc = run_cli("check", str(tmp_path / "nope.xml"), str(REPO / "examples" / "guest-bad.xml"))
    assert proc.returncode == 2
    assert "nope.xml: no such file or directory" in proc.stderr
    assert "[disk-lun-not-block]" in proc.stdout


def test_utf16_with_bom_is_accepted(tmp_path: Path) -> None:
    text = (REPO / "examples" / "guest-bad.xml").read_text()
    f = tmp_path / "utf16.xml"
    f.write_bytes(text.encode("utf-16"))
    proc = run_cli("check", str(f))
    assert proc.returncode == 1, proc.stderr
    assert f"{f}:17:5: error [disk-ide-readonly]" in proc.stdout


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    from domlint.parse import MAX_BYTES

    f = tmp_path / "big.xml"
    f.write_bytes(b"<domain>" + b" " * MAX_BYTES + b"</domain>")
    proc = run_cli("check", str(f))
    assert proc.returncode == 2
    assert "over the" in proc.stderr and "byte limit" in proc.stderr


@pytest.mark.parametrize(("devices", "top", "where"), [
    ("<disk type='file'><source file='/x'/><target dev='sda' bus='scsi'/>"
     "<address type='drive' controller='99999999999999999999999999999' bus='0' target='0' unit='0'/></disk>", "",
     "scsi drive address controller"),
    ("<hostdev mode='subsystem' type='scsi'><source><adapter name='scsi_host0'/><address bus='0' target='0' unit='0'/>"
     "</source><address type='drive' controller='5000' bus='0' target='0' unit='0'/></hostdev>", "",
     "SCSI host device controller"),
])
def test_numbers_that_would_imply_endless_devices_are_refused(devices: str, top: str, where: str,
                                                              tmp_path: Path) -> None:
    f = tmp_path / "big.xml"
    f.write_text(f"<domain type='qemu'><name>a</name><memory>1024</memory><os><type arch='x86_64'>hvm</type></os>{top}"
                 f"<devices>{devices}</devices></domain>")
    proc = run_cli("check", str(f))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"{f}:1: {where}" in proc.stderr and "domlint models" in proc.stderr


@pytest.mark.parametrize("xml", [
    "<domain type='qemu'><name>a</name><memory>1024</memory><iothreads>99999999999999999999</iothreads>"
    "<os><type arch='x86_64'>hvm</type></os><devices/></domain>",
    "<domain type='qemu'><name>a</name><memory>1024</memory><os><type arch='x86_64'>hvm</type></os><devices>"
    "<interface type='bridge'><source bridge='br0'/><model type='virtio'/><driver queues='99999999999'/></interface>"
    "</devices></domain>",
])
def test_emitter_refuses_counts_it_would_loop_on(xml: str) -> None:
    with pytest.raises(domlint.InputError, match="domlint models"):
        domlint.emit(xml, caps=["iothread", "device", "netdev", "vhost-net"])
