"""JUnit XML, for CI dashboards: one test case per file, its failing findings inside it.

A file whose findings reach --fail-on is a failed case, with one <failure> listing them
all (the message counts them and names the first); findings below --fail-on are in the
case's <system-out>. An unusable input is a case with an <error>; a domain for another
hypervisor is a skipped case. One test suite holds them all, with the libvirt target and
the QEMU capability source as its properties, and each case has its own.
"""

from __future__ import annotations

from typing import TextIO
from xml.etree import ElementTree as ET

from ..findings import Finding
from . import Report

SUITE = "domlint"
CLASSNAME = "domlint"


def _line(f: Finding, hints: bool) -> str:
    return f"{f.path}:{f.line}:{f.column}: {f.severity} [{f.rule_id}] {f.message}" + (
        f"\n    hint: {f.hint}" if hints and f.hint else "")


def document(report: Report) -> ET.Element:
    """The <testsuites> element."""
    by_file: dict[str, list[Finding]] = {}
    for f in report.findings:
        by_file.setdefault(f.path, []).append(f)
    top = ET.Element("testsuites", name=SUITE)
    suite = ET.SubElement(top, "testsuite", name=SUITE)
    _properties(suite, report.target, report.caps_source)
    tests = failures = errors = skipped = 0
    for checked in report.checked:
        case = ET.SubElement(suite, "testcase", classname=CLASSNAME, name=checked.path, file=checked.path)
        tests += 1
        _properties(case, checked.target or report.target, checked.caps)
        if checked.note:
            # A domain for another hypervisor: skipped, saying why.
            ET.SubElement(case, "skipped", message=checked.note)
            skipped += 1
            continue
        hits = by_file.get(checked.path, [])
        failing = [f for f in hits if f.severity in report.fail_on]
        if failing:
            failures += 1
            n = len(failing)
            fail = ET.SubElement(case, "failure", type=failing[0].severity,
                                 message=f"{n} finding{'s' if n != 1 else ''}: [{failing[0].rule_id}] "
                                         f"{failing[0].message}" + (" ..." if n > 1 else ""))
            fail.text = "\n".join(_line(f, report.show_hints) for f in failing)
        rest = [f for f in hits if f.severity not in report.fail_on]
        if rest:
            ET.SubElement(case, "system-out").text = "\n".join(_line(f, report.show_hints) for f in rest)
    for e in report.errors:
        case = ET.SubElement(suite, "testcase", classname=CLASSNAME, name=e.path, file=e.path)
        ET.SubElement(case, "error", message=e.message, type="unusable").text = str(e)
        tests += 1
        errors += 1
    for el in (top, suite):
        el.set("tests", str(tests))
        el.set("failures", str(failures))
        el.set("errors", str(errors))
        el.set("skipped", str(skipped))
    return top


def _properties(parent: ET.Element, target: str, caps: str) -> None:
    """What a verdict is for, as <properties>."""
    pairs = [(k, v) for k, v in (("libvirt-target", target), ("qemu-capability-source", caps)) if v]
    if pairs:
        props = ET.SubElement(parent, "properties")
        for name, value in pairs:
            ET.SubElement(props, "property", name=name, value=value)


def write(out: TextIO, report: Report) -> None:
    """The JUnit XML document."""
    top = document(report)
    ET.indent(top)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(top, encoding="unicode"))
    out.write("\n")
