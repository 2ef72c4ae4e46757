"""Each target's tables of libvirt error sites against the rules that cite them.

Tables: libvirt 1.2.8's command-line builder (checks.tsv of its corpus, Q ids),
libvirt 1.2.8's parser (domlint/data/targets/1.2.8/parse-checks.tsv, P ids,
written by tools/parse_checks_128.py) and libvirt 9.0 (checks.tsv of its corpus,
M ids). A row is, in this order of precedence:

- covered by rules: a rule of that target names it in `upstream:`;
- covered by vocabulary: a P row domlint checks without a rule, by its number
  readers or its XML reader (domlint/data/targets/1.2.8/parse-vocabulary.yaml);
  a row an entry of the target's parse vocabulary names (domlint/data/targets/NAME/vocabulary.yaml);
- listed: no rule can decide it, with the reason (each target's uncovered-checks.yaml);
- open: none of these.

No row of any table may be open: a new row (a table rebuilt from a newer
source) fails the suite until a rule, the vocabulary or the exceptions table
takes it. Run the module as a script for the counts and the open ids.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from conftest import CONFORMANCE, CONFORMANCE_9, REPO, require_corpora

from domlint.engine import load_engine
from domlint.numbers import FIELDS
from domlint.rulepack import RuleErrors, load_uncovered

# The error codes that mean "this configuration cannot be run": the rows the issue counts (211).
CONFIG_CODES = frozenset({"VIR_ERR_CONFIG_UNSUPPORTED", "VIR_ERR_OVERFLOW", "VIR_ERR_XML_ERROR"})
TARGET_DATA = REPO / "domlint" / "data" / "targets"
PARSE_TABLE = TARGET_DATA / "1.2.8" / "parse-checks.tsv"
VOCABULARY = TARGET_DATA / "1.2.8" / "parse-vocabulary.yaml"
UNCOVERED_9 = TARGET_DATA / "9.0" / "uncovered-checks.yaml"


@dataclass(frozen=True)
class Coverage:
    """Which rows of one table rules cover, the vocabulary covers, are listed as uncovered; what is wrong."""

    rows: dict[str, str]            # id -> error code
    covered: dict[str, list[str]]   # id -> rule ids naming it
    listed: dict[str, str]          # id -> reason
    vocabulary: dict[str, str] = field(default_factory=dict)  # id -> the built-in check

    def kind(self, q: str) -> str:
        """rules, vocabulary, listed or open (the first that holds)."""
        if q in self.covered:
            return "rules"
        if q in self.vocabulary:
            return "vocabulary"
        return "listed" if q in self.listed else "open"

    def _ids(self, only_config: bool) -> list[str]:
        return [q for q, code in self.rows.items() if code in CONFIG_CODES or not only_config]

    def open_ids(self, only_config: bool) -> list[str]:
        """Rows neither covered nor listed."""
        return [q for q in self._ids(only_config) if self.kind(q) == "open"]

    def counts(self, only_config: bool) -> tuple[int, int, int]:
        """(rows, covered by rules, listed as exceptions)."""
        ids = self._ids(only_config)
        return (len(ids), sum(self.kind(q) == "rules" for q in ids), sum(self.kind(q) == "listed" for q in ids))

    def line(self, label: str) -> str:
        """rows / covered by rules / covered by vocabulary / listed / open, over all rows."""
        kinds = [self.kind(q) for q in self.rows]
        return (f"{label}: {len(kinds)} rows / {kinds.count('rules')} covered by rules / "
                f"{kinds.count('vocabulary')} covered by vocabulary / {kinds.count('listed')} listed / "
                f"{kinds.count('open')} open")

    def report(self) -> str:
        """Counts and open ids, for people."""
        lines = []
        for label, only in (("configuration rows", True), ("all rows", False)):
            total, cov, lst = self.counts(only)
            still = self.open_ids(only)
            lines.append(f"{label}: {total}; covered by rules {cov}; listed as exceptions {lst}; open {len(still)}")
            if still:
                lines.append("  open: " + " ".join(still))
        return "\n".join(lines)


def read_rows(path: Path) -> dict[str, str]:
    """A checks table as id -> error code (no quoting: messages hold quotes)."""
    with path.open(newline="") as fh:
        return {row["id"]: row["code"] for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)}


def load_vocabulary(path: Path = VOCABULARY) -> dict[str, str]:
    """parse-vocabulary.yaml as id -> check; ValueError for an entry naming no check domlint has."""
    fields = {f.what for f in FIELDS}
    out: dict[str, str] = {}
    for entry in yaml.safe_load(path.read_text()) or []:
        pid, by = str(entry.get("id")), str(entry.get("by"))
        kind, _, what = by.partition(": ")
        if (set(entry) != {"id", "by"} or not re.fullmatch(r"P[0-9]{4}", pid) or pid in out
                or not (by == "xml" or (kind == "number" and what in fields))):
            raise ValueError(f"{path}: bad or repeated entry {entry!r} (by: xml, or number: a numbers.FIELDS name)")
        out[pid] = by
    return out


def rule_ids(target: str, vocabulary: bool = False) -> dict[str, list[str]]:
    """upstream id -> the ids of the target's rules naming it (only those of its vocabulary.yaml, or only the others)."""
    covered: dict[str, list[str]] = {}
    for rule in load_engine(use_cache=False, target=target).rules:
        if rule.path.endswith("vocabulary.yaml") != vocabulary:
            continue
        for qid in rule.upstream:
            covered.setdefault(qid, []).append(rule.id)
    return covered


