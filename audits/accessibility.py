"""Accessibility (无障碍) audit: axe-core in Debian's Chromium, on the live pages.

Which pages: every crawled HTML page (status 200) up to ``max_pages``, homepage first; or,
with ``one_per_template``, one page per group of pages that share a DOM structure, so a
20,000-page site is audited in minutes. Each page is loaded live from the site (the same
hostnames, resolved through the run's resolver), axe runs with the configured tags, and
every violated rule becomes one finding ``a11y.<axe rule id>`` for that page.

A page that cannot be examined (never finishes loading, dialogs, endless scripts, renderer
crash, HTTP error) is reported as ``a11y.not_tested`` with the reason; the run goes on.
The homepage is also searched for a 无障碍 entry (link, button or toolbar script).
"""

from __future__ import annotations

import hashlib
import logging
import re
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from audits.a11y_page import (
    AXE_READY_JS,
    AXE_RUN_JS,
    ENTRY_JS,
    HIGHLIGHT_JS,
    IMPACT_RANK,
    TOOLBAR_PATTERN,
    _is_html_ok,
    _selector,
    static_entry,
    template_signature,
)
from audits.a11y_rules import (
    ENTRY_REGULATION,
    REGULATION,
    RULES,
    WORK_PLAN,
    criteria_from_tags,
    principles_of,
)
from audits.base import AuditPlugin, Finding, RuleSpec, Severity
from core.browser import (
    BrowserPool,
    BrowserSettings,
    NotTested,
    NotTestedReason,
    PageInfo,
    PageOutcome,
    host_rules_for,
    hostname,
)
from core.browser_procs import auto_concurrency
from core.browser_types import TAB_HEAP_MB
from core.snapshot import SiteSnapshot

log = logging.getLogger(__name__)

DEFAULT_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
IMPACT_SEVERITY = {
    "critical": Severity.ERROR,
    "serious": Severity.ERROR,
    "moderate": Severity.WARNING,
    "minor": Severity.INFO,
}
ENTRY_KEYWORDS = [
    "无障碍",
    "适老化",
    "长者模式",
    "长者版",
    "关怀版",
    "关怀模式",
    "老年模式",
    "辅助浏览",
    "读屏",
    "大字版",
]
#: Requests axe does not need: web fonts and audio/video. Images are loaded (a page whose
#: images never arrive never finishes loading, and is reported so); CSS is needed for
#: colour contrast.
BLOCKED_URLS = [
    f"*.{ext}"
    for ext in ("woff", "woff2", "ttf", "otf", "eot", "mp4", "webm", "ogv", "mp3", "ogg", "wav")
    + ("m4a", "flv", "avi", "wmv", "mov", "m3u8", "ts")
]


class AccessibilityOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tags: list[str] = Field(default_factory=lambda: list(DEFAULT_TAGS))
    rules: list[str] = Field(
        default_factory=list, description="Only these axe rule ids (overrides tags)"
    )
    disable_rules: list[str] = Field(default_factory=list, description="axe rule ids not run")
    include: list[str] = Field(default_factory=list, description="CSS selectors audited")
    exclude: list[str] = Field(default_factory=list, description="CSS selectors skipped")
    max_pages: int = Field(200, ge=1, description="At most this many pages audited")
    one_per_template: bool = Field(
        False, description="Audit one page per DOM-structure group (large sites)"
    )
    pages_include: list[str] = Field(
        default_factory=list, description="If set, only page URLs matching one of these regexes"
    )
    pages_exclude: list[str] = Field(
        default_factory=list, description="Regexes of page URLs never audited"
    )
    concurrency: int | None = Field(
        None, ge=1, le=16, description="Pages audited at once (default: from cores and memory)"
    )
    pages_per_browser: int = Field(
        4, ge=1, le=16, description="Tabs per Chromium; more pages at once start more browsers"
    )
    navigation_timeout: float = Field(20.0, gt=0, description="Seconds for a page to load")
    script_timeout: float = Field(30.0, gt=0, description="Seconds for axe on one page")
    script_timeout_per_10k: float = Field(
        45.0, ge=0, description="More seconds for axe per 10,000 elements of a large page"
    )
    max_script_timeout: float = Field(
        95.0, gt=0, description="Ceiling of axe's time on one page, however large"
    )
    recycle_mb: float = Field(
        1024.0, ge=0, description="Relaunch Chromium once its processes pass this PSS (0: never)"
    )
    tab_heap_mb: float = Field(
        TAB_HEAP_MB,
        ge=0,
        description="Collect a reused tab's garbage once its JS heap passes this many MB (0: never)",
    )
    blocked_urls: list[str] = Field(
        default_factory=lambda: list(BLOCKED_URLS),
        description="URL patterns never loaded (fonts and media: axe reads the DOM and CSS)",
    )
    settle_timeout: float = Field(
        0.0, ge=0, description="Extra seconds to wait for network idle after load"
    )
    recycle_after: int = Field(100, ge=1, description="Relaunch Chromium after this many pages")
    driver: Literal["cdp", "playwright"] = Field(
        "cdp",
        description="How Chromium is driven: DevTools over a pipe from Python (no Node "
        "process: ~120 MB less), or Playwright",
    )
    axe_on_new_document: bool = Field(
        False, description="Load axe once per tab at each document's start, not per page"
    )
    dialogs_not_tested: bool = Field(
        True, description="A page that opens alert/confirm dialogs is reported as not tested"
    )
    max_nodes: int = Field(10, ge=1, le=200, description="Failing elements kept per finding")
    screenshots: bool = True
    entry_keywords: list[str] = Field(default_factory=lambda: list(ENTRY_KEYWORDS))
    check_entry: bool = Field(True, description="Check the homepage for a 无障碍 entry")

    @field_validator("pages_include", "pages_exclude")
    @classmethod
    def _regex(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a valid regular expression ({exc})") from None
        return value


def _spec(axe_id: str) -> RuleSpec:
    meta = RULES[axe_id]
    principles = "、".join(meta.principles)
    criteria = "、".join(meta.criteria)
    return RuleSpec(
        id=f"a11y.{axe_id}",
        title=meta.title,
        severity=IMPACT_SEVERITY[meta.impact],
        regulation=f"{REGULATION}（WCAG {criteria}，{principles}）"
        if criteria
        else f"{REGULATION}（最佳实践）",
        advice=meta.advice,
        unit="信息中心",
        description=f"axe-core规则 {axe_id}。{WORK_PLAN}。",
        category=f"无障碍·{meta.principles[0]}" if meta.principles else "无障碍",
    )


NOT_TESTED = RuleSpec(
    id="a11y.not_tested",
    title="页面未能完成无障碍检测",
    severity=Severity.WARNING,
    regulation=REGULATION,
    advice="按原因处理：页面加载过慢、弹窗、脚本死循环或崩溃的页面同样妨碍用户访问，"
    "修复后重新检测。",
    unit="信息中心",
    category="无障碍",
)
NO_ENTRY = RuleSpec(
    id="a11y.no_accessibility_entry",
    title="首页未提供无障碍入口",
    severity=Severity.WARNING,
    regulation=ENTRY_REGULATION,
    advice="在首页显著位置（页头）提供“无障碍”或“长者模式/关怀版”入口，或接入无障碍辅助工具条。",
    unit="信息中心",
    category="无障碍",
)


@dataclass
class _Candidate:
    url: str
    group: str
    group_pages: list[str] = field(default_factory=list)
    too_large: str = ""  # why the crawler truncated it ("size", "decompressed"): not opened


@dataclass
class _PageResult:
    violations: list[dict[str, Any]]
    screenshot: str | None = None
    screenshot_of: str | None = None
    screenshot_rule: str | None = None
    entry: dict[str, Any] | None = None
    rules_run: int = 0


class AccessibilityAudit(AuditPlugin):
    name = "accessibility"
    title = "无障碍检测（axe-core）"
    Options = AccessibilityOptions
    wants_pages = False  # pages are chosen and audited together in check_site
    rules = [*(_spec(rid) for rid in RULES), NO_ENTRY, NOT_TESTED]
    options: AccessibilityOptions

    @classmethod
    def rule(cls, rule_id: str) -> RuleSpec:
        try:
            return super().rule(rule_id)
        except KeyError:
            if not rule_id.startswith("a11y."):
                raise
            # An axe rule outside our table: axe's own text is in each finding's evidence.
            return RuleSpec(
                id=rule_id,
                title=f"无障碍问题（{rule_id[5:]}）",
                severity=Severity.WARNING,
                regulation=REGULATION,
                advice="参见检测证据中axe-core的帮助说明和链接。",
                unit="信息中心",
                category="无障碍",
            )

    # ---- choosing pages -----------------------------------------------------------
    def candidates(self, snapshot: SiteSnapshot) -> tuple[list[_Candidate], int]:
        """Pages to audit (homepage first) and how many HTML pages there were in all."""
        opts = self.options
        excluded = [re.compile(p) for p in opts.pages_exclude]
        included = [re.compile(p) for p in opts.pages_include]
        home = snapshot.homepage_url
        groups: dict[str, _Candidate] = {}
        ordered: list[_Candidate] = []
        total = 0
        for page in snapshot.pages(with_html=opts.one_per_template):
            if not _is_html_ok(page):
                continue
            url = page.final_url or page.url
            if url != home and page.url != home:  # the homepage is always audited
                if any(p.search(url) for p in excluded):
                    continue
                if included and not any(p.search(url) for p in included):
                    continue
            total += 1
            if opts.one_per_template:
                sig = template_signature(page.html, url)
                if sig in groups:
                    groups[sig].group_pages.append(url)
                    continue
                cand = _Candidate(url, sig, [url])
                groups[sig] = cand
            else:
                cand = _Candidate(url, "", [url])
            if page.meta.get("_truncated"):
                cand.too_large = str(page.meta.get("_truncated_reason") or "size")
            if url == home or page.url == home:
                ordered.insert(0, cand)
            else:
                ordered.append(cand)
        return ordered[: opts.max_pages], total

    # ---- the audit ------------------------------------------------------------------
    def check_site(self, snapshot: SiteSnapshot) -> Iterable[Finding]:
        opts = self.options
        chosen, total = self.candidates(snapshot)
        home = snapshot.homepage_url
        site = self.ctx.config.site
        hosts = {hostname(u) for u in site.urls} | set(site.extra_hosts)
        hosts |= {hostname(c.url) for c in chosen}
        settings = BrowserSettings(
            host_rules=host_rules_for(sorted(h for h in hosts if h), self.ctx.resolver),
            navigation_timeout=opts.navigation_timeout,
            script_timeout=opts.script_timeout,
            script_timeout_per_10k=opts.script_timeout_per_10k,
            max_script_timeout=max(opts.max_script_timeout, opts.script_timeout),
            settle_timeout=opts.settle_timeout,
            recycle_after=opts.recycle_after,
            recycle_mb=opts.recycle_mb,
            tab_heap_mb=opts.tab_heap_mb,
            blocked_urls=list(opts.blocked_urls),
            max_dialogs=0 if opts.dialogs_not_tested else 1000,
            driver=opts.driver,
        )
        if not Path(settings.executable).exists():
            # Not a page's fault: one clear error for the run, not a finding per page.
            raise RuntimeError(
                f"Chromium not found at {settings.executable}; install it with 'make chromium'"
            )
        shots = Path(self.ctx.artifact_dir) if self.ctx.artifact_dir else None
        by_url = {c.url: c for c in chosen}
        outcomes: dict[str, PageOutcome[_PageResult]] = {}
        findings: list[Finding] = []
        self.ctx.progress(f"accessibility: auditing {len(chosen)} of {total} pages in Chromium")
        # A page the crawler found over crawl.max_page_bytes is not opened in Chromium: a
        # 100 MB compression bomb took it to 1.7 GB before the stage limits stopped it.
        limit = self.ctx.config.crawl.max_page_bytes
        for c in chosen:
            if c.too_large:
                how = "解压后" if c.too_large == "decompressed" else ""
                reason = NotTested(NotTestedReason.TOO_LARGE, f"{how}超过{limit}字节")
                outcomes[c.url] = PageOutcome(c.url, not_tested=reason)
                findings.extend(self._findings(c, outcomes[c.url]))
        urls = [c.url for c in chosen if not c.too_large]
        size = min(opts.concurrency or auto_concurrency(), max(1, len(urls)))
        with BrowserPool(settings, size=size, pages_per_browser=opts.pages_per_browser) as pool:
            for n, outcome in enumerate(
                pool.map(urls, _Auditor(opts, home, shots, self.ctx.artifact_dir)),
                len(chosen) - len(urls) + 1,
            ):
                outcomes[outcome.url] = outcome
                findings.extend(self._findings(by_url[outcome.url], outcome))
                if n % 10 == 0 or n == len(chosen):
                    self.ctx.progress(f"accessibility: {n}/{len(chosen)} pages")
        findings.extend(self._entry_finding(snapshot, home, outcomes.get(home)))
        self._publish(chosen, outcomes, total)
        return findings

    def _findings(self, cand: _Candidate, outcome: PageOutcome[_PageResult]) -> Iterator[Finding]:
        url = cand.url
        group_extra: dict[str, Any] = {}
        if self.options.one_per_template:
            group_extra = {
                "template_group": cand.group,
                "template_pages": len(cand.group_pages),
                "template_examples": cand.group_pages[1:6],
            }
        if outcome.not_tested is not None:
            nt = outcome.not_tested
            evidence: dict[str, Any] = {
                "reason": nt.reason.value,
                "reason_text": nt.describe(),
                "elapsed_ms": outcome.elapsed_ms,
            }
            if outcome.info and outcome.info.dialogs:
                evidence["dialogs"] = outcome.info.dialogs[:5]
            yield Finding(
                rule="a11y.not_tested",
                url=url,
                page=url,
                message=f"页面未能完成无障碍检测：{nt.describe()}",
                evidence=evidence | group_extra,
            )
            return
        result = outcome.value
        assert result is not None
        same = f"（同模板页面共{len(cand.group_pages)}个）" if len(cand.group_pages) > 1 else ""
        for v in result.violations:
            axe_id = v["id"]
            meta = RULES.get(axe_id)
            criteria = criteria_from_tags(v.get("tags", []))
            title = meta.title if meta else v.get("help", axe_id)
            nodes = v.get("nodes", [])
            count = v.get("node_count", len(nodes))
            first = _selector(nodes[0]["target"]) if nodes else ""
            evidence = {
                "axe_rule": axe_id,
                "impact": v.get("impact"),
                "wcag": criteria,
                "principles": principles_of(criteria),
                "node_count": count,
                "nodes": nodes,
                "help": v.get("help", ""),
                "help_url": v.get("helpUrl", ""),
                "advice": meta.advice if meta else v.get("description", ""),
            }
            if result.screenshot and result.screenshot_rule == axe_id:  # one per page
                evidence["screenshot"] = result.screenshot
                evidence["screenshot_of"] = result.screenshot_of
            wcag = f"（WCAG {'、'.join(criteria)}）" if criteria else ""
            yield Finding(
                rule=f"a11y.{axe_id}",
                url=url,
                page=url,
                message=f"{title}{wcag}：{count}处元素不符合要求，如 {first}{same}",
                evidence=evidence | group_extra,
                severity=IMPACT_SEVERITY.get(v.get("impact") or "", Severity.WARNING),
                key=axe_id,
            )

    def _entry_finding(
        self, snapshot: SiteSnapshot, home: str, outcome: PageOutcome[_PageResult] | None
    ) -> Iterator[Finding]:
        if not self.options.check_entry:
            return
        entry = outcome.value.entry if outcome is not None and outcome.value else None
        how = "渲染后的首页"
        if entry is None:  # the homepage was not rendered: read the crawled HTML instead
            page = snapshot.page(home)
            if page is None or page.html is None:
                return
            entry = static_entry(page.html, self.options.entry_keywords)
            how = "抓取的首页HTML"
        self.ctx.site_data["accessibility.entry"] = entry
        if entry.get("found"):
            return
        yield Finding(
            rule="a11y.no_accessibility_entry",
            url=home,
            page=home,
            message="首页未找到无障碍入口（“无障碍”“长者模式/关怀版”链接或辅助工具条）",
            evidence={"checked": how, "keywords": self.options.entry_keywords},
        )

    def _publish(
        self,
        chosen: list[_Candidate],
        outcomes: dict[str, PageOutcome[_PageResult]],
        total: int,
    ) -> None:
        rows = []
        tested = 0
        for i, cand in enumerate(chosen, 1):
            o = outcomes.get(cand.url)
            if o is None:
                result = "未检测"
                count: Any = ""
            elif o.not_tested is not None:
                result = f"未检测：{o.not_tested.describe()}"
                count = ""
            else:
                tested += 1
                v = o.value.violations if o.value else []
                result = f"{len(v)}类问题" if v else "未发现问题"
                count = sum(x.get("node_count", 0) for x in v)
            row = [cand.url, result, count]
            if self.options.one_per_template:
                row[1:1] = [f"模板{i}", len(cand.group_pages)]
            rows.append(row)
        columns = ["页面", "检测结果", "问题元素数"]
        if self.options.one_per_template:
            columns[1:1] = ["模板组", "同模板页面数"]
        scope = "每个页面模板检测一个页面" if self.options.one_per_template else "逐页检测"
        self.ctx.site_data["accessibility.table"] = {
            "title": f"无障碍检测的页面（{scope}；共{total}个网页，检测{len(chosen)}个，"
            f"完成{tested}个）",
            "columns": columns,
            "rows": rows,
        }
        self.ctx.site_data["accessibility.pages_audited"] = tested
        self.ctx.site_data["accessibility.pages_not_tested"] = len(chosen) - tested
        self.ctx.site_data["accessibility.pages_total"] = total


class _Auditor:
    """The job run in the browser worker's thread for each loaded page."""

    def __init__(
        self, opts: AccessibilityOptions, home: str, shots: Path | None, run_dir: Any
    ) -> None:
        from axe_playwright_python.sync_playwright import Axe

        self.opts = opts
        self.home = home
        self.shots = shots / "a11y" if shots else None
        self.axe_script = Axe().axe_script
        found = re.search(r"axe v(\d+\.\d+\.\d+)", self.axe_script[:500])
        self.axe_version = found.group(1) if found else ""
        self.init_script = f"if (window === window.top) {{\n{self.axe_script}\n}}"
        self._registered: weakref.WeakSet[Any] = weakref.WeakSet()
        self.context: Any = None
        if opts.include or opts.exclude:
            self.context = {}
            if opts.include:
                self.context["include"] = list(opts.include)
            if opts.exclude:
                self.context["exclude"] = list(opts.exclude)
        run_only = (
            {"type": "rule", "values": list(opts.rules)}
            if opts.rules
            else {"type": "tag", "values": list(opts.tags)}
        )
        self.axe_options: dict[str, Any] = {"runOnly": run_only, "resultTypes": ["violations"]}
        if opts.disable_rules:
            self.axe_options["rules"] = {r: {"enabled": False} for r in opts.disable_rules}

    def _inject(self, page: Any) -> None:
        """axe in the page: evaluated after load, or (``axe_on_new_document``) registered
        once per tab to run at the start of each top-level document, so its 500 KB are not
        sent through the driver for every page; evaluated again if the page replaced it."""
        if not self.opts.axe_on_new_document:
            page.evaluate(self.axe_script)
            return
        if page not in self._registered:
            page.add_init_script(self.init_script)
            self._registered.add(page)
        elif page.evaluate(AXE_READY_JS, self.axe_version):
            return
        page.evaluate(self.axe_script)

    def __call__(self, page: Any, info: PageInfo) -> _PageResult:
        self._inject(page)
        raw = page.evaluate(AXE_RUN_JS, [self.context, self.axe_options, self.opts.max_nodes])
        violations = sorted(
            raw["violations"], key=lambda v: IMPACT_RANK.get(v.get("impact") or "", 9)
        )
        result = _PageResult(violations=violations, rules_run=raw.get("rules", 0))
        if self.opts.check_entry and info.url == self.home:
            result.entry = page.evaluate(ENTRY_JS, [self.opts.entry_keywords, TOOLBAR_PATTERN])
        if self.opts.screenshots and self.shots is not None and violations:
            shot = self._screenshot(page, info, violations)
            result.screenshot, result.screenshot_of, result.screenshot_rule = shot
        return result

    def _screenshot(
        self, page: Any, info: PageInfo, violations: list[dict[str, Any]]
    ) -> tuple[str | None, str | None, str | None]:
        assert self.shots is not None
        self.shots.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha1(info.url.encode("utf-8")).hexdigest()[:16] + ".png"
        path = self.shots / name
        target, rule = "", violations[0]["id"]
        for v in violations:
            for node in v.get("nodes", []):
                if len(node["target"]) == 1 and isinstance(node["target"][0], str):
                    target, rule = node["target"][0], v["id"]
                    break
            if target:
                break
        try:
            clip = None
            if target:
                clip = page.evaluate(HIGHLIGHT_JS, target)
            page.screenshot(path=str(path), clip=clip, timeout=5000, animations="disabled")
        except Exception as exc:
            log.debug("screenshot of %s failed: %s", info.url, exc)
            return None, None, None
        return f"a11y/{name}", target or "视口", rule
