"""Numbers in odd spellings, wherever the rules, normalisation or the emitter read one.

Each field names the libvirt 1.2.8 reader of that attribute or element (read from
src/conf/domain_conf.c and src/util/virstring.c). For every sample spelling the
reader's outcome is written out below by hand: refused, or the number libvirt stores.
A refused spelling must give an input error (or a finding) on the field's line; an
accepted one must give exactly the verdict and command line of the plain number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

import domlint
from domlint import numbers
from domlint.caps import newest_profile
from domlint.host import default_host

R = None  # libvirt refuses the domain
ABSENT = -1  # what a virXPath reader makes of empty text: as if the field were not there
THIRTY = "1" * 30
SAMPLES = ("+5", "-5", " 5", "5 ", "0x10", "010", "1e3", THIRTY, "", "abc")

# What each of libvirt's readers stores for each sample (strtol semantics; see numbers.py's docstring).
OUTCOMES: dict[str, dict[str, int | None]] = {
    # virStrToLong_ui, base 10: '-5' wraps around to UINT_MAX - 4.
    "ui10": {"+5": 5, "-5": 2**32 - 5, " 5": 5, "5 ": R, "0x10": R, "010": 10, "1e3": R, THIRTY: R, "": R,
             "abc": R},
    # virStrToLong_ui, base 0: C prefixes.
    "ui0": {"+5": 5, "-5": 2**32 - 5, " 5": 5, "5 ": R, "0x10": 16, "010": 8, "1e3": R, THIRTY: R, "": R,
            "abc": R},
    # virStrToLong_uip, base 10: no minus sign at all.
    "uip10": {"+5": 5, "-5": R, " 5": 5, "5 ": R, "0x10": R, "010": 10, "1e3": R, THIRTY: R, "": R, "abc": R},
    # virStrToLong_uip, base 0.
    "uip0": {"+5": 5, "-5": R, " 5": 5, "5 ": R, "0x10": 16, "010": 8, "1e3": R, THIRTY: R, "": R, "abc": R},
    # virStrToLong_i, base 0.
    "i0": {"+5": 5, "-5": -5, " 5": 5, "5 ": R, "0x10": 16, "010": 8, "1e3": R, THIRTY: R, "": R, "abc": R},
    # virStrToLong_i, base 10.
    "i10": {"+5": 5, "-5": -5, " 5": 5, "5 ": R, "0x10": R, "010": 10, "1e3": R, THIRTY: R, "": R, "abc": R},
    # virXPathULong(Long) on string(...): empty text counts as absent.
    "xull10": {"+5": 5, "-5": 2**64 - 5, " 5": 5, "5 ": R, "0x10": R, "010": 10, "1e3": R, THIRTY: R, "": ABSENT,
               "abc": R},
    # virXPathULongLong where the field is required (<memory>, a hugepage size): empty text is refused.
    "xull10req": {"+5": 5, "-5": 2**64 - 5, " 5": 5, "5 ": R, "0x10": R, "010": 10, "1e3": R, THIRTY: R, "": R,
                  "abc": R},
    # virXPathLongLong on string(...).
    "xll10": {"+5": 5, "-5": -5, " 5": 5, "5 ": R, "0x10": R, "010": 10, "1e3": R, THIRTY: R, "": ABSENT, "abc": R},
    # virStrToLong_ll, base 10 (a utc clock's adjustment).
    "ll10": {"+5": 5, "-5": -5, " 5": 5, "5 ": R, "0x10": R, "010": 10, "1e3": R, THIRTY: R, "": R, "abc": R},
    # virXPathUInt: an unsigned long that must fit an unsigned int, so '-5' (2**64 - 5) is refused.
    "xui10": {"+5": 5, "-5": R, " 5": 5, "5 ": R, "0x10": R, "010": 10, "1e3": R, THIRTY: R, "": ABSENT, "abc": R},
    # virXPathUInt where any failure is an error (disk geometry, spinlock retries): empty text too.
    "xui10req": {"+5": 5, "-5": R, " 5": 5, "5 ": R, "0x10": R, "010": 10, "1e3": R, THIRTY: R, "": R, "abc": R},
    # virXPathUInt where a failure leaves 0 (<blkiotune> weight).
    "xui10or0": {"+5": 5, "-5": 0, " 5": 5, "5 ": 0, "0x10": 0, "010": 10, "1e3": 0, THIRTY: 0, "": 0, "abc": 0},
    # virXPathULong cast to an unsigned int (CPU topology): '-5' keeps its low 32 bits.
    "xul10cut": {"+5": 5, "-5": 2**32 - 5, " 5": 5, "5 ": R, "0x10": R, "010": 10, "1e3": R, THIRTY: R, "": R,
                 "abc": R},
    # virXPathLongLong on number(...): libxml2's XPath number, 0 unless whole (a variable clock's adjustment).
    "xnum": {"+5": 0, "-5": -5, " 5": 5, "5 ": 5, "0x10": 0, "010": 10, "1e3": 1000, THIRTY: 0, "": 0, "abc": 0},
    # virStrToLong_ui and _ull, base 16 (ISA iobase, spapr-vio reg): '010' and '1e3' are hexadecimal.
    "ui16": {"+5": 5, "-5": 2**32 - 5, " 5": 5, "5 ": R, "0x10": 16, "010": 16, "1e3": 0x1E3, THIRTY: R, "": R,
             "abc": 0xABC},
    "ull16": {"+5": 5, "-5": 2**64 - 5, " 5": 5, "5 ": R, "0x10": 16, "010": 16, "1e3": 0x1E3, THIRTY: R, "": R,
              "abc": 0xABC},
}

# The field always sits on line 2, apart from what the rules find on line 1.
HEAD = "<domain type='kvm'><name>n</name>{memory}{vcpu}<os>{os_type}</os>\n{top}" \
       "<devices>{devices}</devices></domain>"
OS_TYPE = "<type arch='x86_64' machine='pc'>hvm</type>"
LINE = 2
_FIELD = re.compile(r" [A-Za-z_]+='\{\}'|<([a-z_0-9]+)[^>]*>\{\}</\1>")


@dataclass(frozen=True)
class Case:
    """One numeric field: the domain it sits in ({} marks the value), its libvirt reader and bounds."""

    name: str
    reader: str
    top: str = ""
    devices: str = ""
    lo: int | None = None
    hi: int | None = None
    # libvirt reads the field in hexadecimal: the plain spelling of a number is 0x...
    hex: bool = False
    # A value libvirt accepts, to tell a refusal from the field's usual verdict.
    ok: str = "1"

    def plain(self, stored: int) -> str | None:
        """The field's plain spelling of a stored number (None: without the field)."""
        if stored == ABSENT:
            return None
        return hex(stored) if self.hex else str(stored)

    def xml(self, value: str | None) -> str:
        """The sample domain with the field set to value (None: without the field)."""
        def put(template: str) -> str:
            return _FIELD.sub("", template) if value is None else template.replace("{}", value)
        top = put(self.top)
        vcpu = "" if "<vcpu" in self.top else "<vcpu>4</vcpu>"
        memory = "" if "<memory " in self.top else "<memory>1048576</memory>"
        if "<os>" in top:
            # The field's <os> is the only one, on line 2.
            return HEAD.format(memory=memory, vcpu=vcpu, os_type="", top=top.replace("<os>", "<os>" + OS_TYPE),
                               devices=put(self.devices)).replace("<os></os>", "")
        return HEAD.format(memory=memory, vcpu=vcpu, os_type=OS_TYPE, top=top, devices=put(self.devices))

    def stored(self, sample: str) -> int | None:
        """What libvirt stores for sample (None: it refuses the domain; ABSENT: it ignores the field)."""
        value = OUTCOMES[self.reader][sample]
        if value is None or value == ABSENT:
            return value
        if (self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi):
            return None
        return value


