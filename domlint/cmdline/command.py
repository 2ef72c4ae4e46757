"""The command line being built: environment, emulator and arguments."""

from __future__ import annotations

from ..record import field, record

# Characters that make libvirt quote a word when it prints a command line.
_SHELL_META = frozenset("\r\t\n !\"#$&'()*;<>?[\\]^`{|}~")


def c_str(value: str | None) -> str:
    """A string as libvirt's printf prints it: glibc writes a missing one (NULL) as '(null)'."""
    return "(null)" if value is None else value


def shell_word(word: str) -> str:
    """A word as libvirt prints it: unchanged, or single-quoted when the shell would read it otherwise."""
    if word and not _SHELL_META.intersection(word):
        return word
    return "'" + word.replace("'", "'\\''") + "'"


@record
class Command:
    """A QEMU command line: environment assignments, the emulator, its arguments."""

    env: list[tuple[str, str]] = field(default_factory=list)
    emulator: str = ""
    args: list[str] = field(default_factory=list)

    def setenv(self, name: str, value: str) -> None:
        """Set an environment variable, replacing an earlier value in place."""
        for i, (k, _) in enumerate(self.env):
            if k == name:
                self.env[i] = (name, value)
                return
        self.env.append((name, value))

    def add(self, *args: str) -> None:
        """Append arguments."""
        self.args.extend(args)

    def words(self) -> list[str]:
        """Everything in order, as virsh domxml-to-native prints it."""
        return [f"{k}={v}" for k, v in self.env] + [self.emulator, *self.args]

    def printable(self) -> list[str]:
        """Every word as libvirt prints it: environment values and arguments shell-quoted where needed."""
        return [f"{k}={shell_word(v)}" for k, v in self.env] + [shell_word(w) for w in (self.emulator, *self.args)]

    def line(self) -> str:
        """One line, joined by single spaces, exactly as virsh domxml-to-native prints it."""
        return " ".join(self.printable())