def measure_all() -> dict[str, Coverage]:
    """Every table of every target, by label."""
    old, new = rule_ids("1.2.8"), rule_ids("9.0")
    vocab_9 = {q: ", ".join(ids) for q, ids in rule_ids("9.0", vocabulary=True).items()}
    listed = load_uncovered()
    listed_9 = load_uncovered(UNCOVERED_9)
    q_rows, p_rows = read_rows(CONFORMANCE / "checks.tsv"), read_rows(PARSE_TABLE)
    return {
        "1.2.8 command line (Q)": Coverage(q_rows, {q: r for q, r in old.items() if q[0] == "Q"},
                                           {q: w for q, w in listed.items() if q[0] == "Q"}),
        "1.2.8 parser (P)": Coverage(p_rows, {q: r for q, r in old.items() if q[0] == "P"},
                                     {q: w for q, w in listed.items() if q[0] == "P"},
                                     {**load_vocabulary(), **{q: ", ".join(ids) for q, ids in
                                                              rule_ids("1.2.8", vocabulary=True).items()}}),
        "9.0 (M)": Coverage(read_rows(CONFORMANCE_9 / "checks.tsv"), {q: r for q, r in new.items() if q[0] == "M"},
                            listed_9, vocab_9),
    }


@pytest.fixture(scope="module")
def tables() -> dict[str, Coverage]:
    require_corpora()  # the Q and M tables are the corpora's checks.tsv
    return measure_all()


@pytest.fixture(scope="module")
def cov(tables: dict[str, Coverage]) -> Coverage:
    return tables["1.2.8 command line (Q)"]


@pytest.fixture(scope="module")
def parse_cov(tables: dict[str, Coverage]) -> Coverage:
    return tables["1.2.8 parser (P)"]


def test_print_the_coverage_of_each_target(tables: dict[str, Coverage]) -> None:
    # Shown with `pytest -s`, and by running the module as a script.
    for label, c in tables.items():
        print(c.line(label))
        assert c.line(label).endswith(" open")


def test_checks_table_has_the_rows_the_issue_counts(cov: Coverage) -> None:
    assert cov.counts(only_config=True)[0] == 211
    assert len(cov.rows) == 288


def test_every_configuration_row_is_covered_or_listed(cov: Coverage) -> None:
    assert not cov.open_ids(only_config=True), cov.report()


def test_every_row_is_covered_or_listed(cov: Coverage) -> None:
    # Internal errors too: covered when XML can trigger them, listed with why it cannot otherwise.
    assert not cov.open_ids(only_config=False), cov.report()


def test_no_row_is_both_covered_and_listed(tables: dict[str, Coverage]) -> None:
    for c in tables.values():
        both = {q: c.covered[q] for q in c.listed if q in c.covered}
        assert not both, f"listed as uncovered but named by rules: {both}"


