"""One checking run: settings from the command line and configuration files, applied file by file.

Command-line values replace the matching configuration setting. Each file is governed
by the nearest configuration above it, so the engine, capabilities and host can differ
between files; each distinct combination is built once per run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

from . import caps as capsmod
from . import config as configmod
from . import suppress
from . import target as targetmod
from .domain import domain_arch, foreign_hypervisor, guest_arch, normalise
from .engine import Engine, Rule, load_engine, matches_id
from .errors import DomlintError, UsageError
from .findings import Finding
from .formats import CheckedFile, RuleInfo
from .host import Host, default_host
from .host import load as load_host
from .parse import Document, parse_bytes, parse_file
from .record import field, record, replace

if TYPE_CHECKING:
    from pathlib import Path

    from .start import Start


@record
class Options:
    """What the command line said; None leaves the setting to configuration."""

    libvirt: str | None = None
    caps: str | None = None
    caps_profile: str | None = None
    qemu_caps: str | None = None
    host: str | None = None
    rules: list[str] | None = None
    select: set[str] | None = None
    ignore: set[str] | None = None
    config: str | None = None
    use_config: bool = True
    inline_suppressions: bool = True
    report_unused: bool = False
    use_cache: bool = True
    # Finding ids a command adds beyond the rules (attach-check's refusals), valid in select and ignore.
    extra_ids: tuple[str, ...] = ()
    # The start judged (check --incoming): None for a plain start.
    start: Start | None = None


@record
class Settings:
    """What applies to one file."""

    engine: Engine
    # None: the target's default source, the newest built-in profile for each domain's arch.
    given_caps: capsmod.Caps | None
    host: Host
    select: set[str] | None
    ignore: set[str] | None
    severity: dict[str, str]
    config: configmod.Config | None
    _active: dict[tuple[frozenset[str], frozenset[str]], tuple[set[str], tuple[str, ...]]] = field(
        default_factory=dict, repr=False)
    _known: set[str] = field(default_factory=set, repr=False)
    # What caps_for gave for each arch, and the last (path, per-path ignores) and (ignores, caps, active_for):
    # asked once or twice per checked file, each costing some microseconds (a few hundred flags copied).
    _caps_by_arch: dict[str | None, capsmod.Caps] = field(default_factory=dict, repr=False, compare=False)
    _last_dropped: tuple[str, frozenset[str]] | None = field(default=None, repr=False, compare=False)
    _last_active: tuple[frozenset[str], frozenset[str], tuple[set[str], tuple[str, ...]]] | None = field(
        default=None, repr=False, compare=False)

    @property
    def target(self) -> targetmod.Target:
        """The libvirt release the verdicts are for."""
        return self.engine.target

    @property
    def caps(self) -> capsmod.Caps:
        """The capability set of an x86_64 domain (see caps_for)."""
        return self.caps_for(None)

    def caps_for(self, arch: str | None) -> capsmod.Caps:
        """The capabilities a domain of arch is judged under: the given source, else the host profile's
        capability file for arch (qemu_caps, as a snapshot records them), else the target's default for arch."""
        if self.given_caps is not None:
            return self.given_caps
        found = self._caps_by_arch.get(arch)
        if found is None:
            # Both sources keep what they read: one answer per arch for the life of these settings.
            found = capsmod.of_host(self.host, self.target, arch) or capsmod.newest_profile(self.target, arch)
            self._caps_by_arch[arch] = found
        return found

    def source_of(self, caps: capsmod.Caps) -> str:
        """How a report names the source of caps, the capabilities one domain was judged under."""
        if self.given_caps is None and caps.source.startswith("profile "):
            return f"{caps.source} (the newest built-in{' for ' + caps.arch if caps.arch else ''})"
        return caps.source

    def active_ids(self, path: str, caps: frozenset[str] | None = None) -> set[str]:
        """Ids of the rules that can fire on path under these settings."""
        # Files sharing their per-path ignores (most do) share one answer.
        return self._active_for(self._dropped(path), caps)[0]

    def active_sorted(self, path: str, caps: frozenset[str] | None = None) -> tuple[str, ...]:
        """active_ids(path), sorted: what a report lists as checked."""
        return self._active_for(self._dropped(path), caps)[1]

    def _dropped(self, path: str) -> frozenset[str]:
        """The per-path ignores of path (the last path's kept: a check asks for each file twice in a row)."""
        if self.config is None:
            return frozenset()
        last = self._last_dropped
        if last is None or last[0] != path:
            last = self._last_dropped = (path, frozenset(self.config.path_ignores(path)))
        return last[1]

    def _active_for(self, dropped: frozenset[str], caps: frozenset[str] | None) -> tuple[set[str], tuple[str, ...]]:
        caps = self.caps if caps is None else caps
        last = self._last_active
        # The same caps object as last time (the common case) needs no copy of its flags to look up.
        if last is not None and last[1] is caps and last[0] == dropped:
            return last[2]
        key = (dropped, frozenset(caps))
        found = self._active.get(key)
        if found is None:
            ids = set(self.engine.active_ids(caps, self.select, self.ignore))
            if dropped:
                ids = {i for i in ids if not matches_id(i, dropped)}
            found = self._active[key] = (ids, tuple(sorted(ids)))
        self._last_active = (dropped, caps, found)
        return found

    def known_ids(self) -> set[str]:
        """Every id a suppression may name: the rules, and the suppression checks' own."""
        if not self._known:
            self._known = set(self.engine.ids) | set(suppress.META_RULES)
        return self._known

    def wants(self, rule_id: str, path: str) -> bool:
        """Whether a finding of rule_id in path survives select, ignore and per-path ignores."""
        dropped = self._dropped(path)
        return ((not self.select or matches_id(rule_id, self.select))
                and not (self.ignore and matches_id(rule_id, self.ignore))
                and not matches_id(rule_id, dropped))

    def severity_of(self, rule_id: str, default: str) -> str:
        """The severity after overrides: the longest matching key wins."""
        keys = [k for k in self.severity if matches_id(rule_id, [k])]
        return self.severity[max(keys, key=len)] if keys else default


