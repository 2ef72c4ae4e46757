"""@record behaves as @dataclass for what domlint's classes use: each case is checked against a dataclass twin."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from dataclasses import dataclass

import pytest

from domlint.findings import Finding
from domlint.record import COMPILE_AFTER, FrozenInstanceError, as_dict, field, record, replace


def _twins(frozen: bool) -> tuple[type, type]:
    made = []
    for deco, make_field in ((record(frozen=frozen), field), (dataclass(frozen=frozen), dataclasses.field)):
        @deco
        class Point:
            """A test class."""

            x: int
            y: int = 2
            tags: list[str] = make_field(default_factory=list)
            note: str = make_field(default="", compare=False, repr=False)

            def __post_init__(self) -> None:
                if self.x < 0:
                    raise ValueError("negative")

        made.append(Point)
    return made[0], made[1]


@pytest.mark.parametrize("frozen", [False, True])
def test_init_defaults_factories_eq_and_repr_are_a_dataclasss(frozen: bool) -> None:
    rec, dc = _twins(frozen)
    for args, kwargs in [((1,), {}), ((1, 3), {}), ((1,), {"tags": ["a"], "note": "n"}), ((), {"x": 4, "y": 5})]:
        a, b = rec(*args, **kwargs), dc(*args, **kwargs)
        assert repr(a).replace("rec", "") == repr(b).replace("dc", "")
        assert vars(a) == vars(b)
    assert rec(1) == rec(1, note="other") and rec(1) != rec(1, 3) and rec(1) != dc(1)
    assert rec(1).tags is not rec(1).tags
    with pytest.raises(ValueError):
        rec(-1)
    with pytest.raises(TypeError):
        rec()
    with pytest.raises(TypeError):
        rec(1, z=2)


def test_a_frozen_record_refuses_changes_hashes_by_value_and_survives_pickle_and_copy() -> None:
    rec, dc = _twins(True)
    a = rec(1, tags=("t",))
    with pytest.raises(FrozenInstanceError):
        a.x = 2
    with pytest.raises(FrozenInstanceError):
        del a.x
    assert hash(a) == hash(rec(1, tags=("t",), note="n")) == hash(dc(1, tags=("t",)))
    assert copy.deepcopy(a) == a
    # What crosses to -j workers: a frozen record of the module level.
    found = Finding("r", "error", "m", "h", "p", 1, 2, "/domain")
    assert pickle.loads(pickle.dumps(found)) == found and pickle.loads(pickle.dumps(found)).key == ""
    changed = replace(a, y=7)
    assert (changed.x, changed.y, changed.tags, a.y) == (1, 7, ("t",), 2)
    assert as_dict(a) == {"x": 1, "y": 2, "tags": ("t",), "note": ""}


def test_a_mutable_record_is_unhashable_and_fields_are_inherited() -> None:
    rec, _ = _twins(False)
    with pytest.raises(TypeError):
        hash(rec(1))

    @record
    class Child(rec):  # type: ignore[misc, valid-type]
        """A subclass adding a field."""

        z: str = "z"

    c = Child(1, 2, ["a"], "n", "zz")
    assert (c.x, c.y, c.tags, c.note, c.z) == (1, 2, ["a"], "n", "zz")
    assert Child.__match_args__ == ("x", "y", "tags", "note", "z")
    with pytest.raises(ValueError):
        Child(-1)


@pytest.mark.parametrize("frozen", [False, True])
def test_the_generic_init_of_the_first_instances_and_the_compiled_one_agree(frozen: bool) -> None:
    rec, dc = _twins(frozen)
    for n in range(2 * COMPILE_AFTER):
        calls = [((n,), {}), ((n, 3), {"note": "n"}), ((), {"x": n, "tags": ["t"]})]
        args, kwargs = calls[n % 3]
        assert vars(rec(*args, **kwargs)) == vars(dc(*args, **kwargs))
        for bad_args, bad_kwargs in [((), {}), ((1, 2, [], "", 5), {}), ((1,), {"x": 2}), ((1,), {"z": 1})]:
            with pytest.raises(TypeError):
                rec(*bad_args, **bad_kwargs)
        with pytest.raises(ValueError):
            rec(-1)


def test_dataclasses_functions_take_records() -> None:
    rec, dc = _twins(True)
    a = rec(1, tags=("t",), note="n")
    assert dataclasses.is_dataclass(a)
    assert [(f.name, f.compare, f.repr) for f in dataclasses.fields(a)] == \
        [(f.name, f.compare, f.repr) for f in dataclasses.fields(dc(1))]
    changed = dataclasses.replace(a, y=5)
    assert (type(changed), changed.y, changed.tags, changed.note) == (rec, 5, ("t",), "n")
    assert dataclasses.asdict(a) == dataclasses.asdict(dc(1, tags=("t",), note="n"))
