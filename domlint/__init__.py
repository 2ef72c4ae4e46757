"""domlint: find what libvirt would accept and QEMU would refuse, before it lands."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# The public names, and the module each lives in. They are imported on first
# use, so `domlint check` on one file does not pay for the emitter or virsh glue.
_PUBLIC = {
    "attach_check": "api", "check": "api", "emit": "api", "dumpxml": "attach", "Caps": "caps",
    "Command": "cmdline", "RunOptions": "cmdline", "DomlintError": "errors", "InputError": "errors",
    "Refused": "errors", "RuleError": "errors", "Finding": "findings", "RuleErrors": "rulepack",
}

if TYPE_CHECKING:
    from .api import attach_check, check, emit
    from .attach import dumpxml
    from .caps import Caps
    from .cmdline import Command, RunOptions
    from .errors import DomlintError, InputError, Refused, RuleError
    from .findings import Finding
    from .rulepack import RuleErrors


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use."""
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'domlint' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = ["Caps", "Command", "DomlintError", "Finding", "InputError", "Refused", "RuleError", "RuleErrors",
           "RunOptions", "__version__", "attach_check", "check", "dumpxml", "emit"]
