"""Write docs/rules/, the rules reference, from the rule files (`--check`: only say whether it is up to date).

    python tools/rules_reference.py          # rewrite docs/rules/
    python tools/rules_reference.py --check  # exit 1 when docs/rules/ is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from domlint.ruledoc import REFERENCE_DIR, reference  # noqa: E402


def stale(folder: Path, pages: dict[str, str]) -> list[str]:
    """The pages of folder that differ from pages, are missing, or are no longer made."""
    have = {p.name for p in folder.glob("*.md")} if folder.is_dir() else set()
    return sorted(n for n in have | set(pages)
                  if n not in pages or n not in have or (folder / n).read_text(encoding="utf-8") != pages[n])


def main(argv: list[str]) -> int:
    """Rewrite the reference, or with --check compare it; the exit status says whether it was up to date."""
    folder = REPO / REFERENCE_DIR
    pages = reference()
    differ = stale(folder, pages)
    if "--check" in argv:
        if differ:
            sys.stderr.write(f"{REFERENCE_DIR}/ is out of date ({', '.join(differ[:5])}...): "
                             "run python tools/rules_reference.py\n")
            return 1
        return 0
    folder.mkdir(parents=True, exist_ok=True)
    for name in differ:
        if name in pages:
            (folder / name).write_text(pages[name], encoding="utf-8")
        else:
            (folder / name).unlink()
    sys.stderr.write(f"{REFERENCE_DIR}/: {len(pages)} pages, {len(differ)} written or removed\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