def rule_info(r: Rule) -> RuleInfo:
    """What reports say about rule r (plain values: it crosses process boundaries with -j)."""
    from .rulepack import first_examples

    wanted = r.caps.needs or (r.caps.lacking_any | r.caps.absent)
    return RuleInfo(r.id, r.severity, r.summary, r.hint, tuple(r.caps.names()), r.path, r.line,
                    message=r.message, feature=str(r.body.get("feature") or ""), wanted=tuple(sorted(wanted)),
                    stage=r.stage, examples=first_examples(r.body))


class RuleInfos(MutableMapping[str, RuleInfo]):
    """What reports say about each rule, by id: made when first read, since a text report of a clean file never
    reads it and the 9.0 pack has a thousand rules."""

    def __init__(self, known: dict[str, RuleInfo]) -> None:
        self._data = dict(known)
        self._pending: list[Rule | Engine] = []

    def register(self, rules: list[Rule] | Engine) -> None:
        """Add rules, or an engine's (their infos are made on the next read, in this order, the first of an id kept)."""
        if isinstance(rules, Engine):
            self._pending.append(rules)
        else:
            self._pending += rules

    def _made(self) -> dict[str, RuleInfo]:
        if self._pending:
            pending, self._pending = self._pending, []
            for item in pending:
                for r in item.rules if isinstance(item, Engine) else (item,):
                    if r.id not in self._data:
                        self._data[r.id] = rule_info(r)
        return self._data

    def __getitem__(self, key: str) -> RuleInfo:
        return self._made()[key]

    def __setitem__(self, key: str, value: RuleInfo) -> None:
        self._made()[key] = value

    def __delitem__(self, key: str) -> None:
        del self._made()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._made())

    def __len__(self) -> int:
        return len(self._made())

    def __contains__(self, key: object) -> bool:
        return key in self._made()

    def __reduce__(self) -> tuple[type, tuple[dict[str, RuleInfo]]]:
        # Crosses to the parent of a -j worker as the plain dict it stands for.
        return (dict, (self._made(),))


