"""One validated configuration object, loaded from a TOML file.

Every key is documented in ``docs/config.md``. Validation happens before anything runs;
an error names the key, the bad value and what is expected.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class ConfigError(Exception):
    """A configuration problem, with a message that names the key and the fix."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class SiteConfig(_Model):
    name: str = Field("", description="Site name shown in reports, e.g. 某市自然资源和规划局")
    urls: list[str] = Field(
        default_factory=list, description="Start URL(s); the first is the homepage"
    )
    sitemap: str | None = Field(
        None, description="URL of a sitemap.xml whose URLs are also crawled"
    )
    extra_hosts: list[str] = Field(
        default_factory=list, description="Other hosts that count as internal"
    )
    include_prefixes: list[str] = Field(
        default_factory=list, description="If set, only these path prefixes are crawled"
    )
    exclude: list[str] = Field(default_factory=list, description="Regexes of URLs never crawled")

    @field_validator("urls")
    @classmethod
    def _check_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            parts = urlsplit(url.strip())
            if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
                raise ValueError(
                    f"{url!r} is not an http(s) URL; write e.g. 'https://www.example.gov.cn/'"
                )
        return [u.strip() for u in value]

    @field_validator("exclude")
    @classmethod
    def _check_regex(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a valid regular expression ({exc})") from None
        return value


class RenderConfig(_Model):
    patterns: list[str] = Field(
        default_factory=list, description="Regexes of URLs rendered in Chromium"
    )
    auto: bool = Field(True, description="Render pages whose links only appear after scripts run")
    max_pages: int = Field(200, ge=0, description="At most this many pages rendered per run")


class CrawlConfig(_Model):
    max_pages: int = Field(5000, ge=1, description="Stop after this many internal pages")
    max_depth: int = Field(12, ge=0, description="Clicks from a start URL")
    max_query_variants: int = Field(
        30, ge=1, description="Distinct query strings per path (ends calendar-style traps)"
    )
    concurrency_per_host: int = Field(4, ge=1, le=64, description="Concurrent requests per host")
    concurrency: int = Field(16, ge=1, le=256, description="Concurrent requests in all")
    autothrottle: bool = Field(True, description="Adapt the request rate to the server's latency")
    download_delay: float = Field(
        0.0, ge=0, description="Minimum seconds between requests to one host"
    )
    obey_robots: bool = Field(
        True, description="Obey robots.txt (a bureau may audit its own site with false)"
    )
    contact: str = Field("", description="Contact added to the User-Agent, e.g. an email address")
    timeout: float = Field(
        15.0, gt=0, description="Seconds; 15 is the inspection indicators' figure"
    )
    retries: int = Field(1, ge=0, le=10, description="Retries of a failed request")
    max_redirects: int = Field(10, ge=1, le=50, description="Longer chains are too_many_redirects")
    max_page_bytes: int = Field(
        8_000_000,
        ge=10_000,
        description="Larger pages are truncated (after decompression too: gzip bombs stop "
        "here); a finding (links.page_truncated) says so",
    )
    max_links_per_page: int = Field(
        5000,
        description="Link targets taken from one page; the rest are not checked and a "
        "links.not_checked finding gives the counts",
    )
    max_targets: int = Field(
        200_000,
        description="Distinct link targets (pages and links) checked in one run; once "
        "reached, new targets are not checked and a links.not_checked finding gives the counts",
    )
    check_external: bool = Field(True, description="Check links to other sites (HEAD, then GET)")
    verify_tls: bool = Field(
        True,
        description="Verify HTTPS certificates: an expired, self-signed or wrong-host "
        "certificate is a tls_error (links.broken), as a browser would refuse it. Turn off "
        "only to audit a staging server that has a test certificate",
    )
    render: RenderConfig = Field(default_factory=RenderConfig)
    follow_entrances: list[str] = Field(
        default_factory=lambda: ["政府信息公开", "信息公开", "政务公开"],
        description="Link texts of entrances followed to another host (a 政府信息公开平台 "
        "beside the portal) even when it is not in site.extra_hosts; [] follows none",
    )
    entrance_depth: int = Field(
        2, ge=0, le=10, description="Clicks crawled on an entrance's host, from the entrance"
    )

    @field_validator("max_links_per_page", "max_targets")
    @classmethod
    def _check_caps(cls, value: int, info: Any) -> int:
        example = {"max_links_per_page": 5000, "max_targets": 200_000}[info.field_name]
        if value < 1:
            raise ValueError(
                f"must be at least 1 (a cap on link targets, not a switch); "
                f"write e.g. {info.field_name} = {example}"
            )
        return value


class DnsConfig(_Model):
    resolve: list[str] = Field(
        default_factory=list, description="HOST:PORT:ADDR overrides, as curl --resolve"
    )
    server: str | None = Field(
        None, description="IP[:PORT] of a DNS server used instead of the system's"
    )

    @field_validator("resolve")
    @classmethod
    def _check_resolve(cls, value: list[str]) -> list[str]:
        for item in value:
            parse_resolve(item)
        return value

    @field_validator("server")
    @classmethod
    def _check_server(cls, value: str | None) -> str | None:
        if value is not None:
            parse_dns_server(value)
        return value


class AttachmentsConfig(_Model):
    """[attachments]: the text layer's downloads (PDF, Word, Excel linked from pages)."""

    enabled: bool = Field(
        True, description="Download and read attachments when a text audit (wording, privacy) runs"
    )
    external: bool = Field(False, description="Also read attachments on other sites")
    max_files: int = Field(2000, ge=0, description="At most this many attachments per run")
    max_bytes: int = Field(
        20_000_000,
        ge=1000,
        description="Larger files (after decompression) are not read: a not_checked finding",
    )
    timeout: float = Field(
        60.0, gt=0, description="Seconds to download one file, and again to read its text"
    )
    max_chars: int = Field(
        2_000_000, ge=1000, description="Characters of text kept per file (the rest is cut)"
    )
    workers: int = Field(4, ge=1, le=32, description="Files downloaded at once")


class UnitConfig(_Model):
    name: str
    emails: list[str] = Field(default_factory=list)


class UnitMapEntry(_Model):
    prefix: str | None = Field(None, description="URL or path prefix of the pages this unit owns")
    column: str | None = Field(None, description="Column name this unit owns")
    rule: str | None = Field(None, description="Rule id (or prefix such as 'a11y.') this unit owns")
    unit: str


class UnitsConfig(_Model):
    default: str = "信息中心"
    unit: list[UnitConfig] = Field(default_factory=list, description="[[units.unit]] name, emails")
    map: list[UnitMapEntry] = Field(default_factory=list)


class ScoreDeduction(_Model):
    """One deduction item: points per counted occurrence, from a site_data figure or findings."""

    id: str
    title: str = Field(description="Chinese title shown in the scorecard")
    site_data: str | None = Field(None, description="site_data key holding the count")
    rule: str | None = Field(None, description="count findings of this rule id (or 'prefix.')")
    match: dict[str, str] = Field(
        default_factory=dict, description="evidence key → substring the finding must contain"
    )
    points: float = Field(ge=0, description="points deducted per occurrence")
    max_points: float | None = Field(None, ge=0, description="cap on this item's deduction")
    basis: str = ""


def _default_deductions() -> list[ScoreDeduction]:
    basis = "国办秘函〔2019〕19号 政府网站与政务新媒体检查指标"
    return [
        ScoreDeduction(
            id="broken_homepage",
            title="首页链接不可用",
            site_data="links.broken_homepage",
            points=1.0,
            basis=basis,
        ),
        ScoreDeduction(
            id="broken_other",
            title="其他页面链接不可用",
            site_data="links.broken_other",
            points=0.1,
            basis=basis,
        ),
        ScoreDeduction(
            id="policy_stale",
            title="政策文件栏目超过6个月未更新",
            rule="columns.stale",
            match={"category": "政策文件"},
            points=5.0,
            max_points=5.0,
            basis=basis,
        ),
    ]


class ScorecardConfig(_Model):
    pass_score: float = Field(60, ge=0, le=100, description="below this score the site fails")
    homepage_stale_days: int = Field(14, ge=1, description="veto: homepage not updated for days")
    stale_columns: int = Field(5, ge=1, description="veto: 动态/要闻 + 通知公告/政策文件 stale")
    long_stale_columns: int = Field(10, ge=1, description="veto: long-stale columns")
    blank_columns: int = Field(5, ge=1, description="veto: 空白栏目")
    deductions: list[ScoreDeduction] = Field(default_factory=_default_deductions)


class ReportConfig(_Model):
    deadline_days: dict[str, int] = Field(
        default_factory=lambda: {"error": 5, "warning": 15, "info": 30},
        description="整改时限: working days from first seen, per severity",
    )
    history: int = Field(12, ge=1, description="Past runs shown in the trend chart")

    @field_validator("deadline_days")
    @classmethod
    def _deadlines_not_negative(cls, value: dict[str, int]) -> dict[str, int]:
        for severity, days in value.items():
            if severity not in ("error", "warning", "info"):
                raise ValueError(f"unknown severity {severity!r}; use error, warning or info")
            if days < 0:
                raise ValueError(
                    f"{severity} = {days}: a deadline is a number of working days, 0 or more"
                )
        return value

    scorecard: ScorecardConfig = Field(
        default_factory=lambda: ScorecardConfig(),
        description="[report.scorecard] thresholds and points of the self-inspection scorecard",
    )


class MailConfig(_Model):
    host: str | None = None
    port: int = 25
    security: Literal["none", "starttls", "ssl"] = "none"
    user: str | None = None
    password_env: str | None = Field(
        None, description="Name of the environment variable with the password"
    )
    sender: str = "govaudit@localhost"
    info_centre: list[str] = Field(
        default_factory=list, description="Addresses that get the full summary"
    )
    send_empty: bool = False
    dry_run: bool = False
    retries: int = Field(5, ge=0, le=100, description="Delivery attempts after the first")
    backoff_seconds: float = Field(30.0, ge=0, description="Seconds before the first retry")


class ScheduleEntry(_Model):
    cron: str = Field(description="Crontab expression, e.g. '0 2 * * 1'")
    plugins: list[str] | None = None
    max_pages: int | None = Field(None, ge=1, description="Stop after this many pages")
    name: str = ""


class ServeConfig(_Model):
    host: str = "127.0.0.1"
    port: int = 8600
    token_env: str | None = Field(
        "GOVAUDIT_TOKEN",
        description="Environment variable with the access token (required off loopback)",
    )
    run_timeout: float = Field(4 * 3600, gt=0, description="Wall-clock limit of one run, seconds")
    misfire_grace: int = 3600


class WorkersConfig(_Model):
    """[workers]: where ``executor = "celery"`` sends runs, and how workers take them."""

    broker_url: str = Field(
        "redis://127.0.0.1:6379/0",
        description="Celery broker (Redis) the scheduler and workers share",
    )
    queue: str = Field("govaudit", description="Celery queue of the runs")
    concurrency: int = Field(
        0, ge=0, le=256, description="Runs at once per 'govaudit worker'; 0 = one per core"
    )
    visibility_timeout: float | None = Field(
        None,
        gt=0,
        description="Seconds after which a run taken by a worker that never acknowledged it (the "
        "worker died) is given to another worker; default serve.run_timeout + 600, and it must "
        "exceed serve.run_timeout",
    )


SITE_SECTIONS = (
    "site",
    "crawl",
    "dns",
    "attachments",
    "plugins",
    "units",
    "report",
    "mail",
    "schedule",
    "availability",
)


class SiteEntry(BaseModel):
    """One [[sites]] entry: a name, its URLs and any sections that differ from the top level."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="Short stable name, e.g. 'lcnr' (govaudit audit --site NAME)")
    title: str = Field("", description="Site name shown in reports (default: site.name or name)")
    urls: list[str] = Field(default_factory=list, description="Start URL(s), as site.urls")
    site: dict[str, Any] = Field(default_factory=dict)
    crawl: dict[str, Any] = Field(default_factory=dict)
    dns: dict[str, Any] = Field(default_factory=dict)
    attachments: dict[str, Any] = Field(default_factory=dict)
    plugins: dict[str, Any] = Field(default_factory=dict)
    units: dict[str, Any] = Field(default_factory=dict)
    report: dict[str, Any] = Field(default_factory=dict)
    mail: dict[str, Any] = Field(default_factory=dict)
    schedule: list[dict[str, Any]] | None = None
    availability: dict[str, Any] = Field(default_factory=dict)


def _merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; anything else (lists too) in ``over`` replaces."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


class AvailabilityConfig(_Model):
    """[availability]: the service's homepage probes and the 7-day figures (veto item)."""

    enabled: bool = Field(True, description="Probe the homepage while 'govaudit serve' runs")
    interval_seconds: float = Field(600, ge=0.1, description="Seconds between two probes")
    jitter_seconds: float = Field(
        30, ge=0, description="Each probe is moved by up to this many seconds (spreads load)"
    )
    timeout: float = Field(
        15.0, gt=0, description="Seconds one probe may take; 15 is the indicators' figure"
    )
    window_days: int = Field(7, ge=1, description="Days of probes the figures cover")
    threshold: float = Field(
        0.05, gt=0, le=1, description="availability.homepage_down at this share of failed probes"
    )
    min_hours: float = Field(
        24, ge=0, description="Fewer hours of probes than this: availability.not_checked"
    )
    alert_after: int = Field(
        3, ge=1, description="Mail once after this many consecutive failed probes"
    )
    alert_emails: list[str] = Field(
        default_factory=list,
        description="Who gets the down/back mails; empty: the addresses in mail.info_centre",
    )


class Config(_Model):
    site: SiteConfig = Field(default_factory=SiteConfig)
    crawl: CrawlConfig = Field(default_factory=CrawlConfig)
    dns: DnsConfig = Field(default_factory=DnsConfig)
    attachments: AttachmentsConfig = Field(default_factory=AttachmentsConfig)
    plugins: dict[str, Any] = Field(
        default_factory=dict,
        description="'enabled' = list of plugin names; [plugins.NAME] tables hold each plugin's options",
    )
    units: UnitsConfig = Field(default_factory=UnitsConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    mail: MailConfig = Field(default_factory=MailConfig)
    schedule: list[ScheduleEntry] = Field(default_factory=list)
    serve: ServeConfig = Field(default_factory=ServeConfig)
    availability: AvailabilityConfig = Field(default_factory=AvailabilityConfig)
    data_dir: str = Field(
        "govaudit-data",
        description="Where the database (SQLite) and run files live; with several machines, a "
        "directory they share (NFS) so every report is where the web server looks",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the database, e.g. 'postgresql+psycopg://govaudit@db/"
        "govaudit'; unset: SQLite in data_dir (embedded, no server)",
    )
    executor: Literal["local", "celery"] = Field(
        "local",
        description="Where scheduled runs execute: 'local' (a child process of 'govaudit serve') "
        "or 'celery' (sent to 'govaudit worker' processes over [workers].broker_url)",
    )
    workers: WorkersConfig = Field(default_factory=WorkersConfig)
    sites: list[SiteEntry] = Field(
        default_factory=list,
        description="[[sites]]: several sites in one config, each with name, urls and its own "
        "site/units/schedule/mail/… tables over the top-level defaults",
    )

    @field_validator("sites")
    @classmethod
    def _check_sites(cls, value: list[SiteEntry]) -> list[SiteEntry]:
        seen: set[str] = set()
        for i, entry in enumerate(value):
            name = entry.name.strip()
            if not name or "/" in name:
                raise ValueError(f"sites[{i}].name {entry.name!r}: give a short name without '/'")
            if name in seen:
                raise ValueError(f"sites[{i}].name {name!r} is used twice; names must differ")
            seen.add(name)
        return value

    def site_names(self) -> list[str]:
        return [s.name for s in self.sites]

    def for_site(self, name: str | None) -> Config:
        """The configuration of one [[sites]] entry: the top level with the entry over it.
        ``None`` (or a config without [[sites]]) gives this config."""
        if name is None:
            return self
        entry = next((s for s in self.sites if s.name == name), None)
        if entry is None:
            known = ", ".join(self.site_names()) or "none: the config has no [[sites]]"
            raise ConfigError(f"--site {name!r}: no such [[sites]] entry (known: {known})")
        base = self.model_dump(mode="python", exclude={"sites"})
        over = entry.model_dump(
            mode="python", exclude_unset=True, exclude_none=True, exclude={"name", "title", "urls"}
        )
        data = _merged(base, over)
        if entry.urls:
            data["site"]["urls"] = list(entry.urls)
        data["site"]["name"] = entry.title or entry.site.get("name") or name
        return config_from_dict(data, f"[[sites]] {name}")

    def site_configs(self) -> dict[str | None, Config]:
        """Every site this config audits: each [[sites]] entry by name, else {None: self}."""
        if not self.sites:
            return {None: self}
        return {s.name: self.for_site(s.name) for s in self.sites}

    @property
    def homepage(self) -> str:
        if not self.site.urls:
            raise ConfigError(
                "site.urls: no start URL; set site.urls = ['https://…/'] or pass a URL"
            )
        return self.site.urls[0]

    def enabled_plugins(self) -> list[str] | None:
        """Names listed in plugins.enabled, or None for 'all installed'."""
        enabled = self.plugins.get("enabled")
        return list(enabled) if enabled is not None else None

    def plugin_options(self, name: str) -> dict[str, Any]:
        value = self.plugins.get(name, {})
        return value if isinstance(value, dict) else {}


def parse_resolve(item: str) -> tuple[str, int, str]:
    """'HOST:PORT:ADDR' → (host, port, addr); ADDR may be IPv6, optionally in brackets."""
    parts = item.split(":", 2)
    if len(parts) != 3 or not parts[0] or not parts[1].isdigit() or not parts[2]:
        raise ValueError(
            f"{item!r} is not HOST:PORT:ADDR; write e.g. 'www.example.gov.cn:443:127.0.0.1'"
        )
    return parts[0].lower(), int(parts[1]), parts[2].strip("[]")


def parse_dns_server(value: str) -> tuple[str, int]:
    """'IP', 'IP:PORT', '[IPv6]:PORT' or bare IPv6 → (ip, port)."""
    import ipaddress

    host, port = value, 53
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port = int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else 53
    elif value.count(":") == 1:
        host, _, p = value.partition(":")
        if not p.isdigit():
            raise ValueError(f"{value!r}: port must be a number; write e.g. '127.0.0.1:5353'")
        port = int(p)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"{value!r} is not IP[:PORT]; write e.g. '127.0.0.1:5353'") from None
    return host, port


def _format_error(exc: ValidationError, source: str, known: dict[str, Any]) -> str:
    lines = [f"invalid configuration in {source}:"]
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        if err["type"] == "extra_forbidden":
            name = str(err["loc"][-1])
            siblings = _siblings(known, err["loc"][:-1])
            close = difflib.get_close_matches(name, siblings, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(siblings)}"
            lines.append(f"  {key}: unknown key; {hint}")
            continue
        got = err.get("input")
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(
            f"  {key}: {msg} (got {got!r})" if not isinstance(got, dict) else f"  {key}: {msg}"
        )
    return "\n".join(lines)


def _siblings(model_fields: dict[str, Any], loc: tuple[Any, ...]) -> list[str]:
    model: Any = Config
    for part in loc:
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        model = field.annotation
    return sorted(getattr(model, "model_fields", {}).keys())


def config_from_dict(data: dict[str, Any], source: str = "config") -> Config:
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_error(exc, source, data)) from None
    vt = config.workers.visibility_timeout
    if vt is not None and vt <= config.serve.run_timeout:
        raise ConfigError(
            f"{source}: workers.visibility_timeout ({vt:g} s) must exceed serve.run_timeout "
            f"({config.serve.run_timeout:g} s), or a run still going would be given to a "
            "second worker"
        )
    config.site_configs()  # each [[sites]] entry merged over the top level is valid too
    return config


def visibility_timeout(config: Config) -> float:
    """Seconds before an unacknowledged run is redelivered (longer than any run may take)."""
    return config.workers.visibility_timeout or config.serve.run_timeout + 600


def load_config(path: str | Path | None) -> Config:
    """Load and validate a TOML config; ``None`` gives the defaults."""
    if path is None:
        return Config()
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file {str(p)!r} does not exist; create one with 'govaudit init'")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: not UTF-8 text; save the file as UTF-8") from None
    return config_from_dict(data, str(p))