SCSI_DISK = "<disk type='file' device='disk'><source file='/a'/><target dev='sda' bus='scsi'/>{addr}</disk>"
DRIVE = "<address type='drive' controller='{c}' bus='{b}' target='{t}' unit='{u}'/>"
PCI_NIC = "<interface type='network'><source network='default'/><model type='virtio'/>" \
          "<address type='pci' domain='0x0000' bus='{b}' slot='{s}' function='{f}'/></interface>"
VNC = "<graphics type='vnc' port='{p}' autoport='no' websocket='{w}'/>"

# One line per field: adding a field is adding a line.
CASES = (
    Case("drive controller", "ui10", devices=SCSI_DISK.format(addr=DRIVE.format(c="{}", b=0, t=0, u=0))),
    Case("drive bus", "ui10", devices=SCSI_DISK.format(addr=DRIVE.format(c=0, b="{}", t=0, u=0))),
    Case("drive target", "ui10", devices=SCSI_DISK.format(addr=DRIVE.format(c=0, b=0, t="{}", u=0))),
    Case("drive unit", "ui10", devices=SCSI_DISK.format(addr=DRIVE.format(c=0, b=0, t=0, u="{}"))),
    Case("pci slot", "ui0", devices=PCI_NIC.format(b="0x00", s="{}", f="0x0")),
    Case("pci bus", "ui0", devices=PCI_NIC.format(b="{}", s="0x05", f="0x0")),
    Case("pci function", "ui0", devices=PCI_NIC.format(b="0x00", s="0x05", f="{}")),
    Case("scsi controller queues", "ui10",
         devices="<controller type='scsi' index='0' model='virtio-scsi'><driver queues='{}'/></controller>"),
    Case("lsi controller queues", "ui10",
         devices="<controller type='scsi' index='0' model='lsilogic'><driver queues='{}'/></controller>"),
    Case("interface queues", "ui10",
         devices="<interface type='network'><source network='default'/><model type='virtio'/>"
                 "<driver name='vhost' queues='{}'/></interface>"),
    Case("disk iothread", "uip10", top="<iothreads>8</iothreads>",
         devices="<disk type='file'><source file='/a'/><target dev='vda' bus='virtio'/>"
                 "<driver name='qemu' iothread='{}'/></disk>"),
    Case("iothreads", "uip10", top="<iothreads>{}</iothreads>"),
    Case("iotune", "xull10",
         devices="<disk type='file'><source file='/a'/><target dev='vda'/><iotune><total_bytes_sec>{}"
                 "</total_bytes_sec></iotune></disk>"),
    Case("video vram", "ui10", devices="<video><model type='qxl' vram='{}' heads='1'/></video>"),
    Case("vnc port", "i10", devices=VNC.format(p="{}", w="-1")),
    Case("vnc websocket", "i10", devices=VNC.format(p="5905", w="{}")),
    Case("spice tlsPort", "i10", devices="<graphics type='spice' port='5903' tlsPort='{}' autoport='no'/>"),
    Case("cputune quota", "xll10", top="<cputune><quota>{}</quota></cputune>"),
    Case("cputune period", "xull10", top="<cputune><period>{}</period></cputune>"),
    Case("cputune emulator_quota", "xll10", top="<cputune><emulator_quota>{}</emulator_quota></cputune>"),
    Case("vcpu current", "xull10", top="<vcpu current='{}'>8</vcpu>", lo=1, hi=8),
    Case("boot order", "i10", lo=1,
         devices="<disk type='file'><source file='/a'/><target dev='vda'/><boot order='{}'/></disk>"),
    Case("ccid slot", "ui10",
         devices="<smartcard mode='host'><address type='ccid' controller='0' slot='{}'/></smartcard>"),
    Case("virtio-serial port", "ui10",
         devices="<channel type='pty'><target type='virtio' name='a.b'/>"
                 "<address type='virtio-serial' controller='0' bus='0' port='{}'/></channel>"),
    # Rules report these when malformed (a finding on the line); normalisation respells the rest.
    Case("controller index", "ui10", hi=2**31 - 1,
         devices="<controller type='scsi' index='{}' model='virtio-scsi'/>"),
    # Sizes: the bytes must stay within LLONG_MAX.
    Case("memory", "xull10req", top="<memory unit='KiB'>{}</memory>", hi=(2**63 - 1) // 1024),
    Case("memory in EiB", "xull10req", top="<memory unit='EiB'>{}</memory>", hi=7),
    Case("memtune hard_limit", "xull10", top="<memtune><hard_limit unit='KiB'>{}</hard_limit></memtune>",
         hi=(2**63 - 1) // 1024),
    Case("hugepage size", "xull10req", hi=(2**63 - 1) // 2**20, top="<memoryBacking><hugepages><page size='{}' unit='MiB'/>"
                                                "</hugepages></memoryBacking>"),
    Case("vcpu", "xull10", top="<vcpu>{}</vcpu>", lo=1, hi=65535),
    Case("bios rebootTimeout", "i0", lo=-1, hi=65535, top="<os><bios rebootTimeout='{}'/></os>"),
    Case("bootmenu timeout", "uip0", hi=65535, top="<os><bootmenu enable='yes' timeout='{}'/></os>"),
    Case("numa cell id", "uip10", top="<cpu><numa><cell id='{}' cpus='0-3' memory='1048576'/></numa></cpu>"),
    Case("numa cell memory", "ui10", top="<cpu><numa><cell id='0' cpus='0-3' memory='{}'/></numa></cpu>"),
    Case("cpu topology sockets", "xul10cut", lo=1, top="<cpu><topology sockets='{}' cores='1' threads='1'/></cpu>"),
    # Other address types.
    Case("ccw devno", "ui0", hi=0xFFFF, devices="<disk type='file'><source file='/a'/><target dev='vda' bus='virtio'/>"
                                               "<address type='ccw' cssid='0xfe' ssid='0' devno='{}'/></disk>"),
    Case("ccw ssid", "ui0", hi=3, devices="<disk type='file'><source file='/a'/><target dev='vda' bus='virtio'/>"
                                         "<address type='ccw' cssid='0xfe' ssid='{}' devno='0x0001'/></disk>"),
    Case("usb address bus", "ui10", devices="<input type='tablet' bus='usb'><address type='usb' bus='{}' port='1'/></input>"),
    Case("isa iobase", "ui16", hex=True, devices="<panic><address type='isa' iobase='{}'/></panic>"),
    Case("spapr-vio reg", "ull16", hex=True, devices="<nvram><address type='spapr-vio' reg='{}'/></nvram>"),
    # Host device sources.
    Case("host pci slot", "ui0", devices="<hostdev mode='subsystem' type='pci' managed='yes'><source>"
                                         "<address domain='0x0000' bus='0x06' slot='{}' function='0x0'/></source></hostdev>"),
    Case("host usb device", "ui0", devices="<hostdev mode='subsystem' type='usb'><source>"
                                           "<address bus='1' device='{}'/></source></hostdev>"),
    Case("host usb vendor", "ui0", devices="<hostdev mode='subsystem' type='usb'><source><vendor id='{}'/>"
                                           "<product id='0x0001'/></source></hostdev>"),
    Case("host scsi unit", "ui0", devices="<hostdev mode='subsystem' type='scsi'><source><adapter name='scsi_host0'/>"
                                          "<address bus='0' target='0' unit='{}'/></source></hostdev>"),
    # Controllers, disks, video, NICs, character devices, memballoon, RNG, USB redirection.
    Case("virtio-serial ports", "i10", lo=0, devices="<controller type='virtio-serial' index='0' ports='{}'/>"),
    Case("usb master startport", "ui10",
         devices="<controller type='usb' index='0' model='ich9-ehci1'/>"
                 "<controller type='usb' index='0' model='ich9-uhci1'><master startport='{}'/></controller>"),
    Case("pcihole64", "xull10", hi=(2**64 - 1024) // 1024,
         devices="<controller type='pci' index='0' model='pci-root'><pcihole64 unit='KiB'>{}</pcihole64></controller>"),
    Case("disk geometry heads", "xui10req",
         devices="<disk type='file'><source file='/a'/><target dev='hda'/><geometry cyls='16383' heads='{}' secs='63'/>"
                 "</disk>"),
    Case("disk blockio", "ui0", devices="<disk type='file'><source file='/a'/><target dev='vda'/>"
                                        "<blockio logical_block_size='{}'/></disk>"),
    Case("video heads", "ui10", devices="<video><model type='qxl' heads='{}'/></video>"),
    Case("interface source port", "i10",
         devices="<interface type='server'><source address='192.168.0.1' port='{}'/></interface>"),
    Case("interface sndbuf", "xull10", devices="<interface type='network'><source network='default'/>"
                                               "<tune><sndbuf>{}</sndbuf></tune></interface>"),
    Case("serial target port", "ui10", devices="<serial type='pty'><target port='{}'/></serial>"),
    Case("guestfwd port", "ui10",
         devices="<channel type='pty'><target type='guestfwd' address='10.0.2.1' port='{}'/></channel>"),
    Case("filesystem space_hard_limit", "xull10",
         devices="<filesystem type='mount'><source dir='/a'/><target dir='b'/>"
                 "<space_hard_limit unit='bytes'>{}</space_hard_limit></filesystem>"),
    Case("memballoon stats period", "xui10", devices="<memballoon model='virtio'><stats period='{}'/></memballoon>"),
    Case("rng rate bytes", "xui10", devices="<rng model='virtio'><rate bytes='{}'/>"
                                            "<backend model='random'>/dev/random</backend></rng>"),
    Case("rng rate period", "xui10", devices="<rng model='virtio'><rate bytes='1234' period='{}'/>"
                                             "<backend model='random'>/dev/random</backend></rng>"),
    Case("redirfilter class", "i0", lo=-1, hi=255, devices="<redirfilter><usbdev class='{}' allow='yes'/></redirfilter>"),
    # Clock and tuning.
    Case("utc clock adjustment", "ll10", top="<clock offset='utc' adjustment='{}'/>"),
    Case("variable clock adjustment", "xnum", top="<clock offset='variable' adjustment='{}' basis='utc'/>"),
    Case("timer frequency", "xull10", top="<clock offset='utc'><timer name='rtc'><frequency>{}</frequency></timer></clock>"),
    Case("catchup threshold", "xull10",
         top="<clock offset='utc'><timer name='rtc' tickpolicy='catchup'><catchup threshold='{}'/></timer></clock>"),
    Case("blkiotune weight", "xui10or0", top="<blkiotune><weight>{}</weight></blkiotune>"),
    # Rules report these (a finding on the line): a retry count below 4095, a network disk port libvirt's
    # command-line builder cannot read (libvirt keeps that port as text when it defines the domain).
    Case("hyperv spinlocks retries", "xui10req", lo=4095, ok="4096",
         top="<features><hyperv><spinlocks state='on' retries='{}'/></hyperv></features>"),
    Case("gluster host port", "i10", lo=0,
         devices="<disk type='network' device='disk'><source protocol='gluster' name='vol/img'>"
                 "<host name='example.org' port='{}'/></source><target dev='vda'/></disk>"),
)


def _outcome(xml: str) -> tuple[str, object]:
    """('input', line) for an input error, else ('findings', ids and lines)."""
    try:
        found = domlint.check(xml)
    except domlint.InputError as exc:
        return "input", exc.line, exc.message
    return "findings", sorted((f.rule_id, f.line) for f in found)


# A pinned host clock: a variable clock's -rtc base is the host's time plus the adjustment.
HOST = replace(default_host(), raw={**default_host().raw, "clock": {"now": 1400000000}})


def _argv(xml: str) -> object:
    try:
        return domlint.emit(xml, caps=newest_profile("1.2.8"), libvirt="1.2.8", host=HOST).words()
    except domlint.Refused as exc:
        return ("refused", sorted(f.rule_id for f in exc.findings))
    except domlint.InputError as exc:
        return ("input", exc.line)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: repr(s) if len(s) < 8 else "30-digits")
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_number_spelling(case: Case, sample: str) -> None:
    stored = case.stored(sample)
    got = _outcome(case.xml(sample))
    if stored is None:
        # libvirt refuses to define it: so must domlint, pointing at the line.
        assert got != _outcome(case.xml(case.ok)), f"{case.name}={sample!r} passes silently"
        if got[0] == "findings":
            assert any(line == LINE for _, line in got[1]), got  # type: ignore[union-attr]
        else:
            assert got[1] == LINE, got
        return
    # Accepted: the verdict and the command line are those of the number libvirt stores,
    # which domlint must not refuse as unreadable.
    plain = case.xml(case.plain(stored))
    assert got == _outcome(plain), f"{case.name}={sample!r} judged unlike {stored}"
    assert "libvirt refuses the domain" not in str(got), got
    assert _argv(case.xml(sample)) == _argv(plain)


@pytest.mark.parametrize(("reader", "base", "table"), [
    (numbers.UINT, 10, "ui10"), (numbers.UINT, 0, "ui0"), (numbers.UINT_NONNEG, 10, "uip10"),
    (numbers.UINT_NONNEG, 0, "uip0"), (numbers.INT, 10, "i10"),
    (numbers.INT, 0, "i0"), (numbers.ULONG, 10, "xull10req"), (numbers.ULONG, 10, "xull10"), (numbers.LONG, 10, "xll10"),
    (numbers.LONG, 10, "ll10"), (numbers.ULONG_TO_UINT, 10, "xul10cut"), (numbers.UINT, 16, "ui16"),
    (numbers.ULONG, 16, "ull16"),
])
def test_reader_model_matches_the_hand_written_outcomes(reader: numbers.Reader, base: int, table: str) -> None:
    for sample, stored in OUTCOMES[table].items():
        # Empty text is refused by every reader; the virXPath callers take it as absent.
        assert reader.read(sample, base) == (None if stored == ABSENT else stored), sample


@pytest.mark.parametrize(("text", "base", "value"), [
    ("0x", 0, None), ("0x", 16, None), ("0xg", 16, None), ("-0", 10, 0), ("\t\n 7", 10, 7), ("+-1", 10, None),
    ("ff", 16, 255), ("0XfF", 16, 255), ("-1", 16, 2**64 - 1), ("08", 0, None), ("4294967296", 10, None),
])
def test_reader_edges(text: str, base: int, value: int | None) -> None:
    reader = numbers.ULONG if base == 16 else numbers.UINT
    assert reader.read(text, base) == value


def test_refusal_names_the_field_and_line() -> None:
    xml = Case("pci", "ui0", devices="\n" + PCI_NIC.format(b="0x00", s="{}", f="0")).xml("1e3")
    with pytest.raises(domlint.InputError) as info:
        domlint.check(xml)
    assert info.value.line == 3 and "PCI address slot '1e3'" in info.value.message


def test_attach_check_names_the_device_file_for_its_numbers(tmp_path: Path) -> None:
    dev = tmp_path / "dev.xml"
    dev.write_text("<disk type='file'>\n<source file='/b'/><target dev='sdb' bus='scsi'/>\n"
                   "<address type='drive' controller='0' bus='x' target='0' unit='1'/></disk>\n")
    with pytest.raises(domlint.InputError) as info:
        domlint.attach_check(Case("none", "ui10").xml(None), dev)
    assert (info.value.path, info.value.line) == (str(dev), 3)
    assert "drive address bus 'x'" in info.value.message


def test_attach_check_judges_a_respelled_device_number_like_the_plain_one() -> None:
    dom = Case("none", "ui10").xml(None)

    def ids(bus: str) -> list[tuple[str, int]]:
        dev = (f"<disk type='file'><source file='/b'/><target dev='sdb' bus='scsi'/>"
               f"<address type='drive' controller='0' bus='{bus}' target='0' unit='1'/></disk>")
        return sorted((f.rule_id, f.line) for f in domlint.attach_check(dom, dev))

    assert ids(" +001") == ids("1") != ids("0")


def test_normalised_domain_shows_the_number_libvirt_stores() -> None:
    from domlint.domain import normalise
    from domlint.host import default_host
    from domlint.parse import parse_bytes

    xml = Case("x", "ui10", devices=PCI_NIC.format(b="010", s="+0x05", f="0x0") + VNC.format(p=" +5905", w="-1"))
    doc = normalise(parse_bytes(xml.xml(None).encode(), "x.xml"), default_host())
    addr = doc.root.find("devices/interface/address")
    assert (addr.get("bus"), addr.get("slot"), addr.get("function")) == ("8", "5", "0x0")
    assert doc.root.find("devices/graphics").get("port") == "5905"


@pytest.mark.parametrize("written", ["9007199254740992", "9007199254740993", "1152921504606846976",
                                     "9223372036854775807", "-9223372036854775807", "12345"])
def test_a_variable_clock_adjustment_is_the_double_xpath_makes_of_it(written: str) -> None:
    # Plain decimals too: past 2**53 libxml2's number() rounds as it reads each digit, and a long long
    # cannot hold 2**63, so a plain spelling is not always what libvirt stores.
    from domlint.domain import normalise
    from domlint.parse import parse_bytes

    xml = Case("x", "xnum", top=f"<clock offset='variable' adjustment='{written}' basis='utc'/>").xml(None)
    doc = normalise(parse_bytes(xml.encode(), "x.xml"), default_host(), "1.2.8")
    stored = doc.root.find("clock").get("adjustment")
    assert stored == str(numbers.XPATH_LONG.read(written, 10) or 0)
    assert stored == {"9007199254740993": "9007199254740992", "9223372036854775807": "0",
                      "-9223372036854775807": "0"}.get(written, stored)


def test_only_sizes_are_bounded_by_llong_max_bytes() -> None:
    """An <iotune> limit past LLONG_MAX is readable (a rule reports it); a <memory> that many bytes is not."""
    iotune = next(c for c in CASES if c.name == "iotune")
    found = domlint.check(iotune.xml(str(2**63)))
    assert [f.rule_id for f in found] == ["disk-iotune-overflow"]
    memory = next(c for c in CASES if c.name == "memory")
    assert not domlint.check(memory.xml(str((2**63 - 1) // 1024)))
    with pytest.raises(domlint.InputError, match="more than 9223372036854775807 bytes"):
        domlint.check(memory.xml(str((2**63 - 1) // 1024 + 1)))


def test_unreadable_blkiotune_weight_is_no_weight() -> None:
    """libvirt keeps weight 0 (none) for a weight it cannot read: an unprivileged libvirtd has nothing to refuse."""
    host = replace(default_host(), privileged=False)
    weight = next(c for c in CASES if c.name == "blkiotune weight")

    def ids(value: str) -> list[str]:
        return [f.rule_id for f in domlint.check(weight.xml(value), host=host)]

    assert ids("-5") == ids("5 ") == ids(THIRTY) == ids("0x10") == ids("0") == []
    assert ids("+5") == ids(" 5") == ids("5") == ["tuning-blkiotune-session"]
