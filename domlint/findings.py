"""What a check reports."""

from __future__ import annotations

from .record import as_dict, record

SEVERITIES = ("error", "warning", "info")


@record(frozen=True)
class Finding:
    """One problem found in one file."""

    rule_id: str
    severity: str
    message: str
    hint: str
    path: str
    line: int
    column: int
    xpath: str
    stage: str = ""
    # The element named as the user names the device (domlint.identity), which edits elsewhere leave alone.
    key: str = ""

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return as_dict(self)
