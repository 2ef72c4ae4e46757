"""domlint.pathname spells, orders and relates names exactly as pathlib does, without importing it."""

from __future__ import annotations

import itertools
from pathlib import Path, PurePosixPath

import pytest

from domlint.pathname import beside, clean, join, parent, parts, relative_to, suffix

NAMES = ["", ".", "./", "..", "a", "a/", "./a//b/./c/", "//a", "///a", "/", "//", "a/../b", ".a", "a.xml",
         "/a/./b", "a/.", "../x", "x/.hidden/y.xml", "a-b/x", "a/b", "A", "a.xml/x", "/a-b", "b.tar.gz", "c.",
         "/a/b.xml", "dir//guest.xml"]


@pytest.mark.parametrize("name", NAMES)
def test_a_name_is_spelled_and_split_as_pathlib_does(name: str) -> None:
    p = PurePosixPath(name)
    assert clean(name) == str(p)
    assert parent(name) == str(p.parent)
    assert tuple(parts(name)) == p.parts
    assert suffix(clean(name)) == p.suffix


def test_names_sort_in_path_order_not_character_order() -> None:
    names = [n for n in NAMES if n]
    assert sorted(names, key=parts) == sorted(names, key=PurePosixPath)
    # Character order would put "a-b/x" first ('-' sorts before '/').
    assert sorted(["a-b/x", "a/b"], key=parts) == ["a/b", "a-b/x"]


@pytest.mark.parametrize(("name", "base"), list(itertools.product(
    ["/a/b", "/a", "/ab", "/", "a/b", "a", "/a/b/c.xml"], ["/a", "/", "a", ".", "/a/b/", "/ab"])))
def test_relative_to_answers_as_path_relative_to_does_or_none_where_it_raises(name: str, base: str) -> None:
    try:
        expected: str | None = str(PurePosixPath(name).relative_to(base))
    except ValueError:
        expected = None
    assert relative_to(name, base) == expected


@pytest.mark.parametrize(("file", "name"), [("cfg/.domlint.yaml", "rules"), (".domlint.yaml", "./rules//x"),
                                            ("/etc/h.yaml", "caps.xml"), ("h.yaml", "/abs/map.xml"),
                                            ("a/b/h.yaml", "../c")])
def test_beside_and_join_are_path_parent_and_joinpath(file: str, name: str) -> None:
    assert beside(file, name) == str(PurePosixPath(file).parent / name)
    assert join(file, name) == str(PurePosixPath(file).joinpath(name))


def test_mode_is_none_only_where_pathlib_says_a_name_does_not_exist(tmp_path: Path) -> None:
    import os
    import stat

    from domlint.pathname import mode

    (tmp_path / "f").write_text("")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    assert stat.S_ISREG(mode(str(tmp_path / "f")) or 0) and stat.S_ISDIR(mode(str(tmp_path)) or 0)
    for absent in ("missing", "f/under-a-file", "loop", "nul\0name"):
        assert mode(os.path.join(str(tmp_path), absent)) is None
    with pytest.raises(OSError, match="too long"):
        mode(str(tmp_path / ("x" * 300)))
