"""The 9.0 emitter's frame: argument order is one table, values print as libvirt 9.0 prints them."""

from __future__ import annotations

import pytest
from emit9 import domain, emit_words

from domlint.cmdline9 import order
from domlint.cmdline9.props import to_json, to_keyval

pytestmark = pytest.mark.libvirt("9.0")


def test_every_stage_is_listed_once() -> None:
    names = [f"{s.__module__}.{s.__name__}" for s in order.STAGES]
    assert len(names) == len(set(names))


def test_json_keeps_insertion_order_and_is_compact() -> None:
    assert to_json({"driver": "ide-cd", "unit": 0, "x": True}) == '{"driver":"ide-cd","unit":0,"x":true}'


def test_keyval_writes_booleans_as_on_off_and_doubles_commas() -> None:
    assert to_keyval({"driver": "x", "path": "/a,b", "on": True, "off": False}, first="driver") == \
        "x,path=/a,,b,on=on,off=off"


def test_a_plain_domain_starts_with_the_emulator_of_its_arch() -> None:
    words = emit_words(domain())
    assert "/usr/bin/qemu-system-x86_64" in words
