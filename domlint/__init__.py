"""domlint: find what libvirt would accept and QEMU would refuse, before it lands."""

from __future__ import annotations

from .api import attach_check, check
from .attach import dumpxml
from .caps import Caps
from .errors import DomlintError, InputError, RuleError
from .findings import Finding
from .rulepack import RuleErrors

__version__ = "0.1.0"

__all__ = ["Caps", "DomlintError", "Finding", "InputError", "RuleError", "RuleErrors",
           "__version__", "attach_check", "check", "dumpxml"]
