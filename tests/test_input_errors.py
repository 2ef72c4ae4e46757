"""Unusable input: a one-line message with file and line, exit 2, no traceback, others still checked."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, run_cli

import domlint
from domlint.caps import newest_profile

SECRET = "TOP-SECRET-CONTENT-4711"

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
    assert f"over the {MAX_BYTES}-byte (10 MiB) size limit" in proc.stderr


@pytest.mark.parametrize(("devices", "top", "where"), [
    ("<disk type='file'><source file='/x'/><target dev='sda' bus='scsi'/>"
     "<address type='drive' controller='4294967295' bus='0' target='0' unit='0'/></disk>", "",
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
    "<domain type='qemu'><name>a</name><memory>1024</memory><iothreads>4294967295</iothreads>"
    "<os><type arch='x86_64'>hvm</type></os><devices/></domain>",
    "<domain type='qemu'><name>a</name><memory>1024</memory><os><type arch='x86_64'>hvm</type></os><devices>"
    "<interface type='bridge'><source bridge='br0'/><model type='virtio'/><driver queues='4294967295'/></interface>"
    "</devices></domain>",
])
def test_emitter_refuses_counts_it_would_loop_on(xml: str) -> None:
    with pytest.raises(domlint.InputError, match="domlint models"):
        domlint.emit(xml, caps=["iothread", "device", "netdev", "vhost-net"])


# --- Hostile input: every kind through the CLI, with a good file beside it ---------------------------

GOOD = REPO / "examples" / "guest-bad.xml"
GOOD_MARK = "[disk-ide-readonly]"
DOMAIN_TEXT = GOOD.read_text()
DEEP = 100_000


def _xxe(secret: Path) -> bytes:
    return (f"<?xml version='1.0'?>\n<!DOCTYPE domain [<!ENTITY x SYSTEM 'file://{secret}'>]>\n"
            f"<domain type='kvm'><name>&x;</name></domain>\n").encode()


# kind -> (content from the secret file's path, line of the error, what the message says)
HOSTILE: dict[str, tuple[object, int, str]] = {
    "xxe-file": (_xxe, 2, "DOCTYPE declarations are refused"),
    "parameter-entity": (lambda s: (f"<?xml version='1.0'?>\n<!DOCTYPE domain [\n<!ENTITY % p SYSTEM '{s}'>\n%p;\n]>\n"
                                    "<domain type='kvm'><name>x</name></domain>\n").encode(), 2,
                         "DOCTYPE declarations are refused"),
    "external-dtd-system": (lambda s: f"<?xml version='1.0'?>\n\n<!DOCTYPE domain SYSTEM '{s}'>\n<domain/>\n".encode(),
                            3, "DOCTYPE declarations are refused"),
    "external-dtd-public": (lambda s: (f"<!DOCTYPE domain PUBLIC '-//domlint//x' 'file://{s}'>\n"
                                       "<domain type='kvm'><name>x</name></domain>\n").encode(),
                            1, "DOCTYPE declarations are refused"),
    "utf16-xxe": (lambda s: _xxe(s).decode().encode("utf-16"), 2, "DOCTYPE declarations are refused"),
    "billion-laughs": (lambda s: (
        "<?xml version='1.0'?>\n<!DOCTYPE domain [\n <!ENTITY l0 'ha'>\n"
        + "".join(f" <!ENTITY l{i} '{('&l' + str(i - 1) + ';') * 10}'>\n" for i in range(1, 10))
        + "]>\n<domain type='kvm'><name>&l9;</name></domain>\n").encode(), 2, "DOCTYPE declarations are refused"),
    "nesting-100000": (lambda s: ("<domain type='kvm'>\n<devices>" + "<a>" * DEEP + "</a>" * DEEP
                                  + "</devices></domain>\n").encode(), 2, "nested deeper than 256 levels"),
    "invalid-utf8": (lambda s: b"<domain type='kvm'>\n<name>\xff\xfe\xfa</name></domain>\n", 2, "not well-formed"),
    "invalid-utf8-in-attribute": (lambda s: b"<domain type='kvm'>\n\n<name a='\xc3\x28'>x</name></domain>\n", 3,
                                  "not well-formed"),
    "nul-raw": (lambda s: b"<domain type='kvm'>\n<name>a\x00b</name></domain>\n", 2, "NUL byte"),
    "nul-reference": (lambda s: b"<domain type='kvm'>\n<name>a&#0;b</name></domain>\n", 2, "not well-formed"),
    "nul-hex-reference": (lambda s: b"<domain type='kvm'>\n\n<name>a&#x0;b</name></domain>\n", 3, "not well-formed"),
    "root-network": (lambda s: b"<?xml version='1.0'?>\n<network><name>n</name></network>\n", 2,
                     "root element is <network>, expected <domain>"),
    "root-disk": (lambda s: b"<disk type='file'><source file='/a'/><target dev='vda'/></disk>\n", 1,
                  "root element is <disk>, expected <domain>"),
    "namespaced-domain": (lambda s: b"<domain xmlns='urn:x' type='kvm'><name>x</name></domain>\n", 1,
                          "root element is <{urn:x}domain>"),
    "not-well-formed": (lambda s: b"<domain type='kvm'>\n  <name>x</name>\n  <devices>\n</domain>\n", 4,
                        "not well-formed"),
    "empty": (lambda s: b"", 1, "file is empty"),
    "blank": (lambda s: b"\n\n   \n", 1, "file is empty"),
    "unknown-encoding": (lambda s: b"<?xml version='1.0' encoding='x-no-such'?>\n<domain/>\n", 1, "not well-formed"),
}


def _write_hostile(kind: str, tmp_path: Path) -> tuple[Path, int, str]:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    build, line, message = HOSTILE[kind]
    bad = tmp_path / f"{kind}.xml"
    bad.write_bytes(build(secret))  # type: ignore[operator]
    return bad, line, message


def _assert_one_line_error(proc: object, bad: Path, line: int | None, message: str) -> None:
    stderr: str = proc.stderr  # type: ignore[attr-defined]
    assert proc.returncode == 2, stderr  # type: ignore[attr-defined]
    assert "Traceback" not in stderr and "RecursionError" not in stderr
    mine = [ln for ln in stderr.splitlines() if ln.startswith(str(bad))]
    assert len(mine) == 1, stderr
    where = f"{bad}:{line}: " if line else f"{bad}: "
    assert mine[0].startswith(where) and message in mine[0], stderr
    assert SECRET not in stderr + proc.stdout  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """One `check` over every hostile file, the good file last (one process keeps the suite fast)."""
    tmp = tmp_path_factory.mktemp("hostile")
    bad = [_write_hostile(kind, tmp)[0] for kind in sorted(HOSTILE)]
    # A module fixture runs before the per-test target is set: name the suite's default target itself.
    return tmp, run_cli("check", *map(str, bad), str(GOOD), env={"DOMLINT_LIBVIRT": "1.2.8"})


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_input_refused_and_the_other_file_checked(
        kind: str, hostile_run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    tmp, proc = hostile_run
    _, line, message = HOSTILE[kind]
    _assert_one_line_error(proc, tmp / f"{kind}.xml", line, message)
    assert GOOD_MARK in proc.stdout


SECRET_KINDS = ["xxe-file", "parameter-entity", "external-dtd-system", "external-dtd-public", "utf16-xxe"]


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit", "github"])
def test_secret_never_shown_in_any_format(fmt: str, tmp_path: Path) -> None:
    bad = [_write_hostile(kind, tmp_path)[0] for kind in SECRET_KINDS]
    proc = run_cli("check", "--format", fmt, *map(str, bad), str(GOOD))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert SECRET not in proc.stdout + proc.stderr
    # Each unusable file is reported (in the format, or on stderr), and the good file's findings too.
    for path in bad:
        assert path.name in proc.stdout + proc.stderr
    assert "disk-ide-readonly" in proc.stdout


@pytest.mark.parametrize("kind", ["xxe-file", "billion-laughs", "root-disk"])
def test_argv_refuses_hostile_domain(kind: str, tmp_path: Path) -> None:
    bad, line, message = _write_hostile(kind, tmp_path)
    proc = run_cli("argv", str(bad))
    _assert_one_line_error(proc, bad, line, message)
    assert proc.stdout == ""


@pytest.mark.parametrize("kind", ["xxe-file", "nul-raw"])
def test_attach_check_refuses_hostile_domain_and_device(kind: str, tmp_path: Path) -> None:
    bad, line, message = _write_hostile(kind, tmp_path)
    # A hostile device beside a good domain, then hostile both: both files are always read and judged.
    proc = run_cli("attach-check", str(GOOD), str(bad))
    _assert_one_line_error(proc, bad, line, message)
    twin = tmp_path / "twin.xml"
    twin.write_bytes(bad.read_bytes())
    both = run_cli("attach-check", str(bad), str(twin))
    assert both.returncode == 2, both.stderr
    assert f"{bad}:{line}: " in both.stderr and f"{twin}:{line}: " in both.stderr


def test_xinclude_is_not_processed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    f = tmp_path / "xi.xml"
    f.write_text(f"<domain type='kvm' xmlns:xi='http://www.w3.org/2001/XInclude'><name>x</name><memory>1024</memory>"
                 f"<os><type arch='x86_64'>hvm</type></os><description><xi:include href='{secret}' parse='text'/>"
                 f"</description></domain>\n")
    for args in (("check", "--format", "json"), ("argv",)):
        proc = run_cli(*args, str(f))
        assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, proc.stderr
        assert SECRET not in proc.stdout + proc.stderr


def test_nothing_is_opened_or_fetched(tmp_path: Path) -> None:
    """Entity and DTD targets a parser would block on (a FIFO) or connect to (a listening socket)."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        listener.setblocking(False)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/x.dtd"
        docs = {
            "entity-fifo": f"<!DOCTYPE domain [<!ENTITY x SYSTEM '{fifo}'>]><domain><name>&x;</name></domain>",
            "pe-fifo": f"<!DOCTYPE domain [<!ENTITY % p SYSTEM '{fifo}'> %p;]><domain/>",
            "dtd-fifo": f"<!DOCTYPE domain SYSTEM '{fifo}'><domain/>",
            "dtd-url": f"<!DOCTYPE domain PUBLIC '-//x//y' '{url}'><domain/>",
            "pe-url": f"<!DOCTYPE domain [<!ENTITY % p SYSTEM '{url}'> %p;]><domain/>",
            "entity-url": f"<!DOCTYPE domain [<!ENTITY x SYSTEM '{url}'>]><domain><name>&x;</name></domain>",
        }
        paths = []
        for name, text in docs.items():
            paths.append(tmp_path / f"{name}.xml")
            paths[-1].write_text(text)
        # Opening the FIFO would block for ever: the hang guard is the only timeout here.
        proc = subprocess.run([sys.executable, "-m", "domlint", "check", *map(str, paths), str(GOOD)],
                              capture_output=True, text=True, timeout=60, cwd=REPO,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
        with pytest.raises(BlockingIOError):
            listener.accept()
    assert proc.returncode == 2 and GOOD_MARK in proc.stdout
    for path in paths:
        assert f"{path}:1: DOCTYPE declarations are refused" in proc.stderr


# The child sets its own address-space limit once domlint and its rules are loaded, then runs
# the CLI: a parser that expanded a bomb or read a huge file whole would fail with MemoryError.
_LIMITED = """
import resource, sys
from domlint.cli import main
from domlint.api import check
check(sys.argv[2])
with open("/proc/self/status") as fh:
    vm = next(int(ln.split()[1]) * 1024 for ln in fh if ln.startswith("VmSize:"))
resource.setrlimit(resource.RLIMIT_AS, (vm + int(sys.argv[1]) * 2**20,) * 2)
sys.exit(main(sys.argv[3:]))
"""


def run_limited(*args: str, headroom_mib: int = 100) -> subprocess.CompletedProcess[str]:
    """The CLI under an address-space limit of its loaded size plus headroom_mib (a hang guard only)."""
    return subprocess.run([sys.executable, "-c", _LIMITED, str(headroom_mib), str(GOOD), *args],
                          capture_output=True, text=True, timeout=60, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


def test_bombs_and_huge_files_stay_within_memory(tmp_path: Path) -> None:
    """Entity bombs, deep nesting, a sparse 100 MB file and an endless stream, in one limited process."""
    from domlint.parse import MAX_BYTES

    expect: list[tuple[Path, int | None, str]] = [_write_hostile(kind, tmp_path)
                                                  for kind in ("billion-laughs", "nesting-100000")]
    quadratic = tmp_path / "quadratic.xml"
    quadratic.write_text(f"<!DOCTYPE domain [<!ENTITY b '{'x' * 100_000}'>]>\n"
                         f"<domain><name>{'&b;' * 20_000}</name></domain>\n")
    expect.append((quadratic, 1, "DOCTYPE declarations are refused"))
    big = tmp_path / "big.xml"
    with open(big, "wb") as fh:
        fh.write(b"<domain type='kvm'><name>")
        fh.truncate(100 * 2**20)  # sparse: no 100 MB written to the disk
    expect.append((big, None, f"file is {100 * 2**20} bytes, over the {MAX_BYTES}-byte"))
    expect.append((Path("/dev/zero"), None, "file is more than that, over the"))
    # 50 MiB of headroom: expanding a bomb or reading the big file whole would not fit.
    proc = run_limited("check", *(str(p) for p, _, _ in expect), str(GOOD), headroom_mib=50)
    for path, line, message in expect:
        _assert_one_line_error(proc, path, line, message)
    assert GOOD_MARK in proc.stdout


def _deep(n: int) -> str:
    return "<x>" * n + "</x>" * n


def test_deepest_accepted_nesting_goes_through_every_command(tmp_path: Path) -> None:
    """240 levels is within libxml2's limit: normalise, rules, argv and attach-check must not recurse."""
    deep = _deep(240)
    parts = {"metadata": (f"<metadata>{deep}</metadata>", ""),
             "disk": ("", f"<disk type='file'><source file='/a'/><target dev='vda'/>{deep}</disk>"),
             "devices": ("", deep), "numa": (f"<cpu><numa><cell id='0' cpus='0' memory='1024'>{deep}</cell></numa></cpu>", "")}
    domains = []
    for where, (top, devices) in parts.items():
        domains.append(tmp_path / f"{where}.xml")
        domains[-1].write_text(f"<domain type='kvm'><name>d</name><memory>1024</memory><os><type arch='x86_64' "
                               f"machine='pc'>hvm</type></os>{top}<devices>{devices}</devices></domain>\n")
        assert domlint.emit(domains[-1], caps=newest_profile("1.2.8"), libvirt="1.2.8").words()
    dev = tmp_path / "dev.xml"
    dev.write_text(f"<disk type='file'><source file='/b'/><target dev='vdb'/>{deep}</disk>\n")
    for args in (("check", *map(str, domains)), ("normalize", str(domains[1])),
                 ("attach-check", str(domains[1]), str(dev))):
        proc = run_cli(*args)
        assert proc.returncode == 0, (args, proc.stderr)
        assert "Traceback" not in proc.stderr


# --- Encodings libxml2 (and so libvirt) accepts ----------------------------------------------------

def _utf16(text: str, codec: str, bom: bytes) -> bytes:
    decl = "<?xml version='1.0' encoding='UTF-16'?>\n"
    return bom + (decl + text).encode(codec)


@pytest.mark.parametrize(("name", "data"), [
    ("utf16-le-bom", b"\xff\xfe" + DOMAIN_TEXT.encode("utf-16-le")),
    ("utf16-be-bom", b"\xfe\xff" + DOMAIN_TEXT.encode("utf-16-be")),
    ("utf16-le-bom-decl", _utf16(DOMAIN_TEXT, "utf-16-le", b"\xff\xfe")),
    ("utf16-le-decl-no-bom", _utf16(DOMAIN_TEXT, "utf-16-le", b"")),
    ("utf16-be-decl-no-bom", _utf16(DOMAIN_TEXT, "utf-16-be", b"")),
    ("utf8-bom", b"\xef\xbb\xbf" + DOMAIN_TEXT.encode()),
    ("latin1-decl", ("<?xml version='1.0' encoding='ISO-8859-1'?>\n" + DOMAIN_TEXT).encode("latin-1")),
])
def test_encodings_libxml2_accepts(name: str, data: bytes, tmp_path: Path) -> None:
    f = tmp_path / f"{name}.xml"
    f.write_bytes(data)
    shift = 1 if b"<\x00?\x00" in data[:6] or b"\x00<\x00?" in data[:6] or data.startswith(b"<?xml") else 0
    proc = run_cli("check", str(f), str(GOOD))
    assert proc.returncode == 1, proc.stderr
    # Same findings, same lines and columns as the UTF-8 original (one line lower under a declaration).
    assert f"{f}:{17 + shift}:5: error [disk-ide-readonly]" in proc.stdout
    assert proc.stdout.count("[disk-ide-readonly]") == 2


def test_utf16_without_bom_or_declaration_is_refused(tmp_path: Path) -> None:
    """libxml2 recognises UTF-16 without a BOM only from '<?xml': bare '<d' reads as UTF-8 with NULs."""
    f = tmp_path / "bare-utf16.xml"
    f.write_bytes(DOMAIN_TEXT.encode("utf-16-le"))
    proc = run_cli("check", str(f), str(GOOD))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"{f}:1: ") and GOOD_MARK in proc.stdout


# --- attach-check: the device file's root ------------------------------------------------------------

@pytest.mark.parametrize(("root", "message"), [
    ("<domain type='kvm'><name>x</name></domain>", "this is a whole domain"),
    ("<frobnicator/>", "<frobnicator> is not a device attach-device --config accepts"),
    ("<network><name>n</name></network>", "<network> is not a device"),
])
def test_attach_check_device_root(root: str, message: str, tmp_path: Path) -> None:
    dev = tmp_path / "dev.xml"
    dev.write_text("<?xml version='1.0'?>\n" + root + "\n")
    proc = run_cli("attach-check", str(GOOD), str(dev))
    _assert_one_line_error(proc, dev, 2, message)


def test_attach_check_device_given_as_domain(tmp_path: Path) -> None:
    dev = tmp_path / "dev.xml"
    dev.write_text("<disk type='file'><source file='/b'/><target dev='vdb'/></disk>\n")
    proc = run_cli("attach-check", str(dev), str(dev))
    _assert_one_line_error(proc, dev, 1, "root element is <disk>, expected <domain>")
