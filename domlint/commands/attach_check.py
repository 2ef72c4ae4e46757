"""`domlint attach-check`: judge a device before `virsh attach-device --config` stores it."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..domain import domain_arch
from ..errors import DomlintError, UsageError
from ..findings import Finding
from ..formats import CheckedFile, RuleInfo
from ..parse import parse_file
from .options import FORMATTER, add_check_options, caps_help, checker_from_args, finish

EPILOG = """\
what it does:
  Adds DEVICE.xml to a copy of the domain the way libvirt's attach-device
  --config adds it, reports what libvirt would refuse (a disk target,
  controller index or address already taken, the same host device twice,
  ...), then runs every rule over the result. Findings about the device name
  DEVICE.xml and its lines. No file is ever written. DEVICE.xml holds one
  <disk>, <interface>, <hostdev>, <controller>, <filesystem>, <lease>,
  <serial>, <parallel>, <console>, <channel>, <rng>, <watchdog>, <sound>,
  <input>, <redirdev>, <smartcard> or <hub>.

"""
EPILOG_END = """
exit status: as for `domlint check`.

examples:
  domlint attach-check guest.xml disk.xml
  domlint attach-check --domain-name web1 --caps-profile 7.0.0-x86_64 disk.xml
  domlint attach-check --connect test:///default --domain-name test disk.xml
"""


NAME = "attach-check"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the attach-check subcommand."""
    p = sub.add_parser(NAME, help="check a device before virsh attach-device --config",
                       usage="domlint attach-check [options] (DOMAIN.xml | --domain-name NAME) DEVICE.xml",
                       description="Check what `virsh attach-device DOMAIN DEVICE.xml --config` would store.",
                       epilog=EPILOG + caps_help() + EPILOG_END, formatter_class=FORMATTER)
    p.add_argument("files", nargs="+", metavar="FILE", help="DOMAIN.xml (unless --domain-name) and DEVICE.xml")
    p.add_argument("--domain-name", metavar="NAME",
                   help="read the domain with `virsh dumpxml --inactive NAME` instead of a file")
    p.add_argument("--connect", "-c", metavar="URI", help="libvirt URI for virsh (with --domain-name)")
    add_check_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Merge the device into a copy of the domain, report, return the exit status."""
    want = 1 if args.domain_name else 2
    if len(args.files) != want:
        raise UsageError("give DOMAIN.xml and DEVICE.xml" if want == 2 else "with --domain-name, give only DEVICE.xml")
    if args.connect and not args.domain_name:
        raise UsageError("--connect goes with --domain-name")
    from .. import attach  # the virsh glue, only for this command

    checker = checker_from_args(args, attach.REFUSAL_IDS)
    device_path = args.files[-1]
    settings = checker.settings_for(Path(device_path).resolve())
    for refusal in attach.REFUSALS:
        checker.rules.setdefault(refusal.id, RuleInfo(refusal.id, "error", refusal.summary))
    findings: list[Finding] = []
    errors: list[DomlintError] = []
    domain = device = None
    try:
        domain = attach.dumpxml(args.domain_name, args.connect) if args.domain_name else parse_file(args.files[0])
    except DomlintError as exc:
        errors.append(exc)
    try:
        device = attach.device_document(parse_file(device_path, roots=None))
    except DomlintError as exc:
        errors.append(exc)
    label = settings.target.label
    note = attach.not_judged(domain, settings.target) if domain is not None else None
    if note is not None:
        # A domain for another hypervisor: neither it nor the device is judged.
        checker.checked.append(CheckedFile(domain.path, (), note=note, target=label))
        if device is not None:
            checker.checked.append(CheckedFile(
                device.path, (), note=f"not judged: it is added to {domain.path}, which is not for QEMU", target=label))
    elif domain is not None and device is not None:
        merged = attach.merge(domain, device, settings.host, settings.target)
        caps = settings.caps_for(domain_arch(merged.after))
        findings = attach.check_merge(merged, settings.engine, caps, settings.host, settings.select,
                                      settings.ignore)
        ids = tuple(sorted({r.id for r in settings.engine.rules} | set(attach.REFUSAL_IDS)))
        checker.checked.extend(CheckedFile(p, ids, target=label, caps=settings.source_of(caps))
                               for p in (domain.path, device.path))
    return finish(args, checker, findings, errors)
