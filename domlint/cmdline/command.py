"""The command line being built: environment, emulator and arguments."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
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

    def line(self) -> str:
        """One line, joined by single spaces (values with spaces are not quoted, as libvirt prints them)."""
        return " ".join(self.words())
