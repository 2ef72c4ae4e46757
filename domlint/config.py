"""Configuration: `[tool.domlint]` in pyproject.toml or a .domlint.yaml, found by walking up from each file."""

from __future__ import annotations

import os
import re
from functools import cache
from typing import TYPE_CHECKING, Any

from .data import load_schema
from .pathname import StrPath, beside, clean, parent, relative_to
from .record import field, record

if TYPE_CHECKING:
    from .target import Target
from .errors import DomlintError, read_text
from .rulepack import compose_yaml, yaml_error_where
from .values import LazyPattern

# Looked for in this order in each directory; the nearest directory holding one wins.
CANDIDATES = (".domlint.yaml", ".domlint.yml", "pyproject.toml")
KEYS = ("rules", "select", "ignore", "severity", "libvirt", "caps", "caps-profile", "qemu-caps", "host", "per-path-ignores",
        "exclude", "extend-exclude")
CAPS_KEYS = ("caps", "caps-profile", "qemu-caps")

KeyPath = tuple[str | int, ...]


class ConfigError(DomlintError):
    """A configuration file that cannot be used: never ignored, always exit 2."""


@record(frozen=True)
class Config:
    """One configuration file's settings, with the line of each key for later messages."""

    path: str
    values: dict[str, Any]
    lines: dict[KeyPath, int] = field(default_factory=dict, compare=False)

    @property
    def base(self) -> str:
        """The directory relative paths and globs are taken from."""
        return parent(self.path)

    def line(self, *keys: str | int) -> int | None:
        """The line of the innermost key of keys that the file shows, or None."""
        for n in range(len(keys), -1, -1):
            if keys[:n] in self.lines:
                return self.lines[keys[:n]]
        return None

    def error(self, keys: KeyPath, message: str) -> ConfigError:
        """An error pointing at keys in this file."""
        return ConfigError(str(self.path), self.line(*keys), message)

    def resolve(self, value: str) -> str:
        """A path named in the file, taken relative to it."""
        return beside(self.path, os.path.expanduser(value))

    def ids(self, key: str) -> set[str] | None:
        """A set of rule ids or prefixes (select, ignore), or None when unset."""
        return set(self.values[key]) if key in self.values else None

    def caps_source(self) -> tuple[str, Any] | None:
        """The capability source (key, value), paths resolved, or None."""
        for key in CAPS_KEYS:
            if key in self.values:
                value = self.values[key]
                return (key, self.resolve(value) if key == "qemu-caps" else value)
        return None

    def path_ignores(self, file: StrPath) -> set[str]:
        """The rule ids ignored for file by per-path-ignores."""
        absolute = os.path.abspath(file)
        rel = relative_to(absolute, self.base) or absolute
        out: set[str] = set()
        for pattern, ids in self.values.get("per-path-ignores", {}).items():
            target = rel if "/" in pattern else rel.rsplit("/", 1)[-1]
            if glob_regex(pattern).fullmatch(target):
                out |= set(ids)
        return out


@cache
def glob_regex(pattern: str) -> re.Pattern[str]:
    """A glob as a regex: `*` and `?` stay inside one directory, `**/` spans any number of them."""
    if pattern.endswith("/"):
        pattern += "**"
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


def load(given: StrPath) -> Config | None:
    """Read one configuration file; None for a pyproject.toml without [tool.domlint]."""
    path = clean(given)
    text = read_text(path, "configuration", ConfigError)
    if os.path.basename(path) == "pyproject.toml":
        values, lines = _from_toml(path, text)
        if values is None:
            return None
    else:
        values, lines = _from_yaml(path, text)
    cfg = Config(path=path, values=values, lines=lines)
    _validate(cfg)
    return cfg


def _from_toml(path: str, text: str) -> tuple[dict[str, Any] | None, dict[KeyPath, int]]:
    import tomllib
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc)) or "invalid TOML"
        raise ConfigError(str(path), int(m.group(1)) if m else None, f"not valid TOML: {message}") from None
    tool = doc.get("tool")
    if not isinstance(tool, dict) or "domlint" not in tool:
        return None, {}
    lines = _toml_lines(text)
    values = tool["domlint"]
    if not isinstance(values, dict):
        raise ConfigError(str(path), lines.get((), None), "tool.domlint must be a table")
    return values, lines


