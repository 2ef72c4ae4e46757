"""JUnit XML, for CI dashboards: one test suite per file, one test case per file and rule."""

from __future__ import annotations

from typing import TextIO
from xml.etree import ElementTree as ET

from . import Report


def document(report: Report) -> ET.Element:
    """The <testsuites> element."""
    by_file: dict[tuple[str, str], list] = {}
    for f in report.findings:
        by_file.setdefault((f.path, f.rule_id), []).append(f)
    top = ET.Element("testsuites", name="domlint")
    total = failures = errors = skipped = 0
    for checked in report.checked:
        suite = ET.SubElement(top, "testsuite", name=checked.path)
        _properties(suite, checked.target or report.target, checked.caps)
        if checked.note:
            # A domain for another hypervisor: one skipped case saying why.
            case = ET.SubElement(suite, "testcase", classname=checked.path, name="judged")
            ET.SubElement(case, "skipped", message=checked.note)
            suite.set("tests", "1")
            suite.set("failures", "0")
            suite.set("errors", "0")
            suite.set("skipped", "1")
            total += 1
            skipped += 1
            continue
        n_fail = 0
        ids = list(checked.rule_ids)
        # Findings of rules outside the active set (suppression hygiene) still get a case.
        ids += sorted({rid for (p, rid) in by_file if p == checked.path} - set(ids))
        for rid in ids:
            case = ET.SubElement(suite, "testcase", classname=checked.path, name=rid)
            hits = by_file.get((checked.path, rid), [])
            failing = [f for f in hits if f.severity in report.fail_on]
            body = "\n".join(f"{f.path}:{f.line}:{f.column}: {f.severity}: {f.message}"
                             + (f"\nhint: {f.hint}" if f.hint else "") for f in hits)
            if failing:
                n_fail += 1
                fail = ET.SubElement(case, "failure", message=failing[0].message, type=failing[0].severity)
                fail.text = body
            elif hits:
                ET.SubElement(case, "system-out").text = body
        suite.set("tests", str(len(ids)))
        suite.set("failures", str(n_fail))
        suite.set("errors", "0")
        suite.set("skipped", "0")
        total += len(ids)
        failures += n_fail
    for e in report.errors:
        suite = ET.SubElement(top, "testsuite", name=e.path, tests="1", failures="0", errors="1")
        case = ET.SubElement(suite, "testcase", classname=e.path, name="readable")
        ET.SubElement(case, "error", message=e.message, type="unusable").text = str(e)
        total += 1
        errors += 1
    top.set("tests", str(total))
    top.set("failures", str(failures))
    top.set("errors", str(errors))
    top.set("skipped", str(skipped))
    return top


def _properties(suite: ET.Element, target: str, caps: str) -> None:
    """What the suite's verdict is for, as <properties> of the test suite."""
    pairs = [(k, v) for k, v in (("libvirt-target", target), ("qemu-capability-source", caps)) if v]
    if pairs:
        props = ET.SubElement(suite, "properties")
        for name, value in pairs:
            ET.SubElement(props, "property", name=name, value=value)


def write(out: TextIO, report: Report) -> None:
    """The JUnit XML document."""
    top = document(report)
    ET.indent(top)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(top, encoding="unicode"))
    out.write("\n")
