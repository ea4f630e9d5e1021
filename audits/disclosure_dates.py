"""Dates the disclosure rules depend on: the guide, the annual report, publication lag,
interpretations, consultations.

- 政府信息公开指南 exists, shows its update date and is not older than a year
  (政府信息公开条例 第十二条; the work plan asks to "明确标注更新日期").
- last year's 政府信息公开工作年度报告 is published by 31 January (条例 第四十九条).
- a document goes online within 20 working days of its date (条例 第二十六条).
- a policy's interpretation (解读) follows within 3 working days (work plan 五(三)),
  counted with the official holiday calendar (``chinesecalendar``).
- a consultation (意见征集) stays open at least 30 days and, once closed, its feedback is
  published (work plan 二(一), 五(一)).

What could not be read (a start page that is an article, a dead or uncrawled link, a page
built by script, a guide column that only indexes other units' guides) is reported as
``guide.not_checked`` with the reason, never passed in silence. Reading pages is
``audits.disclosure_docs``; the timing rules are ``audits.disclosure_timing``. This module
knows no crawler and no report format.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from lxml import etree
from pydantic import BaseModel

from audits.base import AuditContext, AuditPlugin, Finding
from audits.disclosure_docs import (
    Dated,
    Doc,
    content_by_script,
    deadline_for,
    guide_date,
    is_report_column,
    looks_like_article,
    page_title,
    parse_html,
    prose_length,
    publication,
    related,
    report_years,
    row_date,
    text_lines,
)
from audits.disclosure_options import RULES, DisclosureDatesOptions
from audits.disclosure_timing import TimingChecks
from audits.pageinfo import FOOTER, MAIN, PageInfo, compact, parse_site_page, urlkey
from core.dates import working_days_after
from core.snapshot import Page, SiteSnapshot

__all__ = [
    "DisclosureDatesAudit",
    "DisclosureDatesOptions",
    "Doc",
    "page_title",
    "related",
    "report_years",
]

_GENERIC_CRUMBS = {"首页", "网站首页", "正文", "详情", "内容", "文章", "详细内容", "正文内容"}
ARTICLE_START = "起始页面是文章页，不是网站首页"
MIN_GUIDE_PROSE = 120  # characters of sentences a guide text has at the very least
SOURCE_ZH = {
    "label": "页面标注的日期",
    "title": "标题下的日期",
    "index_table": "信息索引",
    "meta": "PubDate元数据",
    "signature": "落款日期",
    "url": "网址中的日期",
    "list": "年报列表",
    "page": "年报页面",
}


@dataclass
class ReportSeen:
    """One link to (or list entry of) a year's annual report."""

    title: str
    url: str
    page: str  # where the link was seen
    date: date | None = None