def test_named_ids_exist(tables: dict[str, Coverage]) -> None:
    for label, c in tables.items():
        assert not sorted(set(c.covered) - set(c.rows)), f"rules name rows the {label} table does not have"
        assert not sorted(set(c.listed) - set(c.rows)), f"the exceptions table lists rows the {label} table does not have"
        assert not sorted(set(c.vocabulary) - set(c.rows)), f"the vocabulary names rows the {label} table does not have"


def test_no_parse_row_is_both_in_the_vocabulary_and_listed(parse_cov: Coverage) -> None:
    assert not sorted(set(parse_cov.vocabulary) & set(parse_cov.listed))


def test_parse_table_shape() -> None:
    with PARSE_TABLE.open(newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert list(rows[0]) == ["id", "file", "function", "line", "code", "phase", "message", "condition"]
    assert [r["id"] for r in rows] == [f"P{i:04d}" for i in range(1, len(rows) + 1)]
    # Ids follow file then line, so they stay put while the source does.
    assert [(r["file"], int(r["line"])) for r in rows] == sorted((r["file"], int(r["line"])) for r in rows)
    assert {r["phase"] for r in rows} <= {"parse", "post-parse"} and len(rows) > 500


@pytest.mark.parametrize("label", ["1.2.8 parser (P)", "9.0 (M)"])
def test_every_row_of_each_table_is_covered_or_listed(tables: dict[str, Coverage], label: str) -> None:
    # Every error site is covered by a rule, by the vocabulary, or listed with the reason no check can decide it.
    assert not tables[label].open_ids(only_config=False), f"{label}: open rows {' '.join(tables[label].open_ids(False))}"


def test_no_row_is_both_in_a_vocabulary_and_named_by_a_rule(tables: dict[str, Coverage]) -> None:
    for label, c in tables.items():
        assert not sorted(set(c.vocabulary) & set(c.covered)), label


def test_vocabulary_entries_must_name_a_check(tmp_path: Path) -> None:
    f = tmp_path / "v.yaml"
    f.write_text("- {id: P0001, by: 'number: no such field'}\n")
    with pytest.raises(ValueError, match="bad or repeated entry"):
        load_vocabulary(f)
    f.write_text("- {id: P0001, by: xml}\n- {id: P0001, by: xml}\n")
    with pytest.raises(ValueError, match="bad or repeated entry"):
        load_vocabulary(f)
    f.write_text("- {id: P0001, by: 'number: <memory>'}\n")
    assert load_vocabulary(f) == {"P0001": "number: <memory>"}


def test_coverage_detects_each_kind_of_gap() -> None:
    rows = {"Q001": "VIR_ERR_CONFIG_UNSUPPORTED", "Q002": "VIR_ERR_INTERNAL_ERROR", "Q003": "VIR_ERR_OVERFLOW"}
    c = Coverage(rows, {"Q001": ["disk-x"]}, {"Q002": "only on out-of-memory"})
    assert c.open_ids(only_config=True) == ["Q003"]
    assert c.counts(only_config=True) == (2, 1, 0) and c.counts(only_config=False) == (3, 1, 1)
    assert "open: Q003" in c.report()
    v = Coverage(rows, {"Q001": ["disk-x"]}, {"Q002": "only on out-of-memory"}, {"Q001": "xml", "Q003": "xml"})
    assert v.line("t") == "t: 3 rows / 1 covered by rules / 1 covered by vocabulary / 1 listed / 0 open"


@pytest.mark.parametrize(("text", "message"), [
    ("- id: Q001\n  reason: r\n- id: Q001\n  reason: again\n", ":3: Q001 is listed twice"),
    ("- id: Q001\n", ":1: an entry needs exactly an id"),
    ("- id: Q01\n  reason: r\n", ":1: an entry needs"),
    ("- id: P001\n  reason: r\n", ":1: an entry needs"),
    ("- id: Q001\n  reason: '  '\n", ":1: an entry needs"),
    ("id: Q001\n", ":1: must be a list"),
])
def test_malformed_exceptions_table(text: str, message: str, tmp_path: Path) -> None:
    f = tmp_path / "u.yaml"
    f.write_text(text)
    with pytest.raises(RuleErrors) as exc:
        load_uncovered(f)
    assert f"{f}{message}" in str(exc.value)


if __name__ == "__main__":
    found = measure_all()
    for name, c in found.items():
        print(c.line(name))
    print("1.2.8 command line (Q):\n" + found["1.2.8 command line (Q)"].report())
