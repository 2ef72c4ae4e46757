"""What a warm `domlint check FILE` imports beyond python and lxml: pinned, so a new import is a decision.

One `check` of one file is what a pre-commit hook runs for every commit; its time
is mostly start-up (benchmarks/bench.py compares it with `python -c "import
lxml.etree"`). Measure an import's cost with `python -X importtime -m domlint
check FILE` before adding it here.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from domlint import suppress
from domlint.checker import Checker, Options, rule_info
from domlint.formats import RuleInfo

# Every domlint module a check of one file under either target needs, and no other.
CHECK_MODULES = sorted([
    "domlint", "domlint.cache", "domlint.caps", "domlint.checker", "domlint.cli", "domlint.commands",
    "domlint.commands.check", "domlint.commands.options", "domlint.config", "domlint.data",
    "domlint.discover", "domlint.domain",
    "domlint.engine", "domlint.errors", "domlint.findings", "domlint.formats", "domlint.formats.text",
    "domlint.host", "domlint.machine", "domlint.numbers", "domlint.parse", "domlint.pathname", "domlint.predicates",
    "domlint.record", "domlint.regex_programs", "domlint.rulepack", "domlint.selectors", "domlint.suppress",
    "domlint.target", "domlint.terminal",
    "domlint.values", "domlint.walk", "domlint.yamlcheck",
])
# Under 1.2.8 the rules read the emitter's own address and alias assignment (issue 13): those modules,
# and none of the families that build arguments.
ASSIGNMENT_128 = [
    "domlint.cmdline", "domlint.cmdline.address", "domlint.cmdline.alias", "domlint.cmdline.assign",
    "domlint.cmdline.command", "domlint.cmdline.context", "domlint.cmdline.devices", "domlint.cmdline.pci_slots",
    "domlint.cmdline.vio_ccw",
]
# The standard library modules it brings in beyond what lxml imports: gc (built in), and __future__.
STDLIB = ["__future__", "gc"]
# Each costs a one-file check a millisecond or more (argparse with gettext and locale; dataclasses compiling
# every class's methods; the YAML and schema stacks; worker pools; pathlib with urllib.parse and ipaddress,
# about 4 ms: domlint.pathname spells names as it does), none of which it needs.
HEAVY = {"argparse", "dataclasses", "copy", "gettext", "locale", "shutil", "textwrap", "yaml", "jsonschema",
         "multiprocessing", "concurrent.futures", "tomllib", "hashlib", "pathlib", "urllib.parse", "ipaddress"}

_PROBE = """\
import json, sys
import lxml.etree
before = set(sys.modules)
from domlint.cli import main
status = main(['check', '-q', '--libvirt', sys.argv[1], sys.argv[2]])
print(json.dumps([status, sorted(set(sys.modules) - before)]))
"""


@pytest.mark.parametrize("target", ["1.2.8", "9.0"])
def test_a_warm_check_of_one_file_imports_exactly_its_modules(tmp_path: Path, target: str) -> None:
    small = tmp_path / "guest.xml"
    shutil.copyfile(REPO / "examples" / "guest-good.xml", small)
    env = {**os.environ, "DOMLINT_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(REPO)}
    runs = [subprocess.run([sys.executable, "-c", _PROBE, target, str(small)], capture_output=True, text=True,
                           env=env, cwd=tmp_path, check=False, timeout=300) for _ in range(2)]
    status, imported = json.loads(runs[1].stdout.strip().splitlines()[-1])
    assert status == 0, runs[1].stderr
    expected = sorted(CHECK_MODULES + (ASSIGNMENT_128 if target == "1.2.8" else []))
    assert sorted(m for m in imported if m.split(".")[0] == "domlint") == expected
    others = sorted(m for m in imported if m.split(".")[0] != "domlint")
    assert not HEAVY & set(others), f"heavy imports on the check path: {sorted(HEAVY & set(others))}"
    assert others == sorted(STDLIB), "the check path's imports changed"


def test_rule_infos_are_made_when_read_and_match_registering_each_at_once() -> None:
    checker = Checker(Options(libvirt="9.0", use_config=False))
    checker.check_file(REPO / "examples" / "guest-good.xml")
    assert checker.rules._pending, "a clean file's check should make no rule infos"
    eager = dict(suppress.META_RULES)
    for r in checker.settings_for(REPO / "examples" / "guest-good.xml").engine.rules:
        eager.setdefault(r.id, rule_info(r))
    checker.rules.setdefault("attach-x", RuleInfo("attach-x", "error", "x"))
    assert list(checker.rules.items()) == [*eager.items(), ("attach-x", RuleInfo("attach-x", "error", "x"))]
    sent = pickle.loads(pickle.dumps(checker.rules))
    assert type(sent) is dict and sent == dict(checker.rules)
