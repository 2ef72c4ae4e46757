"""The one walk: its facts are the select index's facts, and normalisation keeps them and its device index whole."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import CORPORA, REPO
from lxml import etree

from domlint.checker import Checker, Options
from domlint.domain import guest_arch, normalise
from domlint.errors import InputError
from domlint.parse import parse_bytes, parse_file
from domlint.selectors import document_facts
from domlint.walk import Walk


def _files(name: str) -> list[Path]:
    corpus = CORPORA[name]
    if not (corpus / "manifest.json").is_file():
        if os.environ.get("CI") == "true":
            raise AssertionError(f"no conformance corpus at {corpus}")
        pytest.skip(f"no conformance corpus at {corpus} (DOMLINT_CONFORMANCE sets it)")
    cases = json.loads((corpus / "manifest.json").read_text())["cases"]
    return sorted({corpus / c["xml"] for c in cases})


def _device_index(walk: Walk) -> dict[object, list[etree._Element]]:
    return {tag: els for tag, els in walk.by_tag.items() if els}


@pytest.mark.parametrize("name", sorted(CORPORA))
def test_normalised_facts_hold_every_fact_of_the_normalised_tree(name: str) -> None:
    checker = Checker(Options(libvirt=name, use_config=False))
    checked = 0
    for path in [*_files(name), REPO / "examples" / "guest-good.xml"]:
        settings = checker.settings_for(path)
        doc = parse_file(path)
        assert Walk(doc.root).facts == document_facts(doc.root), path
        try:
            normalise(doc, settings.host, settings.target, settings.caps_for(guest_arch(doc, settings.host)))
        except InputError:
            continue  # refused before any default was filled in
        assert doc.walk is not None
        missing = document_facts(doc.root) - doc.walk.facts
        assert not missing, f"{path}: normalisation set {sorted(map(str, missing))} behind the walk's back"
        devices = doc.walk.devices
        assert devices is doc.root.find("devices"), path
        written: dict[object, list[etree._Element]] = {}
        for dev in devices:
            written.setdefault(dev.tag, []).append(dev)
        assert _device_index(doc.walk) == written, path
        checked += 1
    assert checked > 100


def test_a_domain_without_devices_gets_them_indexed() -> None:
    doc = parse_bytes(b"<domain type='kvm'><name>a</name><memory>1024</memory>"
                      b"<os><type arch='x86_64' machine='pc'>hvm</type></os></domain>", "bare.xml")
    checker = Checker(Options(libvirt="1.2.8", use_config=False))
    settings = checker.settings_for("bare.xml")
    normalise(doc, settings.host, settings.target, settings.caps)
    assert doc.walk is not None and doc.walk.devices is doc.root.find("devices")
    # The implied USB controller and balloon are in the index and in the facts.
    assert [c.get("type") for c in doc.walk.of(doc.walk.devices, "controller")] == \
        [c.get("type") for c in doc.root.iterfind("devices/controller")]
    assert {("model", "virtio"), "memballoon"} <= doc.walk.facts
    assert document_facts(doc.root) <= doc.walk.facts


def test_a_respelled_number_is_a_fact() -> None:
    # numbers reads '+3' as 3 and respells it: a select on @index='3' must still be woken.
    doc = parse_bytes(b"<domain type='kvm'><name>a</name><memory>1024</memory>"
                      b"<os><type arch='x86_64' machine='pc'>hvm</type></os>"
                      b"<devices><controller type='scsi' index='+3'/></devices></domain>", "n.xml")
    checker = Checker(Options(libvirt="1.2.8", use_config=False))
    settings = checker.settings_for("n.xml")
    normalise(doc, settings.host, settings.target, settings.caps)
    assert doc.root.find("devices/controller").get("index") == "3"
    assert doc.walk is not None and ("index", "3") in doc.walk.facts
