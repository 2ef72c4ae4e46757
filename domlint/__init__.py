"""domlint: find what libvirt would accept and QEMU would refuse, before it lands."""

from __future__ import annotations

from .api import attach_check, check, emit
from .attach import dumpxml
from .caps import Caps
from .cmdline import Command, RunOptions
from .errors import DomlintError, InputError, Refused, RuleError
from .findings import Finding
from .rulepack import RuleErrors

__version__ = "0.1.0"

__all__ = ["Caps", "Command", "DomlintError", "Finding", "InputError", "Refused", "RuleError", "RuleErrors",
           "RunOptions", "__version__", "attach_check", "check", "dumpxml", "emit"]