class DisclosureDatesAudit(AuditPlugin, TimingChecks):
    name = "disclosure_dates"
    title = "政府信息公开指南、年报与公开时效"
    Options = DisclosureDatesOptions
    rules = RULES

    def __init__(self, options: BaseModel, context: AuditContext) -> None:
        super().__init__(options, context)
        self.options: DisclosureDatesOptions = options  # type: ignore[assignment]
        self.docs: dict[str, Doc] = {}
        self.report_titles: dict[int, str] = {}
        self.reports: dict[int, list[ReportSeen]] = {}
        self.report_columns: dict[str, tuple[str, str]] = {}  # key → (url, page seen on)
        self.guide_links: dict[str, str] = {}  # url key → url, in the order first seen
        self.hosts: set[str] = set()
        self.late: list[Finding] = []
        self._article_start: bool | None = None

    # -- collection ------------------------------------------------------------------

    def check_page(self, page: Page) -> Iterable[Finding]:
        info = parse_site_page(page, self.ctx)
        if info is None:
            return ()
        self.hosts.add((urlsplit(info.final_url).hostname or "").lower())
        opts = self.options
        title = page_title(info)
        crumbs = [c for c in info.crumbs if c not in _GENERIC_CRUMBS and c != title]
        column = info.column_name or (crumbs[-1] if crumbs else "")
        is_list = bool(info.entries) and not info.is_article
        self._collect_reports(info, title)
        guide_words = [compact(w) for w in opts.guide_names]
        for a in info.anchors:
            if any(w in compact(a.text) for w in guide_words):
                self.guide_links.setdefault(urlkey(a.href), a.href)
        relevant = (
            self._words(title, guide_words)
            or self._words(title, opts.interpretation_words)
            or self._words(title, opts.consultation_words)
            or self._words(title, opts.feedback_words)
            or self._words(column, opts.policy_columns)
            or is_list
        )
        if relevant:
            doc = self._make_doc(info, title, column, is_list)
            self.docs.setdefault(urlkey(info.url), doc)
            self.docs.setdefault(urlkey(info.final_url), doc)
        if not is_list:
            self._publication(info, title)
        return ()

    def _collect_reports(self, info: PageInfo, title: str) -> None:
        for t in (title, info.title):
            for year in report_years(t):
                self.report_titles.setdefault(year, t)
                self.reports.setdefault(year, []).append(
                    ReportSeen(t, info.final_url, info.final_url, info.pubdate)
                )
        for e in info.entries:
            for year in report_years(e.title):
                self.report_titles.setdefault(year, e.title)
                self.reports.setdefault(year, []).append(
                    ReportSeen(e.title, e.url, info.final_url, e.date)
                )
        for a in info.anchors:
            if a.zone == FOOTER:
                continue
            for year in report_years(a.text):
                self.report_titles.setdefault(year, a.text)
                self.reports.setdefault(year, []).append(ReportSeen(a.text, a.href, info.final_url))
            if is_report_column(a.text):
                self.report_columns.setdefault(urlkey(a.href), (a.href, info.final_url))

    def _make_doc(self, info: PageInfo, title: str, column: str, is_list: bool) -> Doc:
        opts = self.options
        keep_words = [*opts.interpretation_words, *opts.feedback_words, "原文", "文件", "指南"]
        # an interpretation keeps all its content links: one of them may be the policy
        is_interp = self._words(title, opts.interpretation_words)
        return Doc(
            url=info.final_url,
            title=title,
            column=column,
            date=info.pubdate,
            is_list=is_list,
            text=info.main_text[:30000] if not is_list else "",
            anchors=[
                (compact(a.text), a.href)
                for a in info.anchors
                if a.zone == MAIN
                and (is_interp or any(compact(w) in compact(a.text) for w in keep_words))
            ],
            entries=[(e.title, e.url, e.date) for e in info.entries] if is_list else [],
        )

    def _read(self, url: str) -> tuple[Page, PageInfo] | None:
        page = self.ctx.snapshot.page(url)
        info = parse_site_page(page, self.ctx) if page is not None else None
        return (page, info) if page is not None and info is not None else None

    def _load(self, url: str) -> Doc | None:
        """The page's Doc; a page not kept while crawling is read again from the snapshot."""
        found = self.doc(url)
        if found is not None:
            return found
        read = self._read(url)
        if read is None:
            return None
        info = read[1]
        doc = self._make_doc(
            info, page_title(info), info.column_name, bool(info.entries) and not info.is_article
        )
        self.docs[urlkey(url)] = doc
        return doc

    # -- site checks -----------------------------------------------------------------

    def check_site(self, snapshot: SiteSnapshot) -> Iterable[Finding]:
        home = snapshot.homepage_url
        out: list[Finding] = []
        out += self._guide(home)
        out += self._annual_report(home)
        out += self._publication_findings()
        out += self._interpretations()
        out += self._consultations()
        return out

    def _not_checked(self, rule: str, url: str, reason: str, page: str | None = None) -> Finding:
        return Finding(
            rule="guide.not_checked",
            url=url,
            page=page,
            message=f"未能检查“{self.rule(rule).title}”：{reason}。",
            evidence={"rule": rule, "reason": reason},
            key=rule,
        )

    def _start_is_article(self) -> bool:
        if self._article_start is None:
            home = self.ctx.snapshot.homepage_url
            read = self._read(home)
            self._article_start = looks_like_article(read[1] if read else None, home)
        return self._article_start

    def _unreadable(self, url: str) -> str:
        """Why the page at ``url`` could not be read."""
        snapshot = self.ctx.snapshot
        page = snapshot.page(url)
        if page is not None and page.status_code and page.status_code >= 400:
            return f"链接失效（HTTP {page.status_code}）"
        check = snapshot.check(url)
        if check is not None and check.status.is_broken:
            return f"链接失效（{check.status.describe()}）"
        host = (urlsplit(url).hostname or "").lower()
        if host and host not in self.hosts:
            return f"页面位于未抓取的网站（{host}）"
        return "页面未抓取" if page is None else "页面无法解析"

    # guide
    def _guide_candidates(self) -> tuple[list[Doc], list[tuple[str, str]]]:
        words = [compact(w) for w in self.options.guide_names]
        candidates: list[Doc] = []
        unreadable: list[tuple[str, str]] = []
        for href in list(self.guide_links.values())[:20]:
            d = self._load(href)
            if d is None:
                unreadable.append((href, self._unreadable(href)))
            elif d not in candidates:
                candidates.append(d)
        for d in self._unique_docs():
            if any(w in d.title for w in words) and d not in candidates:
                candidates.append(d)
        return candidates, unreadable

    def _guide(self, home: str) -> list[Finding]:
        words = [compact(w) for w in self.options.guide_names]
        candidates, unreadable = self._guide_candidates()
        if not candidates:
            if self._start_is_article():
                return [self._not_checked("guide.missing", home, ARTICLE_START)]
            if unreadable:
                url, why = unreadable[0]
                return [self._not_checked("guide.missing", url, f"指南{why}")]
            return [
                Finding(
                    rule="guide.missing",
                    url=home,
                    message="网站未找到“政府信息公开指南”页面。",
                    evidence={"searched": self.options.guide_names},
                )
            ]
        guide = candidates[0]
        for d in candidates:
            if d.is_list:  # a 指南 column listing the guide article
                target = next(
                    (
                        t
                        for title, url, _ in d.entries
                        if any(w in title for w in words) and (t := self._load(url)) is not None
                    ),
                    None,
                )
                if target is not None:
                    guide = target
                    break
            else:
                guide = d
                break
        return self._judge_guide(guide)

    def _judge_guide(self, guide: Doc) -> list[Finding]:
        read = self._read(guide.url)
        if read is None:
            return [self._not_checked("guide.update_date_missing", guide.url, "指南页面无法读取")]
        page, info = read
        root = parse_html(page.html)
        lines = text_lines(root) if root is not None else []
        opts = self.options
        words = [compact(w) for w in opts.guide_names]
        when = guide_date(
            info, lines, words, opts.guide_labels, self.ctx.today, opts.guide_signature_date
        )
        if when is None and prose_length(lines) < MIN_GUIDE_PROSE:
            reason = self._no_guide_text(page, info, root)
            return [self._not_checked("guide.update_date_missing", guide.url, reason, guide.url)]
        if when is None:
            return [
                Finding(
                    rule="guide.update_date_missing",
                    url=guide.url,
                    page=guide.url,
                    message=f"政府信息公开指南（{guide.title}）未标注更新日期。",
                    evidence={"title": guide.title, "labels": opts.guide_labels},
                )
            ]
        days = (self.ctx.today - when.value).days
        limit = opts.guide_max_age_days
        self.ctx.site_data["disclosure_dates.guide_date"] = when.value.isoformat()
        if days <= limit:
            return []
        where = SOURCE_ZH.get(when.source, when.source)
        return [
            Finding(
                rule="guide.update_date_stale",
                url=guide.url,
                page=guide.url,
                message=f"政府信息公开指南标注的更新日期为{when.value.isoformat()}（{where}），"
                f"已{days}天未更新（超过{limit}天）。",
                evidence={
                    "date": when.value.isoformat(),
                    "days": days,
                    "limit_days": limit,
                    "found_by": when.source,
                    "date_source": when.source,
                },
            )
        ]

    def _no_guide_text(self, page: Page, info: PageInfo, root: etree._Element | None) -> str:
        """Why a guide page without sentences and without a date could not be judged."""
        if not page.rendered and (info.scripted or content_by_script(root)):
            return "指南页面内容由脚本生成，页面未渲染，读不到指南正文"
        index = {a.href for a in info.anchors_in(MAIN) if len(compact(a.text)) >= 4}
        if len(index) >= 10:
            return "指南栏目页面只是各单位指南的索引，没有本单位的指南正文，各单位指南页面未抓取"
        return "指南页面没有正文内容"

    # annual report
    def required_report_year(self) -> int:
        today = self.ctx.today
        month, _, day = self.options.report_deadline.partition("-")
        try:
            deadline = date(today.year, int(month), int(day))
        except ValueError:
            deadline = date(today.year, 1, 31)
        return today.year - 1 if today >= deadline else today.year - 2

    def _annual_report(self, home: str) -> list[Finding]:
        year = self.required_report_year()
        found = sorted(self.report_titles)
        self.ctx.site_data["disclosure_dates.report_years"] = found
        if year in self.report_titles:
            return self._report_late(year)
        why = self._report_list_unreadable(home)
        if why is not None:
            url, reason, page = why
            return [self._not_checked("guide.annual_report_missing", url, reason, page)]
        return [
            Finding(
                rule="guide.annual_report_missing",
                url=home,
                message=f"未找到{year}年度政府信息公开工作年度报告（应于{year + 1}年{self._deadline_text()}前发布）。",
                evidence={"year": year, "found_years": found},
                key=str(year),
            )
        ]

    def _report_list_unreadable(self, home: str) -> tuple[str, str, str | None] | None:
        """(url, reason, page) when the 年报 list could not be read; None when it was."""
        first: tuple[str, str, str | None] | None = None
        for url, seen_on in list(self.report_columns.values())[:10]:
            read = self._read(url)
            if read is None:
                first = first or (url, f"年报栏目{self._unreadable(url)}", seen_on)
                continue
            page, info = read
            if info.entries or page.rendered or not info.body_scripts:
                return None  # the list was read: what it lacks is missing
            first = first or (url, "年报栏目列表由脚本生成，页面未渲染", url)
        if self._start_is_article():
            return home, ARTICLE_START, None
        return first

    def _report_late(self, year: int) -> list[Finding]:
        seen = self.reports.get(year, [])
        dated = [(s.date, "list", s) for s in seen if s.date]
        if not dated:
            dated = self._row_dates(seen)
        if not dated:
            for s in seen[:5]:
                doc = self._load(s.url)
                if doc is not None and doc.date:
                    dated.append((doc.date, "page", s))
        if not dated:
            if not seen:
                return []
            s = seen[0]
            reason = "年报列表和年报页面均未标注发布日期，无法判断是否按期发布"
            return [self._not_checked("guide.annual_report_late", s.url, reason, s.page)]
        when, source, s = min(dated, key=lambda x: x[0])
        deadline = deadline_for(year, self.options.report_deadline)
        if when <= deadline:
            return []
        return [
            Finding(
                rule="guide.annual_report_late",
                url=s.url,
                page=s.page,
                message=f"{year}年度政府信息公开工作年度报告（{s.title}）于{when.isoformat()}发布，"
                f"晚于{deadline.isoformat()}的发布期限{(when - deadline).days}天。",
                evidence={
                    "year": year,
                    "title": s.title,
                    "date": when.isoformat(),
                    "deadline": deadline.isoformat(),
                    "date_source": source,
                    "days_late": (when - deadline).days,
                },
                key=str(year),
            )
        ]

    def _row_dates(self, seen: list[ReportSeen]) -> list[tuple[date, str, ReportSeen]]:
        out: list[tuple[date, str, ReportSeen]] = []
        for s in seen[:5]:
            page = self.ctx.snapshot.page(s.page)
            root = parse_html(page.html) if page is not None else None
            when = row_date(root, s.page, s.url, self.ctx.today) if root is not None else None
            if when:
                out.append((when, "list", s))
        return out

    def _deadline_text(self) -> str:
        month, _, day = self.options.report_deadline.partition("-")
        return f"{int(month)}月{int(day)}日" if month.isdigit() and day.isdigit() else "1月31日"

    # publication lag
    def _publication(self, info: PageInfo, title: str) -> None:
        pub = publication(info, info.final_url, self.ctx.today)
        if pub is None or not self._recent(pub.published.value):
            return
        doc, online = pub.document, pub.published
        count = working_days_after(doc.value, online.value)
        limit = self.options.publication_days
        if count.days <= limit:
            return
        evidence: dict[str, object] = {
            "document_date": doc.value.isoformat(),
            "document_date_source": doc.source,
            "published": online.value.isoformat(),
            "published_source": online.source,
            "working_days": count.days,
            "limit_workdays": limit,
        }
        if count.note:
            evidence["calendar_note"] = count.note
        self.late.append(
            Finding(
                rule="disclosure.publication_late",
                url=info.final_url,
                page=info.final_url,
                message=(
                    f"“{title}”的文件日期为{doc.value.isoformat()}（{_zh(doc)}），"
                    f"上网日期为{online.value.isoformat()}（{_zh(online)}），相隔{count.days}个工作日，"
                    f"超过{limit}个工作日。" + (f"（{count.note}）" if count.note else "")
                ),
                evidence=evidence,
            )
        )

    def _publication_findings(self) -> list[Finding]:
        """The late pages, less those that look like a site migration's import day."""
        bulk = self.options.publication_bulk_min
        per_day: dict[str, int] = {}
        for f in self.late:
            per_day[f.evidence["published"]] = per_day.get(f.evidence["published"], 0) + 1
        skipped = {d: n for d, n in per_day.items() if bulk and n >= bulk}
        if skipped:
            self.ctx.site_data["disclosure_dates.publication_bulk_days"] = skipped
        return [f for f in self.late if f.evidence["published"] not in skipped]


def _zh(dated: Dated) -> str:
    return SOURCE_ZH.get(dated.source, dated.source)
