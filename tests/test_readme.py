"""The README cannot drift: generated references, commands and configuration examples are checked."""

from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path

import pytest
import yaml
from conftest import REPO

README = (REPO / "README.md").read_text()


def _tool():
    spec = importlib.util.spec_from_file_location("schema_reference", REPO / "tools" / "schema_reference.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_references_are_up_to_date() -> None:
    assert _tool().update(README) == README, "README is out of date: run python tools/schema_reference.py"


def test_reference_follows_the_schema() -> None:
    # A field added to the schema shows up in the generated text.
    import json

    tool = _tool()
    schema = json.loads((REPO / "schema" / "rule.schema.json").read_text())
    schema["$defs"]["rule"]["properties"]["tint"] = {"type": "string", "description": "A brand new field."}
    assert "| `tint` |  | string | A brand new field. |" in tool.rule_reference(schema)
    assert "`tint`" not in README


def test_first_screen_commands_are_unchanged() -> None:
    first = README.split("\n---\n", 1)[0]
    assert ("    python3 -m venv .venv && . .venv/bin/activate && pip install . && "
            "domlint check examples/guest-bad.xml\n") in first
    assert "    pip install '.[test]' && python -m pytest\n" in first


def _commands() -> list[list[str]]:
    """Every `domlint ...` command line in the README's indented and fenced examples."""
    out = []
    for line in README.splitlines():
        m = re.match(r"^\s*(?:- run: |run: )?(domlint \S.*)$", line)
        if m:
            out.append(shlex.split(m.group(1).split("  #")[0].split(" > ")[0]))
    return out


@pytest.mark.parametrize("argv", _commands(), ids=lambda a: " ".join(a)[:60])
def test_readme_commands_parse(argv: list[str]) -> None:
    from domlint.cli import build_parser

    args = build_parser().parse_args(argv[1:])
    assert args.func


def test_readme_lists_every_format() -> None:
    from domlint import formats

    for name in formats.names():
        assert f"| `{name}` |" in README


def _fenced(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, re.S)


def test_readme_configuration_examples_are_valid(tmp_path: Path) -> None:
    from domlint import config
    from domlint.checker import Checker, Options
    from domlint.engine import load_engine

    toml = next(b for b in _fenced("toml") if "[tool.domlint]" in b)
    yml = next(b for b in _fenced("yaml") if b.startswith("caps-profile:"))
    known = {r.id for r in load_engine().rules}
    for name, text in (("pyproject.toml", toml), (".domlint.yaml", yml)):
        (tmp_path / name).write_text(text)
        cfg = config.load(tmp_path / name)
        assert cfg is not None and cfg.values["caps-profile"] == "qemu-1.6.0"
        Checker(Options())._check_config_ids(cfg, known)
        (tmp_path / name).unlink()


def test_readme_pre_commit_and_actions_examples() -> None:
    blocks = [yaml.safe_load(b) for b in _fenced("yaml") if b.startswith(("repos:", "name: domlint"))]
    precommit = next(b for b in blocks if "repos" in b)
    hook_ids = {h["id"] for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert precommit["repos"][0]["hooks"][0]["id"] in hook_ids
    workflow = next(b for b in blocks if "jobs" in b)
    steps = workflow["jobs"]["domlint"]["steps"]
    assert any("--format sarif" in s.get("run", "") for s in steps)
    upload = next(s for s in steps if "upload-sarif" in s.get("uses", ""))
    assert upload["if"] == "always()" and upload["with"]["sarif_file"] == "domlint.sarif"


def test_first_screen_claims_hold() -> None:
    # The bundled example: three errors under libvirt 1.2.8, exit 1; the summary names the target either way.
    from conftest import run_cli

    from domlint import target

    first = " ".join(README.split("\n---\n", 1)[0].split())
    assert "`domlint check --libvirt 1.2.8 examples/guest-bad.xml` reports all three and exits 1" in first
    proc = run_cli("check", "--libvirt", "1.2.8", "examples/guest-bad.xml")
    assert proc.returncode == 1 and "1 file checked, 3 error(s)" in proc.stderr
    assert "target libvirt 1.2.8, QEMU capabilities: " in proc.stderr
    proc = run_cli("check", "examples/guest-bad.xml", env={"DOMLINT_LIBVIRT": ""})
    assert proc.returncode in (0, 1) and f"target {target.newest().label}, QEMU capabilities: " in proc.stderr


def test_targets_section_follows_the_data() -> None:
    from domlint import target

    section = " ".join(README.split("\n## Targets\n", 1)[1].split("\n## ", 1)[0].split())
    for t in target.targets():
        assert f"`--libvirt {t.name}`" in section
        assert f"{t.name}: " + ", ".join(f"`{h}`" for h in t.hypervisors) in section
    keys = set().union(*(t.raw for t in target.targets()))
    doc = (REPO / "domlint" / "data" / "targets" / "README.md").read_text()
    assert all(f"| `{k}` |" in doc for k in keys), sorted(k for k in keys if f"| `{k}` |" not in doc)
