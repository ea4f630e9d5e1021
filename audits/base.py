"""The audit plugin contract.

A plugin is one module in ``audits/`` (or a third-party package) exposing a subclass
of :class:`AuditPlugin` through the entry-point group ``govaudit.audits``.

It declares its rules as data (:class:`RuleSpec`) and yields :class:`Finding` objects
from ``check_page`` (called once per crawled HTML page) and/or ``check_site`` (called
once with the whole snapshot). It reads the stored :class:`SiteSnapshot`, never Scrapy
objects, so ``govaudit reaudit RUN`` can run it again without a crawl.

See ``audits/example.py`` for a complete, minimal plugin.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from core.availability import Probe
from core.snapshot import Page, RunInfo, SiteSnapshot

if TYPE_CHECKING:
    from core.config import Config
    from core.dns import Resolver


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def zh(self) -> str:
        return {"error": "严重", "warning": "警告", "info": "提示"}[self.value]

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


@dataclass(frozen=True)
class RuleSpec:
    """One rule, as data. Reports, emails and docs render from this, never from code."""

    id: str  # e.g. "links.broken": public contract, never renamed
    title: str  # Chinese title, e.g. "链接无法访问"
    severity: Severity
    regulation: (
        str  # the rule it enforces, e.g. "国办秘函〔2019〕19号 政府网站与政务新媒体检查指标"
    )
    advice: str  # Chinese remediation advice
    unit: str = "信息中心"  # default responsible unit
    description: str = ""  # longer Chinese explanation (optional)
    category: str = ""  # grouping for charts, e.g. "链接可用性"


@dataclass
class Finding:
    """One problem found. ``url`` is the offending resource, ``page`` where it was seen."""

    rule: str
    message: str  # Chinese, specific: says what and where
    url: str | None = None
    page: str | None = None  # None for site-level findings
    evidence: dict[str, Any] = field(default_factory=dict)
    severity: Severity | None = None  # None → the rule's default
    unit: str | None = None  # None → resolved by the unit map / rule default
    key: str = ""  # extra identity for the fingerprint (e.g. the axe selector)
    plugin: str = ""  # filled in by the runner
    fingerprint: str = ""  # filled in by the runner

    def compute_fingerprint(self) -> str:
        """Stable across runs: rule + url + page + key evidence (not the message text)."""
        raw = json.dumps([self.rule, self.url or "", self.page or "", self.key], ensure_ascii=False)
        return hashlib.sha1(raw.encode("utf-8")).hexdigest()[:16]


class NoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass
class PreviousRun:
    """The site's last good run before this one: its snapshot, the site-level figures its
    plugins recorded (``site_data``) and its run directory (screenshots)."""

    info: RunInfo
    snapshot: SiteSnapshot
    site_data: dict[str, Any]
    run_dir: Path


class RunHistory(Protocol):
    """What a plugin may read of earlier runs and of the service's homepage probes."""

    def previous_good(self) -> PreviousRun | None: ...

    def probes(self, start: datetime, end: datetime) -> list[Probe]: ...


@dataclass
class AuditContext:
    """What a plugin receives besides its options: config, clock, resolver, artifacts."""

    config: Config
    snapshot: SiteSnapshot
    today: date
    now: datetime
    resolver: Resolver | None = None
    artifact_dir: Path | None = None  # where a plugin may write files (screenshots …)
    progress: Callable[[str], None] = lambda message: None
    site_data: dict[str, Any] = field(default_factory=dict)  # site-level figures for reports
    history: RunHistory | None = None  # earlier runs and the probe log (None: not available)


class AuditPlugin:
    """Base class of every audit plugin.

    Subclasses set ``name``, ``title`` and ``rules``; optionally ``Options`` (a pydantic
    model with ``extra="forbid"``, validated from ``[plugins.<name>]`` in the config)
    and override ``check_page`` and/or ``check_site``.
    """

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""  # Chinese
    rules: ClassVar[list[RuleSpec]] = []
    Options: ClassVar[type[BaseModel]] = NoOptions
    #: Set False for plugins that must not run on ``check_page`` for every page.
    wants_pages: ClassVar[bool] = True
    #: Set True for plugins that read ``snapshot.texts()`` (attachment text): the run then
    #: downloads and reads the site's attachments after the crawl (pipeline/texts.py).
    wants_texts: ClassVar[bool] = False

    def __init__(self, options: BaseModel, context: AuditContext) -> None:
        self.options = options
        self.ctx = context

    @classmethod
    def rule(cls, rule_id: str) -> RuleSpec:
        for spec in cls.rules:
            if spec.id == rule_id:
                return spec
        raise KeyError(f"{cls.__name__} declares no rule {rule_id!r}")

    def check_page(self, page: Page) -> Iterable[Finding]:
        """Findings about one page. Called for every crawled HTML page, in crawl order."""
        return ()

    def check_site(self, snapshot: SiteSnapshot) -> Iterable[Finding]:
        """Findings about the site as a whole. Called once, after every page."""
        return ()

    def close(self) -> None:
        """Release resources (browsers, sockets). Called even when a check raised."""
