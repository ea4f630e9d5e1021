"""Integrity audit (网站被攻击篡改、挂马): renders the homepage and the pages the config lists
in Chromium and reports hidden links to other sites (暗链, judged by computed style and
geometry), scripts and frames from foreign hosts that were not there in the previous good
run and known injection patterns (挂马), changes of the homepage's title, 网站标识码 or
chrome since the previous good run (篡改), and outbound links whose site now serves a
gambling or adult page. The previous run is read through ``ctx.history``.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from pydantic import BaseModel, ConfigDict, Field

from audits.base import AuditPlugin, Finding, PreviousRun, RuleSpec, Severity
from audits.integrity_js import HIDDEN_LINKS_JS, PAGE_FACTS_JS
from core.browser import BrowserPool, BrowserSettings, PageInfo, host_rules_for, hostname
from core.dns import Resolver
from core.netprobe import FamilyFetcher
from core.snapshot import SiteSnapshot

log = logging.getLogger(__name__)

REGULATION = "国办秘函〔2019〕19号 政府网站与政务新媒体检查指标（单项否决：网站被攻击篡改、挂马）"
ALLOW_HOSTS = [
    "zfwzgl.www.gov.cn",  # 我为政府网站找错
    "hm.baidu.com",  # 百度统计
    "s4.cnzz.com",
    "s9.cnzz.com",
    "s95.cnzz.com",
    "c.cnzz.com",
    "v1.cnzz.com",
    "tajs.qq.com",
    "ta.trs.cn",
    "www.gov.cn",
]
SPAM_TERMS = [
    "博彩",
    "娱乐城",
    "棋牌",
    "赌场",
    "百家乐",
    "六合彩",
    "时时彩",
    "真人娱乐",
    "真人视讯",
    "老虎机",
    "澳门赌",
    "威尼斯人",
    "葡京",
    "太阳城",
    "体育投注",
    "色情",
    "成人视频",
    "裸聊",
]
HOST_PATTERN = r"casino|bocai|xpj|amjs|bet365|\dbet|lottery|qipai|duchang|porn|sex|yule"
_DATES = re.compile(
    r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?|\d{1,2}:\d{2}(:\d{2})?|星期[一二三四五六日天]"
)


class IntegrityOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pages: list[str] = Field(
        default_factory=list,
        description="Pages rendered besides the homepage (URLs, or paths on the homepage's site)",
    )
    allow_hosts: list[str] = Field(
        default_factory=lambda: list(ALLOW_HOSTS),
        description="Hosts whose scripts and frames are expected (analytics, 找错, the CDN); "
        "a name also allows its subdomains",
    )
    extra_allow_hosts: list[str] = Field(
        default_factory=list, description="Added to allow_hosts (keeps the defaults)"
    )
    spam_terms: list[str] = Field(
        default_factory=lambda: list(SPAM_TERMS),
        description="Gambling/adult terms: in link text (挂马) and on outbound sites",
    )
    host_pattern: str = Field(HOST_PATTERN, description="Regex of gambling/adult host names")
    check_outbound: bool = Field(True, description="Fetch outbound links' pages for spam terms")
    max_outbound: int = Field(200, ge=0, description="Outbound link targets fetched at most")
    outbound_timeout: float = Field(10.0, gt=0, description="Seconds per outbound page")
    navigation_timeout: float = Field(20.0, gt=0)
    screenshots: bool = True


@dataclass
class _Seen:
    url: str
    hidden: list[dict[str, Any]] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    screenshot: str | None = None


def _clean(text: str) -> str:
    """Chrome text without dates, times and weekdays (the header's 今天是… changes daily)."""
    return re.sub(r"\s+", " ", _DATES.sub("", text or "")).strip()


def _excerpt(before: str, after: str, width: int = 160) -> tuple[str, str]:
    i = 0
    while i < min(len(before), len(after)) and before[i] == after[i]:
        i += 1
    start = max(0, i - 30)
    return before[start : start + width], after[start : start + width]


class IntegrityAudit(AuditPlugin):
    name = "integrity"
    title = "网站安全检查（暗链、挂马、篡改）"
    Options = IntegrityOptions
    options: IntegrityOptions
    wants_pages = False
    rules = [
        RuleSpec(
            id="integrity.hidden_link",
            title="页面存在暗链（访客看不见的外站链接）",
            severity=Severity.ERROR,
            regulation=REGULATION,
            advice="立即删除暗链，排查网站源码、模板和数据库是否被篡改，修补漏洞并修改口令。",
            unit="信息中心",
            category="网站安全",
        ),
        RuleSpec(
            id="integrity.injected_code",
            title="页面被植入外部脚本或恶意代码（挂马）",
            severity=Severity.ERROR,
            regulation=REGULATION,
            advice="核实脚本或框架的来源；非本单位引入的立即删除，排查被入侵途径；"
            "确属正常引入的（统计、CDN）加入 allow_hosts。",
            unit="信息中心",
            category="网站安全",
        ),
        RuleSpec(
            id="integrity.homepage_changed",
            title="首页标题、标识码或页头页脚发生变化",
            severity=Severity.WARNING,
            regulation=REGULATION,
            advice="核实变化是否为本单位的正常改版；如非本单位所为，按网站被篡改处置。",
            unit="信息中心",
            category="网站安全",
        ),
        RuleSpec(
            id="integrity.outbound_hijacked",
            title="外部链接指向的网站已变为博彩或色情页面",
            severity=Severity.ERROR,
            regulation=REGULATION + "；链接到反动、暴力、色情内容",
            advice="立即删除该链接（常见于过期后被抢注的友情链接域名），并定期核查外部链接。",
            unit="信息中心",
            category="网站安全",
        ),
    ]

    # ---- pages ----------------------------------------------------------------------
    def _targets(self, snapshot: SiteSnapshot) -> list[str]:
        home = snapshot.homepage_url
        urls = [home] + [urljoin(home, p) for p in self.options.pages]
        return list(dict.fromkeys(urls))

    def _site_hosts(self, urls: list[str]) -> set[str]:
        site = self.ctx.config.site
        hosts = {hostname(u) for u in [*site.urls, *urls]} | set(site.extra_hosts)
        return {h for h in hosts if h}

    def _allowed(self, host: str, site_hosts: set[str]) -> bool:
        allow = [*self.options.allow_hosts, *self.options.extra_allow_hosts, *site_hosts]
        return any(host == a or host.endswith("." + a) for a in allow if a)

    def check_site(self, snapshot: SiteSnapshot) -> Iterable[Finding]:
        home = snapshot.homepage_url
        targets = self._targets(snapshot)
        site_hosts = self._site_hosts(targets)
        prev = self.ctx.history.previous_good() if self.ctx.history is not None else None
        before: dict[str, Any] = (prev.site_data.get("integrity.baseline") if prev else None) or {}
        seen = self._render(targets, site_hosts)
        findings: list[Finding] = []
        foreign: set[str] = set()
        for s in seen:
            findings += self._hidden(s)
            findings += self._injected(s, site_hosts, before, foreign)
        home_seen = next((s for s in seen if s.url == home), None)
        baseline: dict[str, Any] = {"foreign": sorted(foreign | set(before.get("foreign", [])))}
        if home_seen is not None and home_seen.facts:
            f = home_seen.facts
            baseline |= {
                "title": f.get("title", ""),
                "sitecode": f.get("sitecode", ""),
                "header": _clean(f.get("header", "")),
                "nav": _clean(f.get("nav", "")),
                "footer": _clean(f.get("footer", "")),
                "screenshot": home_seen.screenshot,
            }
            findings += self._changed(home, baseline, before, prev)
        if self.options.check_outbound:
            outbound = self._outbound(snapshot, site_hosts, before.get("outbound") or {})
            baseline["outbound"] = outbound.pop("_state")
            findings += outbound.pop("_findings")
        self.ctx.site_data["integrity.baseline"] = baseline
        self.ctx.site_data["integrity.pages_checked"] = sum(1 for s in seen if s.facts)
        self.ctx.site_data["integrity.homepage_changed"] = any(
            f.rule == "integrity.homepage_changed" for f in findings
        )
        self.ctx.site_data["integrity.table"] = {
            "title": "安全检查渲染的页面",
            "columns": ["页面", "结果", "外站脚本/框架"],
            "rows": [
                [
                    s.url,
                    "已检查" if s.facts else "未能渲染",
                    ", ".join(
                        sorted({r["host"] for r in s.facts.get("resources", [])} - site_hosts)
                    ),
                ]
                for s in seen
            ],
        }
        return findings

    def _render(self, targets: list[str], site_hosts: set[str]) -> list[_Seen]:
        settings = BrowserSettings(
            host_rules=host_rules_for(sorted(site_hosts), self.ctx.resolver),
            navigation_timeout=self.options.navigation_timeout,
            max_dialogs=1000,
        )
        if not Path(settings.executable).exists():
            raise RuntimeError(f"Chromium not found at {settings.executable}")
        shots = Path(self.ctx.artifact_dir) / "integrity" if self.ctx.artifact_dir else None
        arg = {
            "siteHosts": sorted(site_hosts),
            "terms": self.options.spam_terms,
            "hostPattern": self.options.host_pattern,
        }
        out: list[_Seen] = []

        def job(page: Any, info: PageInfo) -> _Seen:
            s = _Seen(info.url)
            s.facts = page.evaluate(PAGE_FACTS_JS, arg)
            if shots is not None and self.options.screenshots and len(out) == 0:
                shots.mkdir(parents=True, exist_ok=True)
                try:
                    page.screenshot(path=str(shots / "home.png"), timeout=5000)
                    s.screenshot = "integrity/home.png"
                except Exception as exc:
                    log.debug("screenshot of %s: %s", info.url, exc)
            s.hidden = page.evaluate(HIDDEN_LINKS_JS, arg)
            return s

        self.ctx.progress(f"integrity: rendering {len(targets)} page(s) in Chromium")
        with BrowserPool(settings, size=1) as pool:
            for url in targets:
                outcome = pool.run(url, job)
                out.append(outcome.value if outcome.value is not None else _Seen(url))
        return out

    def _hidden(self, s: _Seen) -> Iterable[Finding]:
        for h in s.hidden:
            yield Finding(
                rule="integrity.hidden_link",
                url=h["href"],
                page=s.url,
                message=f"页面含有访客看不见的外站链接（{h['how']}）：“{h['text'] or h['href']}”",
                evidence={
                    "how": h["how"],
                    "hidden_by": h["by"],
                    "text": h["text"],
                    "html": h["html"],
                },
                key=h["href"],
            )

    def _injected(
        self, s: _Seen, site_hosts: set[str], before: dict[str, Any], foreign: set[str]
    ) -> Iterable[Finding]:
        known = set(before.get("foreign", []))
        for r in s.facts.get("resources", []):
            host = r["host"]
            if not host or self._allowed(host, site_hosts):
                continue
            foreign.add(host)
            if host in known:
                continue
            first = not before
            yield Finding(
                rule="integrity.injected_code",
                url=r["src"],
                page=s.url,
                message=f"页面加载了外站{'脚本' if r['tag'] == 'script' else '框架'}：{host}"
                + (
                    "（首次检查，无上次结果可比，请人工确认来源）"
                    if first
                    else "（上次检查时没有）"
                ),
                evidence={"tag": r["tag"], "host": host, "src": r["src"], "baseline": not first},
                severity=Severity.WARNING if first else None,
                key=host,
            )
        for p in s.facts.get("patterns", []):
            yield Finding(
                rule="integrity.injected_code",
                url=s.url,
                page=s.url,
                message=f"页面脚本含有常见挂马特征：{p['pattern']}",
                evidence={"pattern": p["pattern"], "excerpt": p["excerpt"]},
                key=p["pattern"],
            )
        for a in s.facts.get("spam", []):
            yield Finding(
                rule="integrity.injected_code",
                url=a["href"],
                page=s.url,
                message=f"页面含有博彩/色情类链接（“{a['term']}”）：{a['text']}",
                evidence={"term": a["term"], "text": a["text"]},
                key="spam:" + a["href"],
            )

    def _changed(
        self, home: str, now: dict[str, Any], before: dict[str, Any], prev: PreviousRun | None
    ) -> Iterable[Finding]:
        if not before or prev is None:
            return
        labels = {
            "title": "标题",
            "sitecode": "网站标识码",
            "header": "页头",
            "nav": "导航",
            "footer": "页脚",
        }
        changed = [k for k in labels if before.get(k) and before.get(k) != now.get(k)]
        if not changed:
            return
        evidence: dict[str, Any] = {
            "changed": [labels[k] for k in changed],
            "previous_run": prev.info.id,
        }
        for k in changed:
            b, a = _excerpt(str(before.get(k, "")), str(now.get(k, "")))
            evidence[f"{k}_before"], evidence[f"{k}_after"] = b, a
        old_shot = before.get("screenshot")
        if old_shot and self.ctx.artifact_dir:
            src = prev.run_dir / old_shot
            dst = Path(self.ctx.artifact_dir) / "integrity" / "home-before.png"
            try:
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dst)
                evidence["screenshot_before"] = "integrity/home-before.png"
            except OSError:
                pass
        if now.get("screenshot"):
            evidence["screenshot"] = now["screenshot"]
        yield Finding(
            rule="integrity.homepage_changed",
            url=home,
            page=home,
            message=f"首页的{'、'.join(labels[k] for k in changed)}与上次检查（运行{prev.info.id}）不同",
            evidence=evidence,
        )

    def _outbound(
        self, snapshot: SiteSnapshot, site_hosts: set[str], before: dict[str, str]
    ) -> dict[str, Any]:
        targets: dict[str, tuple[str, str]] = {}
        for link in snapshot.links():
            if link.tag != "a" or not link.target.startswith(("http://", "https://")):
                continue
            if hostname(link.target) in site_hosts or link.target in targets:
                continue
            targets[link.target] = (link.source, link.text)
            if len(targets) >= self.options.max_outbound:
                break
        resolver = self.ctx.resolver or Resolver(self.ctx.config.dns)
        fetcher = FamilyFetcher(resolver, timeout=self.options.outbound_timeout, max_body=500_000)
        terms = self.options.spam_terms

        def look(url: str) -> tuple[str, list[str], str]:
            family = 4 if resolver.lookup(hostname(url), 4).addresses else 6
            result = fetcher.fetch(url, family, keep_body=True)
            if not result.ok or not result.body:
                return url, [], ""
            text = result.text()
            title = re.search(r"<title[^>]*>(.*?)</title>", text, re.S | re.I)
            return url, [t for t in terms if t in text], (title.group(1).strip() if title else "")

        state: dict[str, str] = {}
        findings: list[Finding] = []
        with ThreadPoolExecutor(max_workers=8) as pool:
            for url, found, title in pool.map(look, list(targets)):
                state[url] = "spam" if found else "clean"
                if not found:
                    continue
                source, text = targets[url]
                was = before.get(url)
                findings.append(
                    Finding(
                        rule="integrity.outbound_hijacked",
                        url=url,
                        page=source,
                        message=f"外部链接“{text or url}”指向的网站现含博彩/色情内容"
                        f"（{'、'.join(found[:5])}）"
                        + ("，上次检查时正常" if was == "clean" else ""),
                        evidence={
                            "terms": found,
                            "title": title[:120],
                            "link_text": text,
                            "before": was,
                        },
                    )
                )
        return {"_state": state, "_findings": findings}