_TOML_HEADER = LazyPattern(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(?:#.*)?$")
_TOML_KEY = LazyPattern(r"""^\s*((?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+)(?:\s*\.\s*(?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+))*)\s*=""")
_TOML_PART = LazyPattern(r""""([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+)""")


def _toml_keys(text: str) -> list[str]:
    return [a or b or c for a, b, c in _TOML_PART.findall(text)]


def _toml_lines(text: str) -> dict[KeyPath, int]:
    """Lines of the keys under tool.domlint (tomllib keeps no positions; the layout is simple enough to scan)."""
    lines: dict[KeyPath, int] = {}
    table: list[str] = []
    for n, line in enumerate(text.splitlines(), 1):
        header = _TOML_HEADER.match(line)
        key = None if header else _TOML_KEY.match(line)
        if header:
            table = _toml_keys(header.group(1))
            full = table
        elif key:
            full = table + _toml_keys(key.group(1))
        else:
            continue
        if full[:2] == ["tool", "domlint"]:
            for i in range(2, len(full) + 1):
                lines.setdefault(tuple(full[2:i]), n)
    return lines


def _from_yaml(path: str, text: str) -> tuple[dict[str, Any], dict[KeyPath, int]]:
    import yaml  # imported only when YAML is really read
    try:
        node, values = compose_yaml(text)
    except yaml.YAMLError as exc:
        line, problem = yaml_error_where(exc, text)
        raise ConfigError(str(path), line, f"not valid YAML: {problem}") from None
    if values is None:
        return {}, {}
    if not isinstance(values, dict):
        raise ConfigError(str(path), 1, "configuration must be a mapping of settings")
    lines: dict[KeyPath, int] = {}
    _yaml_lines(node, (), lines)
    return values, lines


def _yaml_lines(node: Any, at: KeyPath, out: dict[KeyPath, int]) -> None:
    import yaml  # imported only when YAML is really read
    out.setdefault(at, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            out[(*at, str(k.value))] = k.start_mark.line + 1
            _yaml_lines(v, (*at, str(k.value)), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _yaml_lines(v, (*at, i), out)


@cache
def _validator() -> Any:
    import jsonschema

    schema = load_schema("config.schema.json")
    return jsonschema.Draft202012Validator(schema)


def _validate(cfg: Config) -> None:
    errors = list(_validator().iter_errors(cfg.values))
    if errors:
        located = sorted(((_where(e), e) for e in errors), key=lambda p: (cfg.line(*p[0]) or 0, len(p[0])))
        where, err = located[0]
        raise cfg.error(where, _describe(err))
    if "libvirt" in cfg.values:
        from .errors import UsageError
        from .target import load as load_target

        try:
            load_target(cfg.values["libvirt"])
        except UsageError as exc:
            raise cfg.error(("libvirt",), f"libvirt: {exc}") from None


def check_caps(cfg: Config, target: Target) -> None:
    """Refuse (ConfigError) capability names or a profile the target does not know."""
    known = set(target.caps_names)
    for i, name in enumerate(cfg.values.get("caps", [])):
        if name not in known:
            raise cfg.error(("caps", i), f"caps: {name!r} is not a capability of {target.label}")
    profile = cfg.values.get("caps-profile")
    if profile is not None:
        from .caps import profiles

        table = profiles(target)
        if profile not in table and f"qemu-{profile}" not in table:
            raise cfg.error(("caps-profile",), f"caps-profile: unknown profile {profile!r} for {target.label}; "
                                               f"known: {', '.join(table)}")


def _where(err: Any) -> KeyPath:
    """The keys an error is about: an unknown key, or the last of conflicting ones, rather than their table."""
    at = tuple(err.absolute_path)
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        extra = [k for k in err.instance if k not in err.schema.get("properties", {})]
        return (*at, *extra[:1])
    if err.validator == "not" and isinstance(err.instance, dict):
        given = [k for k in err.instance if k in CAPS_KEYS]
        return (*at, *given[-1:])
    return at


_TYPES = {"array": "a list", "object": "a mapping", "string": "a string", "integer": "an integer"}


def _describe(err: Any) -> str:
    import difflib
    import json
    where = ".".join(str(p) for p in err.absolute_path)
    prefix = f"{where}: " if where else ""
    if err.validator == "additionalProperties" and not err.absolute_path:
        extra = sorted(set(err.instance) - set(KEYS))
        hints = [m for k in extra for m in difflib.get_close_matches(k, KEYS, 1)]
        maybe = f" (did you mean {hints[0]!r}?)" if hints else ""
        return f"unknown key {extra[0]!r}{maybe}; known keys: {', '.join(KEYS)}"
    if err.validator == "type":
        want = err.validator_value if isinstance(err.validator_value, str) else err.validator_value[0]
        return f"{prefix}expected {_TYPES.get(want, want)}, got {json.dumps(err.instance)}"
    if err.validator == "not":
        given = [k for k in CAPS_KEYS if k in err.instance]
        return f"{' and '.join(given)} are alternative capability sources; give one"
    if err.validator == "enum":
        return f"{prefix}{json.dumps(err.instance)} is not one of {', '.join(err.validator_value)}"
    if err.validator == "pattern":
        return f"{prefix}{json.dumps(err.instance)} is not a rule id or id prefix"
    return f"{prefix}{err.message}"


class Finder:
    """Finds the configuration governing each file, reading each directory once."""

    def __init__(self) -> None:
        # Folder (absolute path string) to the configuration governing it.
        self._by_dir: dict[str, Config | None] = {}

    def for_file(self, file: StrPath) -> Config | None:
        """The nearest configuration above file's directory, or None."""
        folder = os.path.dirname(os.path.abspath(file))
        walked: list[str] = []
        found: Config | None = None
        # Walks up only as far as a folder already answered (usually the file's own).
        while True:
            if folder in self._by_dir:
                found = self._by_dir[folder]
                break
            walked.append(folder)
            found = self._in_dir(folder)
            above = os.path.dirname(folder)
            if found is not None or above == folder:
                break
            folder = above
        for d in walked:
            self._by_dir[d] = found
        return found

    @staticmethod
    def _in_dir(d: str) -> Config | None:
        for name in CANDIDATES:
            candidate = os.path.join(d, name)
            if os.path.isfile(candidate):
                cfg = load(candidate)
                if cfg is not None:
                    return cfg
        return None
