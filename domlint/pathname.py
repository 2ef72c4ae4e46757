"""File names spelled as pathlib spells them, from plain strings.

A check of one file never imports pathlib: with the urllib.parse and ipaddress it
pulls in, its import costs about a fifth of the run's start-up. Names a user gives
still read in messages as they did when they went through Path: `./a//b.xml` is
`a/b.xml`.
"""

from __future__ import annotations

import os
from typing import TypeAlias

# What a caller may name a file with: a string or any path object (a pathlib.Path in the API and tests).
StrPath: TypeAlias = "str | os.PathLike[str]"


def clean(name: str | os.PathLike[str]) -> str:
    """name as str(PurePosixPath(name)): no empty or '.' parts, no trailing slash, '.' when nothing is left."""
    text = os.fspath(name)
    if (text and text != "." and "//" not in text and "/./" not in text and not text.startswith("./")
            and not text.endswith(("/", "/."))):
        return text  # the usual spelling (no empty or '.' part), unchanged
    root = ""
    if text.startswith("/"):
        # POSIX keeps a leading "//" (and only two) as a distinct root, as pathlib does.
        root = "//" if text.startswith("//") and not text.startswith("///") else "/"
    parts = [p for p in text.split("/") if p and p != "."]
    return root + "/".join(parts) if root or parts else "."


def join(base: str | os.PathLike[str], *parts: str) -> str:
    """Path(base).joinpath(*parts), as a string."""
    return clean(os.path.join(os.fspath(base), *parts))


def parts(name: str) -> list[str]:
    """Path(name).parts: the root its own part. Sorted by them, names are in Path order (part by part)."""
    text = clean(name)
    root = "//" if text.startswith("//") else "/" if text.startswith("/") else ""
    rest = text[len(root):]
    return ([root] if root else []) + (rest.split("/") if rest and rest != "." else [])


def suffix(name: str) -> str:
    """Path(name).suffix: the last dot and what follows it in the last part, unless the part starts with it."""
    last = name.rsplit("/", 1)[-1]
    dot = last.rfind(".")
    return last[dot:] if 0 < dot < len(last) - 1 else ""


def relative_to(name: str, base: str) -> str | None:
    """Path(name).relative_to(base) as a string, or None where that raises (name not below base)."""
    mine, theirs = parts(name), parts(base)
    # "." holds every relative name and no absolute one.
    if mine[:len(theirs)] != theirs or (not theirs and name.startswith("/")):
        return None
    return "/".join(mine[len(theirs):]) or "."


def parent(name: str | os.PathLike[str]) -> str:
    """Path(name).parent, as a string."""
    return os.path.dirname(clean(name)) or "."


def beside(file: str | os.PathLike[str], name: str) -> str:
    """name taken relative to the folder holding file (Path(file).parent / name); an absolute name as it is."""
    return clean(name) if name.startswith("/") else join(parent(file), name)


def read_bytes(name: str | os.PathLike[str]) -> bytes:
    """Path(name).read_bytes(): the whole file (OSError when it cannot be read)."""
    with open(name, "rb") as fh:
        return fh.read()


def mode(name: str) -> int | None:
    """The st_mode of name (links followed), or None where pathlib's exists() is False: no such file, a
    non-folder on the way, a link loop. Any other error (no permission, a name too long) raises OSError, so
    that a file that cannot be read is reported, not passed over."""
    try:
        return os.stat(name).st_mode
    except ValueError:  # a NUL in the name
        return None
    except OSError as exc:
        import errno

        if exc.errno in (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP):
            return None
        raise
