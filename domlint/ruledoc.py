"""Rules described without a domain: the texts of SARIF rule metadata and the rules reference.

A rule's message and hint hold placeholders filled from the element a finding is about
(`{target/@dev}`, `{@name}`) or from the capabilities the QEMU lacks (`{$caps_and}`).
Said of the rule itself, an element's value becomes an ellipsis and the capabilities are
those the rule is about, so no text shows an unfilled placeholder. The reference,
docs/rules/ (a page per id family, `disk-...` on disk.md, and an index), is generated
from the rule files by `python tools/rules_reference.py`; each rule's SARIF helpUri
points at its section there.
"""

from __future__ import annotations

import re

from .engine import what_of_feature
from .formats import RuleInfo

# Where the rules reference is published: the repository's docs/rules/ folder. Each rule's section
# is its id (GitHub's anchor of the heading) on the page of its first word.
# Set to the public repository's copy when the project has a public home.
REFERENCE_URL = "https://example.invalid/domlint/blob/main/docs/rules/"
REFERENCE_DIR = "docs/rules"

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
# An element's value, said of the rule in general.
SOME = "…"


def anchor(rule_id: str) -> str:
    """The fragment of rule_id's section in the reference (GitHub's anchor of the heading `### ID`)."""
    return re.sub(r"[^a-z0-9_-]", "", rule_id.lower())


def page(rule_id: str) -> str:
    """The reference page holding rule_id's section: the id's first word (`disk-ide-readonly`: disk.md)."""
    return rule_id.split("-", 1)[0] + ".md"


def help_uri(rule_id: str) -> str:
    """The address of rule_id's section of the published reference."""
    return f"{REFERENCE_URL}{page(rule_id)}#{anchor(rule_id)}"


def _and(names: tuple[str, ...] | list[str]) -> str:
    names = list(names)
    if len(names) < 3:
        return " and ".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def generic(text: str, info: RuleInfo) -> str:
    """text with every placeholder filled as said of the rule, not of one element."""
    caps = info.wanted or info.caps

    def fill(m: re.Match[str]) -> str:
        expr = m.group(1).strip()
        if expr == "$caps":
            return ", ".join(caps) or "the capabilities it needs"
        if expr == "$caps_and":
            return _and(caps) or "the capabilities it needs"
        if expr == "$caps_noun":
            return "capability" if len(caps) == 1 else "capabilities"
        if expr == "$feature_what":
            return generic(what_of_feature(info.feature), info) if info.feature else "this feature"
        if expr == "feature":
            return generic(info.feature, info) if info.feature else "this feature"
        return SOME

    return _PLACEHOLDER.sub(fill, text)


def full_description(info: RuleInfo) -> str:
    """The summary, what a finding says, and the capabilities it depends on, as plain text."""
    parts = [_sentence(generic(info.summary, info))]
    if info.message:
        parts.append(f"A finding reads: {_sentence(generic(info.message, info))}")
    if info.wanted:
        parts.append(f"It applies to a QEMU without {_and(info.wanted)}.")
    return " ".join(parts)


def help_text(info: RuleInfo) -> str:
    """The help as plain text: the fix, and where the rule is described."""
    lines = [full_description(info)]
    if info.hint:
        lines.append(f"Fix: {generic(info.hint, info)}")
    lines.append(f"Reference: {help_uri(info.id)}")
    return "\n".join(lines)


def help_markdown(info: RuleInfo) -> str:
    """The help as Markdown: the description, the fix and the rule's first examples."""
    out = [full_description(info).replace("<", "&lt;")]
    if info.hint:
        out.append(f"**Fix:** {generic(info.hint, info)}".replace("<", "&lt;"))
    if len(info.examples) == 2:
        bad, good = info.examples
        out.append(f"Refused:\n\n```xml\n{bad}\n```")
        out.append(f"Accepted:\n\n```xml\n{good}\n```")
    out.append(f"[The rule in the domlint rules reference]({help_uri(info.id)})")
    return "\n\n".join(out)


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


# ------------------------------------------------------------------------------- the reference

