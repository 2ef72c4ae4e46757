"""Every row of checks.tsv is covered by a rule's `upstream:` or listed, with a reason, as uncovered.

Run it as a script (`python tests/test_coverage.py`) for the counts and the ids still open.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import CONFORMANCE

from domlint.engine import load_engine
from domlint.rulepack import RuleErrors, load_uncovered

# The error codes that mean "this configuration cannot be run": the rows the issue counts (211).
CONFIG_CODES = frozenset({"VIR_ERR_CONFIG_UNSUPPORTED", "VIR_ERR_OVERFLOW", "VIR_ERR_XML_ERROR"})


@dataclass(frozen=True)
class Coverage:
    """Which checks.tsv rows rules cover, which are listed as uncovered, and what is wrong."""

    rows: dict[str, str]            # id -> error code
    covered: dict[str, list[str]]   # id -> rule ids naming it
    listed: dict[str, str]          # id -> reason

    def open_ids(self, only_config: bool) -> list[str]:
        """Rows neither covered nor listed."""
        return [q for q, code in self.rows.items()
                if (code in CONFIG_CODES or not only_config) and q not in self.covered and q not in self.listed]

    def counts(self, only_config: bool) -> tuple[int, int, int]:
        """(rows, covered by rules, listed as exceptions)."""
        ids = [q for q, code in self.rows.items() if code in CONFIG_CODES or not only_config]
        return (len(ids), sum(q in self.covered for q in ids), sum(q in self.listed for q in ids))

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
    """checks.tsv as id -> error code."""
    with path.open(newline="") as fh:
        return {row["id"]: row["code"] for row in csv.DictReader(fh, delimiter="\t")}


def measure() -> Coverage:
    """Coverage of the built-in rule pack and the exceptions table."""
    covered: dict[str, list[str]] = {}
    for rule in load_engine(use_cache=False).rules:
        for qid in rule.upstream:
            covered.setdefault(qid, []).append(rule.id)
    return Coverage(read_rows(CONFORMANCE / "checks.tsv"), covered, load_uncovered())


@pytest.fixture(scope="module")
def cov() -> Coverage:
    return measure()


def test_checks_table_has_the_rows_the_issue_counts(cov: Coverage) -> None:
    assert cov.counts(only_config=True)[0] == 211
    assert len(cov.rows) == 288


def test_every_configuration_row_is_covered_or_listed(cov: Coverage) -> None:
    assert not cov.open_ids(only_config=True), cov.report()


def test_every_row_is_covered_or_listed(cov: Coverage) -> None:
    # Internal errors too: covered when XML can trigger them, listed with why it cannot otherwise.
    assert not cov.open_ids(only_config=False), cov.report()


def test_no_row_is_both_covered_and_listed(cov: Coverage) -> None:
    both = {q: cov.covered[q] for q in cov.listed if q in cov.covered}
    assert not both, f"listed as uncovered but named by rules: {both}"


def test_named_ids_exist(cov: Coverage) -> None:
    assert not sorted(set(cov.covered) - set(cov.rows)), "rules name rows checks.tsv does not have"
    assert not sorted(set(cov.listed) - set(cov.rows)), "the exceptions table lists rows checks.tsv does not have"


def test_coverage_detects_each_kind_of_gap() -> None:
    rows = {"Q001": "VIR_ERR_CONFIG_UNSUPPORTED", "Q002": "VIR_ERR_INTERNAL_ERROR", "Q003": "VIR_ERR_OVERFLOW"}
    c = Coverage(rows, {"Q001": ["disk-x"]}, {"Q002": "only on out-of-memory"})
    assert c.open_ids(only_config=True) == ["Q003"]
    assert c.counts(only_config=True) == (2, 1, 0) and c.counts(only_config=False) == (3, 1, 1)
    assert "open: Q003" in c.report()


@pytest.mark.parametrize(("text", "message"), [
    ("- id: Q001\n  reason: r\n- id: Q001\n  reason: again\n", ":3: Q001 is listed twice"),
    ("- id: Q001\n", ":1: an entry needs exactly an id"),
    ("- id: Q01\n  reason: r\n", ":1: an entry needs"),
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
    print(measure().report())
