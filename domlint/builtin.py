"""Finding ids that no rule file defines: attach-check's refusals and the checks of suppression comments.

Reports, `rules show` and the rules reference read them from here, so that every id a
finding can carry can be looked up like a rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from .formats import RuleInfo


@dataclass(frozen=True)
class Builtin:
    """One such id: what a report says about it, where it is made and when it fires."""

    info: RuleInfo
    source: str
    when: str


def builtin_ids() -> tuple[str, ...]:
    """The ids of builtins(), without building their descriptions."""
    from . import attach, suppress

    return (*attach.REFUSAL_IDS, *suppress.META_RULES)


def builtins() -> dict[str, Builtin]:
    """Every built-in id, attach-check's refusals first."""
    from . import attach, suppress

    out: dict[str, Builtin] = {}
    for r in attach.REFUSALS:
        devices = ", ".join(f"<{t}>" for t in sorted(r.tags))
        out[r.id] = Builtin(
            RuleInfo(r.id, "error", r.summary, "", (), "domlint/attach.py"), "domlint/attach.py",
            f"`domlint attach-check` only: libvirt refuses `virsh attach-device --config` of a {devices} device "
            f"when {r.summary}; the finding points into DEVICE.xml")
    whens = {
        suppress.REASON: "a `<!-- domlint: ignore ... -->` comment (or ignore-next, ignore-file) gives no reason "
                         "after a dash; it suppresses nothing",
        suppress.INVALID: "a domlint comment has an unknown verb, names no rule, or names ids no rule matches "
                          "(its known ids still apply)",
        suppress.UNUSED: "with --report-unused-suppressions: a suppression id silenced nothing although its rule "
                         "could fire there",
    }
    for rid, info in suppress.META_RULES.items():
        out[rid] = Builtin(info, "domlint/suppress.py", whens.get(rid, info.summary))
    return out
