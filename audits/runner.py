"""Runs the enabled plugins over a stored snapshot and stores their findings."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from audits.base import AuditContext, AuditPlugin, Finding, PreviousRun, RuleSpec, Severity
from audits.registry import discover, select_plugins
from core.availability import Probe
from core.config import Config, ConfigError
from core.dns import Resolver
from core.units import assign_unit
from reports.store import Store

log = logging.getLogger(__name__)


@dataclass
class AuditResult:
    store: Store
    run_id: int
    count: int = 0  # findings stored (after removing exact duplicates)
    errors: list[dict[str, Any]] = field(default_factory=list)
    plugins: list[str] = field(default_factory=list)
    site_data: dict[str, Any] = field(default_factory=dict)

    @property
    def findings(self) -> list[dict[str, Any]]:
        """The stored findings, errors first (read back from the store: may be many)."""
        return self.store.findings(self.run_id)


def validate_plugin_options(config: Config, names: list[str] | None = None) -> dict[str, Any]:
    """Validate ``[plugins.NAME]`` tables before anything runs; raise ConfigError naming the key."""
    available = discover()
    selected = select_plugins(available, names if names is not None else config.enabled_plugins())
    options: dict[str, Any] = {}
    for name, cls in selected.items():
        raw = config.plugin_options(name)
        try:
            options[name] = cls.Options.model_validate(raw)
        except ValidationError as exc:
            lines = [f"invalid configuration for plugin {name!r}:"]
            for err in exc.errors():
                key = ".".join(["plugins", name, *(str(p) for p in err["loc"])])
                if err["type"] == "extra_forbidden":
                    known = ", ".join(cls.Options.model_fields) or "(none)"
                    lines.append(f"  {key}: unknown key; known keys: {known}")
                else:
                    lines.append(f"  {key}: {err['msg']} (got {err.get('input')!r})")
            raise ConfigError("\n".join(lines)) from None
    return options


def all_rules() -> dict[str, tuple[str, RuleSpec]]:
    """rule id → (plugin name, spec), over every installed plugin."""
    out: dict[str, tuple[str, RuleSpec]] = {}
    for name, cls in discover().items():
        for spec in cls.rules:
            out[spec.id] = (name, spec)
    return out


def run_audits(
    store: Store,
    run_id: int,
    config: Config,
    plugin_names: list[str] | None = None,
    today: date | None = None,
    resolver: Resolver | None = None,
    progress: Callable[[str], None] = lambda m: None,
) -> AuditResult:
    """Run plugins over run ``run_id``'s snapshot; store and return the findings.

    A plugin that raises is recorded in ``errors`` and the others go on.
    """
    available = discover()
    selected = select_plugins(
        available, plugin_names if plugin_names is not None else config.enabled_plugins()
    )
    options = validate_plugin_options(config, list(selected))
    snapshot = store.snapshot(run_id)
    now = datetime.now()
    ctx_base = dict(
        history=StoreHistory(store, run_id, snapshot.run.site),
        config=config,
        snapshot=snapshot,
        today=today or now.date(),
        now=now if today is None else datetime.combine(today, now.time()),
        resolver=resolver,
        artifact_dir=Path(snapshot.artifact_dir()),
        progress=progress,
    )
    errors: list[dict[str, Any]] = []
    plugins: dict[str, AuditPlugin] = {}
    site_data: dict[str, Any] = {}
    # Findings go to the store in batches as plugins yield them: memory stays flat
    # however many findings a large site has. Reports read them back in order.
    store.delete_findings(run_id)
    sink = _FindingSink(store, run_id, config)

    def record_error(name: str, stage: str, exc: BaseException) -> None:
        log.error("plugin %s failed in %s: %s", name, stage, exc)
        errors.append(
            {
                "plugin": name,
                "stage": stage,
                "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(limit=6),
            }
        )

    for name, cls in selected.items():
        try:
            ctx = AuditContext(**ctx_base)  # type: ignore[arg-type]
            plugins[name] = cls(options[name], ctx)
        except Exception as exc:
            record_error(name, "init", exc)

    def take(
        cls: type[AuditPlugin], name: str, stage: str, produce: Callable[[], Iterable[Finding]]
    ) -> bool:
        try:
            for finding in produce() or ():
                sink.add(cls, finding)
            return True
        except Exception as exc:
            record_error(name, stage, exc)
            return False

    page_plugins = {
        n: p for n, p in plugins.items() if p.wants_pages and _overrides(p, "check_page")
    }
    failed: set[str] = set()
    if page_plugins:
        for count, page in enumerate(snapshot.pages(), 1):
            for name, plugin in page_plugins.items():
                if name in failed:
                    continue
                if not take(
                    type(plugin), name, f"check_page {page.url}", partial(plugin.check_page, page)
                ):
                    failed.add(name)
            if count % 200 == 0:
                progress(f"audited {count} pages")
    for name, plugin in plugins.items():
        progress(f"site checks: {name}")
        take(type(plugin), name, "check_site", partial(plugin.check_site, snapshot))
        site_data.update(plugin.ctx.site_data)
    for name, plugin in plugins.items():
        try:
            plugin.close()
        except Exception as exc:
            record_error(name, "close", exc)

    sink.flush()
    return AuditResult(
        store, run_id, sink.count, errors=errors, plugins=list(selected), site_data=site_data
    )


class StoreHistory:
    """audits.base.RunHistory over the store: the previous good run and the probe log."""

    def __init__(self, store: Store, run_id: int, site: str) -> None:
        self.store, self.run_id, self.site = store, run_id, site

    def previous_good(self) -> PreviousRun | None:
        prev = self.store.previous_good_run(self.site, before=self.run_id)
        if prev is None:
            return None
        row = self.store.run_row(prev.id) or {}
        return PreviousRun(
            prev,
            self.store.snapshot(prev.id),
            row.get("site_data") or {},
            self.store.run_dir(prev.id),
        )

    def probes(self, start: datetime, end: datetime) -> list[Probe]:
        from reports.availability import probes_between

        return probes_between(self.store, self.site, start, end)


def _overrides(plugin: AuditPlugin, method: str) -> bool:
    return getattr(type(plugin), method) is not getattr(AuditPlugin, method)


class _FindingSink:
    """Completes findings (plugin, severity, unit, fingerprint), drops exact duplicates
    and writes them to the store ``batch`` at a time."""

    def __init__(self, store: Store, run_id: int, config: Config, batch: int = 500) -> None:
        self.store = store
        self.run_id = run_id
        self.config = config
        self.batch = batch
        self.seen: set[str] = set()
        self.rows: list[dict[str, Any]] = []
        self.count = 0

    def add(self, cls: type[AuditPlugin], finding: Finding) -> None:
        row = complete(cls, finding, self.config)
        if row["fingerprint"] in self.seen:
            return
        self.seen.add(row["fingerprint"])
        self.rows.append(row)
        self.count += 1
        if len(self.rows) >= self.batch:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.store.add_findings(self.run_id, self.rows)
            self.rows = []


def complete(cls: type[AuditPlugin], f: Finding, config: Config) -> dict[str, Any]:
    """A finding as stored: plugin, severity, unit and fingerprint filled in."""
    try:
        spec: RuleSpec | None = cls.rule(f.rule)
    except KeyError:
        spec = None
    severity = f.severity or (spec.severity if spec else Severity.WARNING)
    f.plugin = cls.name
    f.fingerprint = f.fingerprint or f.compute_fingerprint()
    unit = f.unit or assign_unit(
        f.rule, spec.unit if spec else None, f.url, f.page, f.evidence, config
    )
    return {
        "plugin": cls.name,
        "rule": f.rule,
        "severity": Severity(severity).value,
        "url": f.url,
        "page": f.page,
        "message": f.message,
        "evidence": f.evidence,
        "unit": unit,
        "fingerprint": f.fingerprint,
    }
