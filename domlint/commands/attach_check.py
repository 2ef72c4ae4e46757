"""`domlint attach-check`: judge a device before `virsh attach-device --config` stores it."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..domain import domain_arch
from ..errors import DomlintError, InputError, UsageError
from ..findings import Finding
from ..formats import CheckedFile, RuleInfo
from ..parse import parse_file
from .options import CAPS_HELP_MARK, FORMATTER, add_check_options, checker_from_args, finish

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
domain and flags, as virsh takes them:
  DOMAIN is a domain XML file when a file of that name exists (and no -c is
  given), else a domain name, id or UUID, read with `virsh [-c URI] dumpxml
  --inactive DOMAIN` (Debian: apt-get install libvirt-clients). --domain and
  --file are virsh's spellings of DOMAIN and DEVICE.xml. --config,
  --persistent and --current judge the persistent definition (what domlint
  always judges); --live alone judges the running definition, `virsh
  dumpxml` without --inactive, as --config would add to it (hot-plug limits
  of the running QEMU are not modelled). As in virsh, --config is a switch
  here: the configuration file of domlint is --config-file FILE.

exit status: as for `domlint check`.

examples:
  domlint attach-check guest.xml disk.xml
  domlint attach-check -c test:///default test disk.xml --config
  domlint attach-check web1 disk.xml --persistent --caps-profile 7.0.0-x86_64
  domlint attach-check --domain web1 --file disk.xml --config
"""


NAME = "attach-check"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the attach-check subcommand."""
    p = sub.add_parser(NAME, help="check a device before virsh attach-device --config",
                       usage="domlint attach-check [-c URI] DOMAIN DEVICE.xml [--config] [--live] [--persistent] "
                             "[options]",
                       description="Check what `virsh attach-device DOMAIN DEVICE.xml --config` would store. "
                                   "The words of the virsh command work here as they are.",
                       epilog=EPILOG + CAPS_HELP_MARK + EPILOG_END, formatter_class=FORMATTER)
    p.add_argument("files", nargs="*", metavar="DOMAIN DEVICE.xml",
                   help="the domain (a file, or a name virsh knows) and the device file")
    p.add_argument("--domain", "--domain-name", dest="domain_name", metavar="DOMAIN",
                   help="the domain, always by name (virsh dumpxml --inactive), even if a file has that name")
    p.add_argument("--file", dest="device_file", metavar="DEVICE.xml", help="the device file (virsh's --file)")
    p.add_argument("--connect", "-c", metavar="URI", help="libvirt URI for virsh (DOMAIN is then a name)")
    virsh = p.add_argument_group("virsh attach-device flags")
    virsh.add_argument("--config", dest="virsh_config", action="store_true",
                       help="the device goes into the persistent definition (judged by default)")
    virsh.add_argument("--persistent", action="store_true", help="live and persistent: the persistent definition "
                                                                   "is judged")
    virsh.add_argument("--current", action="store_true", help="as virsh: the current state (judged as --config)")
    virsh.add_argument("--live", action="store_true",
                       help="alone: judge the running definition (virsh dumpxml without --inactive)")
    add_check_options(p, virsh_config=True)
    p.set_defaults(func=run)


def _words(args: argparse.Namespace) -> tuple[str | None, str | None, str]:
    """(domain file, domain name, device file) from the positionals and virsh's --domain and --file."""
    words = list(args.files)
    if args.device_file:
        words.append(args.device_file)
    if args.domain_name:
        if len(words) != 1:
            raise UsageError("with --domain NAME, give only DEVICE.xml")
        return None, args.domain_name, words[0]
    if len(words) != 2:
        hint = ""
        if len(words) == 3 and words[0].endswith((".toml", ".yaml", ".yml")):
            hint = ("; --config is virsh's switch here (as in `virsh attach-device`): name a domlint "
                    "configuration file with --config-file")
        raise UsageError(f"give DOMAIN.xml and DEVICE.xml (the domain: a file, or a domain name){hint}")
    domain, device = words
    if _is_file(domain) and not args.connect:
        return domain, None, device
    if _is_file(domain):
        raise UsageError(f"--connect goes with a domain name, but {domain} is a file; give the domain's name, "
                         "or --domain NAME")
    if domain.endswith(".xml") or "/" in domain:
        # Written as a path: say that the file is missing rather than ask libvirt for a domain of that name.
        return domain, None, device
    return None, domain, device


def _is_file(word: str) -> bool:
    return Path(word).is_file()


def run(args: argparse.Namespace) -> int:
    """Merge the device into a copy of the domain, report, return the exit status."""
    if args.current and (args.live or args.virsh_config or args.persistent):
        raise UsageError("--current cannot be combined with --live, --config or --persistent (as in virsh)")
    domain_file, domain_name, device_path = _words(args)
    live_only = args.live and not (args.virsh_config or args.persistent)
    from .. import attach  # the virsh glue, only for this command

    checker = checker_from_args(args, attach.REFUSAL_IDS)
    settings = checker.settings_for(Path(device_path).resolve())
    for refusal in attach.REFUSALS:
        checker.rules.setdefault(refusal.id, RuleInfo(refusal.id, "error", refusal.summary))
    findings: list[Finding] = []
    errors: list[DomlintError] = []
    domain = device = None
    try:
        domain = (attach.dumpxml(domain_name, args.connect, inactive=not live_only) if domain_name
                  else parse_file(domain_file or ""))
    except attach.VirshError as exc:
        if domain_name and not args.domain_name and exc.message == attach.VIRSH_MISSING:
            # A positional DOMAIN that is no file: say both readings failed.
            exc = InputError(domain_name, None, "no such file; read as a domain name it needs virsh, which is "
                                                "not installed (Debian/Ubuntu: apt-get install libvirt-clients)")
        errors.append(exc)
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