def reference() -> dict[str, str]:
    """docs/rules/: file name to text; every rule of every target and the checks made in Python, with examples."""
    from . import target as targetmod
    from .builtin import builtins
    from .checker import rule_info
    from .engine import load_engine

    targets = targetmod.targets()
    by_id: dict[str, list[tuple[str, RuleInfo, str]]] = {}
    for t in targets:
        for r in load_engine(target=t).rules:
            by_id.setdefault(r.id, []).append((t.label, rule_info(r), _source_name(r.path)))
    made = builtins()
    sections: dict[str, list[tuple[str, list[str]]]] = {}
    for rid, b in made.items():
        lines = [f"### {rid}", "", f"**{b.info.severity}** · checked in Python, `{b.source}`", "",
                 _md(_sentence(b.info.summary)), "", _md(_sentence(b.when)), ""]
        if b.info.hint:
            lines += [f"**Fix:** {_md(b.info.hint)}", ""]
        sections.setdefault(page(rid), []).append((rid, lines))
    for rid, entries in by_id.items():
        sections.setdefault(page(rid), []).append((rid, _section(rid, entries)))
    header = ["<!-- Generated by `python tools/rules_reference.py` from the rule files and the targets' parse",
              "     vocabularies; do not edit by hand (tests/test_rules_reference.py checks it is up to date). -->", ""]
    out: dict[str, str] = {}
    index = ["# domlint rules reference", "", *header,
             f"Every id a finding can carry, for {', '.join(t.label for t in targets)}: {len(by_id)} rules and "
             f"{len(made)} checks made in Python, each with its severity, the targets it applies to, what a finding "
             "says, the fix, and a refused and an accepted example. A finding's SARIF `helpUri` points at its "
             "section. In messages, `…` stands for a value of the element a finding is about.", "",
             "| page | ids |", "| --- | --- |"]
    for name in sorted(sections):
        entries = sorted(sections[name])
        title = name.removesuffix(".md")
        lines = [f"# {title}-… rules", "", *header, "[All rules](README.md)", ""]
        for _rid, body in entries:
            lines += body
        out[name] = "\n".join(lines).rstrip() + "\n"
        index.append(f"| [{title}]({name}) | {len(entries)} |")
    out["README.md"] = "\n".join(index) + "\n"
    return out


def _source_name(path: str) -> str:
    """How the reference names the file a rule comes from, relative to the repository or package."""
    p = path.replace("\\", "/")
    for marker in ("/domlint/data/targets/", "/domlint/rules/", "/rules/"):
        if marker in p:
            rest = p.split(marker, 1)[1]
            return ("domlint/data/targets/" if "targets" in marker else "rules/") + rest
    return p.rsplit("/", 1)[-1]


def _md(text: str) -> str:
    """text safe in Markdown prose: no raw tags."""
    return text.replace("<", "&lt;")


def _section(rid: str, entries: list[tuple[str, RuleInfo, str]]) -> list[str]:
    labels = ", ".join(label for label, _, _ in entries)
    first = entries[-1][1]  # the newest target's text
    sources = ", ".join(dict.fromkeys(f"`{src}`" for _, _, src in entries))
    lines = [f"### {rid}", "", f"**{first.severity}** · {labels} · stage {first.stage} · {sources}"
             + (f" · capabilities: {', '.join(first.caps)}" if first.caps else ""), ""]
    texts = {(i.summary, i.message, i.hint, i.examples) for _, i, _ in entries}
    shown = entries[-1:] if len(texts) == 1 else entries
    for label, info, _ in shown:
        if len(shown) > 1:
            lines += [f"*{label}:*", ""]
        lines += [_md(_sentence(generic(info.summary, info))), ""]
        if info.message:
            lines += [f"Message: {_md(generic(info.message, info))}", ""]
        if info.hint:
            lines += [f"**Fix:** {_md(generic(info.hint, info))}", ""]
        if len(info.examples) == 2:
            lines += ["Refused:", "", "```xml", info.examples[0], "```", "", "Accepted:", "", "```xml",
                      info.examples[1], "```", ""]
    return lines
