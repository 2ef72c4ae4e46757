"""`domlint normalize`: print a domain as the rules see it, with libvirt's defaults filled in."""

from __future__ import annotations

import argparse
import sys

from lxml import etree

from ..domain import normalise
from ..host import default_host
from ..host import load as load_host
from ..parse import Document, parse_file
from .options import EXIT_OK, FORMATTER, add_target_option

EPILOG = """\
Elements the defaults added are marked with a comment before them, and so
are elements whose attributes the defaults filled in (--no-marks: none).

examples:
  domlint normalize guest.xml
  domlint normalize --host host.yaml guest.xml > guest.normalised.xml
"""

ADDED = " added: a libvirt default "


NAME = "normalize"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the normalize subcommand."""
    p = sub.add_parser(NAME, help="print a domain with libvirt's defaults filled in",
                       description="Print the normalised domain: what libvirt would store, and what rules see.",
                       epilog=EPILOG, formatter_class=FORMATTER)
    p.add_argument("path", metavar="FILE", help="a domain XML file")
    p.add_argument("--host", metavar="HOST.yaml", help="host profile (default: a plain local host)")
    p.add_argument("--no-marks", action="store_true", help="do not mark what the defaults added")
    add_target_option(p)
    p.set_defaults(func=run)


def _comment_text(text: str) -> str:
    # XML comments may not hold "--" nor end in "-"; attribute values could.
    while "--" in text:
        text = text.replace("--", "- -")
    return text if not text.endswith("-") else text + " "


def normalised(doc: Document, host_path: str | None = None, marks: bool = True, target: str | None = None) -> str:
    """doc normalised and pretty-printed, with what normalisation changed marked by comments."""
    before = {el: dict(el.attrib) for el in doc.root.iter() if isinstance(el.tag, str)}
    normalise(doc, load_host(host_path) if host_path else default_host(), target)
    if marks:
        for el in list(doc.root.iter()):
            if not isinstance(el.tag, str):
                continue
            if el not in before:
                if el.getparent() in before:
                    el.addprevious(etree.Comment(ADDED))
                continue
            filled = {k: v for k, v in el.attrib.items() if before[el].get(k) != v}
            if filled:
                text = " ".join(f"{k}='{v}'" for k, v in filled.items())
                el.addprevious(etree.Comment(_comment_text(f" defaults filled in: {text} ")))
    etree.indent(doc.tree, space="  ")
    return etree.tostring(doc.tree, encoding="unicode") + "\n"


def run(args: argparse.Namespace) -> int:
    """Print one normalised domain."""
    doc = parse_file(args.path)
    sys.stdout.write(normalised(doc, args.host, not args.no_marks, args.libvirt))
    return EXIT_OK