class Checker:
    """Checks files under options, reading each configuration, rule pack and profile once."""

    def __init__(self, options: Options, engines: dict[tuple[str, ...], Engine] | None = None) -> None:
        self.options = options
        self.finder = configmod.Finder()
        self.explicit: configmod.Config | None = None
        if options.config:
            self.explicit = configmod.load(options.config)
            if self.explicit is None:
                raise configmod.ConfigError(options.config, None, "has no [tool.domlint] table")
        # engines: compiled rule packs shared by the Checkers of one run (a worker checks several chunks).
        self._engines: dict[tuple[str, ...], Engine] = engines if engines is not None else {}
        self._registered: set[tuple[str, ...]] = set()
        self._caps: dict[tuple[str, str, str], capsmod.Caps] = {}
        self._hosts: dict[str, Host] = {}
        self._settings: dict[str, Settings] = {}
        self.checked: list[CheckedFile] = []
        self.rules = RuleInfos(suppress.META_RULES)

    def config_for(self, path: str | Path) -> configmod.Config | None:
        """The configuration governing path, if any."""
        if not self.options.use_config:
            return None
        return self.explicit or self.finder.for_file(path)

    def settings_for(self, path: str | Path) -> Settings:
        """The settings for one file (ConfigError, RuleErrors or UsageError when they cannot be built)."""
        cfg = self.config_for(path)
        key = str(cfg.path) if cfg else ""
        if key not in self._settings:
            self._settings[key] = self._build(cfg)
        return self._settings[key]

    def _engine(self, dirs: list[str], target: targetmod.Target) -> Engine:
        k = (target.name, *dirs)
        if k not in self._engines:
            self._engines[k] = load_engine(dirs, use_cache=self.options.use_cache, target=target)
        engine = self._engines[k]
        if k not in self._registered:
            self._registered.add(k)
            self.rules.register(engine)
        return self._engines[k]

    def _caps_for(self, kind: str, value: Any, target: targetmod.Target) -> capsmod.Caps:
        k = (target.name, kind, str(value))
        if k not in self._caps:
            if kind == "caps":
                self._caps[k] = (capsmod.from_list(value, target) if isinstance(value, str)
                                 else capsmod.Caps(frozenset(value) | target.retired, "configuration"))
            elif kind == "caps-profile":
                self._caps[k] = capsmod.from_profile(value, target)
            else:
                self._caps[k] = capsmod.from_file(value, target)
        return self._caps[k]

    def _host_for(self, path: str | None) -> Host:
        if path is None:
            return default_host()
        if path not in self._hosts:
            self._hosts[path] = load_host(path)
        return self._hosts[path]

    def _build(self, cfg: configmod.Config | None) -> Settings:
        o = self.options
        values = cfg.values if cfg else {}
        config_dirs = [str(cfg.resolve(d)) for d in values.get("rules", [])] if cfg else []
        dirs = list(o.rules) if o.rules is not None else config_dirs
        target = targetmod.resolve(o.libvirt or values.get("libvirt"))
        if cfg:
            configmod.check_caps(cfg, target)
        engine = self._engine(dirs, target)
        caps: capsmod.Caps | None = None
        if o.caps is not None:
            caps = self._caps_for("caps", o.caps, target)
        elif o.caps_profile:
            caps = self._caps_for("caps-profile", o.caps_profile, target)
        elif o.qemu_caps:
            caps = self._caps_for("qemu-caps", o.qemu_caps, target)
        elif cfg and cfg.caps_source():
            caps = self._caps_for(*cfg.caps_source(), target)
        if o.host:
            host = self._host_for(o.host)
        else:
            host = self._host_for(str(cfg.resolve(values["host"])) if cfg and "host" in values else None)
        rule_ids = set(engine.ids) | set(suppress.META_RULES) | set(o.extra_ids)

        def known(i: str) -> bool:
            # attach-check's ids too, so that one configuration serves check and attach-check; looked up
            # only for an id no rule matches, since they live in the module attach-check alone imports.
            if any(matches_id(k, [i]) for k in rule_ids):
                return True
            from .builtin import builtin_ids

            return any(matches_id(k, [i]) for k in builtin_ids())

        for label, ids in (("--select", o.select), ("--ignore", o.ignore)):
            unknown = sorted(i for i in ids or () if not known(i))
            if unknown:
                raise UsageError(f"{label}: no rule matches {', '.join(unknown)}")
        if cfg:
            self._check_config_ids(cfg, known)
        select = o.select if o.select is not None else (cfg.ids("select") if cfg else None)
        ignore = o.ignore if o.ignore is not None else (cfg.ids("ignore") if cfg else None)
        return Settings(engine=engine, given_caps=caps, host=host, select=select or None, ignore=ignore or None,
                        severity=dict(values.get("severity", {})), config=cfg)

    @staticmethod
    def _check_config_ids(cfg: configmod.Config, known: set[str] | Callable[[str], bool]) -> None:
        def check(keys: tuple[str | int, ...], rule_id: str) -> None:
            """Raise when rule_id matches no known rule."""
            found = known(rule_id) if callable(known) else any(matches_id(k, [rule_id]) for k in known)
            if not found:
                label = f"per-path-ignores {keys[1]!r}" if keys[0] == "per-path-ignores" else keys[0]
                raise cfg.error(keys, f"{label}: no rule matches {rule_id!r}")

        for key in ("select", "ignore"):
            for i, rid in enumerate(cfg.values.get(key, [])):
                check((key, i), rid)
        for rid in cfg.values.get("severity", {}):
            check(("severity", rid), rid)
        for pattern, ids in cfg.values.get("per-path-ignores", {}).items():
            for i, rid in enumerate(ids):
                check(("per-path-ignores", pattern, i), rid)

    def outcome(self, path: str | Path) -> list[Finding] | DomlintError:
        """check_file's findings for path, or the error that makes the file unusable."""
        try:
            return self.check_file(path)
        except DomlintError as exc:
            return exc

    def check_file(self, path: str | Path, data: bytes | None = None) -> list[Finding]:
        """Parse, normalise and check one file, or data named path (standard input); DomlintError when
        it cannot be used."""
        settings = self.settings_for(path)
        doc = parse_file(path) if data is None else parse_bytes(data, str(path))
        skipped = foreign_hypervisor(doc, settings.target)
        if skipped is not None:
            self.checked.append(CheckedFile(doc.path, (), note=skipped, target=settings.target.label))
            return []
        # Suppressions are read before normalisation, which may append elements after them.
        read = self.suppressions(doc, settings)
        caps = settings.caps_for(guest_arch(doc, settings.host))
        normalise(doc, settings.host, settings.target, caps)
        return self.check_document(doc, settings, read, caps)

    def suppressions(self, doc: Document, settings: Settings) -> tuple[list[suppress.Suppression], list[Finding]]:
        """The inline suppressions of a document as written, and findings about unusable ones."""
        if not self.options.inline_suppressions:
            return [], []
        known = settings.known_ids()
        return suppress.parse(doc, lambda i: any(matches_id(k, [i]) for k in known))

    def check_document(self, doc: Document, settings: Settings | None = None,
                       read: tuple[list[suppress.Suppression], list[Finding]] | None = None,
                       caps: capsmod.Caps | None = None) -> list[Finding]:
        """Every finding on a normalised document after per-path ignores, suppressions and overrides."""
        # read: what suppressions() gave before normalising; read now when the caller has none.
        settings = settings or self.settings_for(doc.path)
        engine = settings.engine
        caps = caps if caps is not None else settings.caps_for(domain_arch(doc))
        active = settings.active_ids(doc.path, caps)
        self.checked.append(CheckedFile(doc.path, settings.active_sorted(doc.path, caps),
                                        target=settings.target.label, caps=settings.source_of(caps)))
        found = [f for f in engine.evaluate(doc, caps, settings.select, settings.ignore, settings.host,
                                            self.options.start)
                 if f.rule_id in active]
        sups, meta = read if read is not None else self.suppressions(doc, settings)
        found = suppress.apply(doc, found, sups)
        if self.options.report_unused:
            meta = meta + suppress.unused(doc, sups, active)
        found += [f for f in meta if settings.wants(f.rule_id, doc.path)]
        if settings.severity:
            found = [replace(f, severity=settings.severity_of(f.rule_id, f.severity)) for f in found]
        found.sort(key=lambda f: (f.line, f.column, f.rule_id))
        if not found:
            return found
        # Imported only for a file with findings: a clean file (the common case of a hook) needs no keys.
        from .identity import finding_key

        return [f if f.key else replace(f, key=finding_key(doc.tree, f.xpath)) for f in found]
