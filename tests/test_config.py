"""Configuration: found by walking up from each file, command line wins, broken ones stop with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import CONFORMANCE, REPO, USER_RULE, run_cli

BAD = (REPO / "examples" / "guest-bad.xml").read_text()
ALL_THREE = {"disk-io-native-cache", "disk-ide-readonly", "disk-lun-not-block"}



def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tmp_path


def _found(*args: str, cwd: Path) -> tuple[int, dict[str, str]]:
    """Exit status and {rule id: severity} of a JSON run."""
    proc = run_cli("check", "--format", "json", *args, cwd=cwd)
    assert proc.stdout, proc.stderr
    return proc.returncode, {f["rule_id"]: f["severity"] for f in json.loads(proc.stdout)["findings"]}


def test_pyproject_found_from_a_nested_directory(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "pyproject.toml": """[project]\nname = "guests"\n\n[tool.domlint]\nignore = ["disk-io-native-cache"]\n"""
                          """\n[tool.domlint.severity]\ndisk-lun = "warning"\n""",
        "vms/prod/web01.xml": BAD,
    })
    code, found = _found("vms/prod/web01.xml", cwd=root)
    assert found == {"disk-ide-readonly": "error", "disk-lun-not-block": "warning"}
    assert code == 1
    # From another directory the same configuration governs the file.
    assert _found(str(root / "vms/prod/web01.xml"), cwd=REPO)[1] == found


def test_severity_overrides_change_the_exit_status(tmp_path: Path) -> None:
    root = _tree(tmp_path, {".domlint.yaml": "severity:\n  disk: warning\n  disk-ide-readonly: info\n",
                            "g.xml": BAD})
    code, found = _found("g.xml", cwd=root)
    assert found == {"disk-io-native-cache": "warning", "disk-lun-not-block": "warning", "disk-ide-readonly": "info"}
    assert code == 0


def test_nearest_configuration_wins_and_pyproject_without_table_is_skipped(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        ".domlint.yaml": "ignore: [disk-ide-readonly]\n",
        "a/pyproject.toml": "[project]\nname = 'a'\n",
        "a/g.xml": BAD,
        "b/.domlint.yaml": "select: [disk-lun]\n",
        "b/g.xml": BAD,
    })
    assert set(_found("a/g.xml", cwd=root)[1]) == ALL_THREE - {"disk-ide-readonly"}
    assert set(_found("b/g.xml", cwd=root)[1]) == {"disk-lun-not-block"}
    # Both in one run: each file gets its own configuration.
    proc = run_cli("check", "--format", "json", "a/g.xml", "b/g.xml", cwd=root)
    assert len(json.loads(proc.stdout)["findings"]) == 3


@pytest.mark.corpus
def test_capability_sources(tmp_path: Path) -> None:
    caps_file = CONFORMANCE / "qemu-caps" / "caps_1.2.2-1.caps"
    root = _tree(tmp_path, {
        "list/.domlint.yaml": "caps: [drive]\n", "list/g.xml": BAD,
        "profile/.domlint.yaml": "caps-profile: qemu-1.6.0\n", "profile/g.xml": BAD,
        "file/.domlint.yaml": "qemu-caps: qemu.caps\n", "file/qemu.caps": caps_file.read_text(), "file/g.xml": BAD,
    })
    # drive without drive-readonly: the read-only IDE disk is fine for that QEMU.
    assert "disk-ide-readonly" not in _found("list/g.xml", cwd=root)[1]
    assert "disk-ide-readonly" in _found("profile/g.xml", cwd=root)[1]
    assert _found("file/g.xml", cwd=root)[1] == _found("--caps-profile", "1.2.2", "file/g.xml", cwd=root)[1]
    # The command line wins over the configuration.
    assert "disk-ide-readonly" in _found("--caps", "drive,drive-readonly", "list/g.xml", cwd=root)[1]


def test_extra_rules_host_and_per_path_ignores(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "pyproject.toml": '[tool.domlint]\nrules = ["site-rules"]\nhost = "host.yaml"\n'
                          '[tool.domlint.per-path-ignores]\n"legacy/**" = ["disk-ide-readonly", "disk-needs-serial"]\n'
                          '"*-scratch.xml" = ["disk-lun"]\n',
        "site-rules/serial.yaml": USER_RULE,
        "host.yaml": (REPO / "domlint" / "data" / "host-default.yaml").read_text(),
        "new/web01.xml": BAD,
        "legacy/old/web01.xml": BAD,
        "new/db-scratch.xml": BAD,
    })
    assert set(_found("new/web01.xml", cwd=root)[1]) == ALL_THREE | {"disk-needs-serial"}
    assert set(_found("legacy/old/web01.xml", cwd=root)[1]) == ALL_THREE - {"disk-ide-readonly"}
    assert set(_found("new/db-scratch.xml", cwd=root)[1]) == ALL_THREE - {"disk-lun-not-block"} | {"disk-needs-serial"}
    # --rules replaces the configured directories.
    (root / "empty-rules").mkdir()
    assert "disk-needs-serial" not in _found("--rules", "empty-rules", "new/web01.xml", cwd=root)[1]
    assert "disk-needs-serial" not in _found("--no-config", "new/web01.xml", cwd=root)[1]


def test_command_line_select_and_ignore_replace_the_configuration(tmp_path: Path) -> None:
    root = _tree(tmp_path, {".domlint.yaml": "select: [disk-lun]\nignore: [disk-io]\n", "g.xml": BAD})
    assert set(_found("g.xml", cwd=root)[1]) == {"disk-lun-not-block"}
    assert set(_found("--select", "disk", "g.xml", cwd=root)[1]) == ALL_THREE - {"disk-io-native-cache"}
    assert set(_found("--ignore", "disk-lun", "g.xml", cwd=root)[1]) == set()
    assert set(_found("--select", "disk", "--ignore", "disk-ide", "g.xml", cwd=root)[1]) == \
        ALL_THREE - {"disk-ide-readonly"}


def test_explicit_config_and_no_config(tmp_path: Path) -> None:
    root = _tree(tmp_path, {".domlint.yaml": "ignore: [disk]\n", "elsewhere/strict.yaml": "select: [disk-lun]\n",
                            "g.xml": BAD})
    assert _found("g.xml", cwd=root) == (0, {})
    assert set(_found("--no-config", "g.xml", cwd=root)[1]) == ALL_THREE
    assert set(_found("--config", "elsewhere/strict.yaml", "g.xml", cwd=root)[1]) == {"disk-lun-not-block"}
    proc = run_cli("check", "--config", "nope.yaml", "g.xml", cwd=root)
    assert proc.returncode == 2 and "nope.yaml: cannot read configuration" in proc.stderr


BROKEN = {
    "bad-toml": ("pyproject.toml", "[tool.domlint]\nselect = [\"disk\"\nignore = []\n", 3, "not valid TOML"),
    "bad-yaml": (".domlint.yaml", "select: [disk]\n  ignore: x\n", 2, "not valid YAML"),
    "control-character": (".domlint.yaml", "select: [disk]\nignore: [\x07]\n", 2,
                          "not valid YAML: character U+0007 is not allowed\n"),
    "unknown-key": (".domlint.yaml", "select: [disk]\nselct: [disk]\n", 2, "unknown key 'selct' (did you mean 'select'?)"),
    "unknown-key-toml": ("pyproject.toml", "[tool.domlint]\n\nignore = []\ncolour = 'red'\n", 4, "unknown key 'colour'"),
    "wrong-type": (".domlint.yaml", "ignore: disk-lun\n", 1, 'ignore: expected a list, got "disk-lun"'),
    "wrong-type-toml": ("pyproject.toml", "[tool.domlint]\nselect = [\"disk\"]\nrules = 'x'\n", 3,
                        'rules: expected a list, got "x"'),
    "bad-severity": ("pyproject.toml", "[tool.domlint.severity]\ndisk-lun = \"fatal\"\n", 2,
                     'severity.disk-lun: "fatal" is not one of error, warning, info'),
    "unknown-rule": (".domlint.yaml", "ignore:\n  - disk\n  - disk-warp-drive\n", 3,
                     "ignore: no rule matches 'disk-warp-drive'"),
    "unknown-rule-per-path": (".domlint.yaml", "per-path-ignores:\n  '*.xml': [nope]\n", 2,
                              "per-path-ignores '*.xml': no rule matches 'nope'"),
    "two-caps-sources": (".domlint.yaml", "caps: [drive]\ncaps-profile: 1.6.0\n", 2,
                         "caps and caps-profile are alternative capability sources"),
    "unknown-capability": (".domlint.yaml", "caps:\n  - drive\n  - warp-drive\n", 3,
                            "caps: 'warp-drive' is not a capability of libvirt"),
    "unknown-profile": (".domlint.yaml", "\ncaps-profile: qemu-9.9\n", 2, "caps-profile: unknown profile 'qemu-9.9'"),
    "not-a-mapping": (".domlint.yaml", "- select\n", 1, "configuration must be a mapping"),
    "not-a-table": ("pyproject.toml", "[tool]\ndomlint = 3\n", 2, "tool.domlint must be a table"),
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_broken_configuration_is_exit_2_with_file_and_line(kind: str, tmp_path: Path) -> None:
    name, text, line, message = BROKEN[kind]
    root = _tree(tmp_path, {f"configured/{name}": text, "configured/g.xml": BAD, "other/g.xml": BAD})
    proc = run_cli("check", "configured/g.xml", "other/g.xml", cwd=root)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"{root / 'configured' / name}:{line}: {message}" in proc.stderr, proc.stderr
    # The file outside that configuration was still checked.
    assert "other/g.xml:17:5: error [disk-ide-readonly]" in proc.stdout


def test_schema_lists_every_key_and_is_valid() -> None:
    import jsonschema

    from domlint.config import KEYS

    schema = json.loads((REPO / "schema" / "config.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert set(schema["properties"]) == set(KEYS)


@pytest.mark.parametrize(("pattern", "path", "hit"), [
    ("legacy/**", "legacy/a/b.xml", True),
    ("legacy/", "legacy/b.xml", True),
    ("legacy/*.xml", "legacy/a/b.xml", False),
    ("**/old-*.xml", "old-1.xml", True),
    ("**/old-*.xml", "x/y/old-1.xml", True),
    ("*.xml", "deep/down/a.xml", True),
    ("a?.xml", "ab.xml", True),
    ("a?.xml", "a/.xml", False),
])
def test_per_path_globs(pattern: str, path: str, hit: bool, tmp_path: Path) -> None:
    from domlint.config import Config

    cfg = Config(path=tmp_path / ".domlint.yaml", values={"per-path-ignores": {pattern: ["disk"]}})
    assert (cfg.path_ignores(tmp_path / path) == {"disk"}) is hit
