"""Errors that stop the checking of one input or the loading of the rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .pathname import read_bytes

if TYPE_CHECKING:
    from pathlib import Path

# Exit statuses of every command: clean, findings (or a refusal), unusable input or usage.
EXIT_OK, EXIT_FINDINGS, EXIT_UNUSABLE = 0, 1, 2


class DomlintError(Exception):
    """An error a user must fix; shown as one line, never as a traceback."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.line = line
        self.message = message

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"

    def __reduce__(self) -> tuple[object, ...]:
        # Subclasses take other constructor arguments, so rebuild from the state rather than call
        # the class: errors cross from `check -j` worker processes to the parent.
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(cls: type[DomlintError], args: tuple[object, ...], state: dict[str, object]) -> DomlintError:
    err = cls.__new__(cls)
    err.args = args
    err.__dict__.update(state)
    return err


class InputError(DomlintError):
    """A domain or device file that cannot be checked."""


class HostFactMissing(InputError):
    """The command line needs a fact of the host that the host profile does not give (a storage pool, a secret).

    No default can know it, so no rule decides it: `argv` says which profile key to add (`key`).
    Both emitters (1.2.8 and 9.0) raise it.
    """

    def __init__(self, path: str, line: int | None, message: str, key: str) -> None:
        super().__init__(path, line, f"{message}; add `{key}` to the host profile (--host)")
        self.key = key


class RuleError(DomlintError):
    """A rule file, or a rule in it, that cannot be loaded."""

    def __init__(self, path: str, line: int | None, message: str,
                 rule_id: str | None = None, field: str | None = None) -> None:
        parts = []
        if rule_id:
            parts.append(f"rule {rule_id}")
        if field:
            parts.append(f"field {field}")
        prefix = (", ".join(parts) + ": ") if parts else ""
        super().__init__(path, line, prefix + message)
        self.rule_id = rule_id
        self.field = field


class UsageError(Exception):
    """A command-line option or capability source that makes no sense."""


class Refused(Exception):
    """A domain the emitter will not build a command line for: the rules found errors."""

    def __init__(self, findings: list) -> None:
        super().__init__(f"{len(findings)} error(s) found; no command line built")
        self.findings = findings


def read_text(path: str | Path, what: str, error: type[DomlintError] = InputError) -> str:
    """A UTF-8 text file's content, or `error` naming the file and saying why it cannot be read."""
    name = str(path)
    try:
        return read_bytes(path).decode("utf-8")
    except OSError as exc:
        raise error(name, None, f"cannot read {what}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise error(name, None, f"{what} is not UTF-8: {exc.reason}") from None
