"""Dates the disclosure rules depend on: the guide, the annual report, interpretations,
consultations.

- 政府信息公开指南 exists, shows its update date and is not older than a year
  (政府信息公开条例 第十二条; the work plan asks to "明确标注更新日期").
- last year's 政府信息公开工作年度报告 is published by 31 January (条例 第四十九条).
- a policy's interpretation (解读) follows within 3 working days (work plan 五(三)),
  counted with the official holiday calendar (``chinesecalendar``).
- a consultation (意见征集) stays open at least 30 days and, once closed, its feedback is
  published (work plan 二(一), 五(一)).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

from audits.base import AuditContext, AuditPlugin, Finding, RuleSpec, Severity
from audits.pageinfo import FOOTER, MAIN, PageInfo, compact, parse_page, urlkey
from core.dates import (
    cn_small_int,
    cn_year,
    find_dates,
    labelled_date,
    working_days_after,
)
from core.snapshot import Page, SiteSnapshot
from core.units import assign_unit

REG_12 = "《中华人民共和国政府信息公开条例》第十二条；本局政务公开工作要点 六(二)"
REG_49 = "《中华人民共和国政府信息公开条例》第四十九条"
REG_INTERP = "本局政务公开工作要点 五(三)（解读材料在政策文件发布后3个工作日内公开）"
REG_CONSULT = (
    "本局政务公开工作要点 二(一)、五(一)（征求意见期限一般不少于30日，及时公开意见采纳情况）"
)

_YEAR = r"(\d{4}|[〇零○一二三四五六七八九]{4})"
_REPORT = r"(?:政府)?信息公开(?:工作)?(?:年度报告|年报)"
_RE_REPORT_YEAR_FIRST = re.compile(_YEAR + r"\s*年度?[^，。；\d]{0,30}?" + _REPORT)
_RE_REPORT_YEAR_LAST = re.compile(_REPORT + r"\s*[（(]?\s*" + _YEAR + r"\s*年?度?\s*[)）]?")
_RE_BOOK = re.compile(r"《([^《》]{4,80})》")
_RE_RANGE_SEP = re.compile(r"^\s*(?:至|到|—|－|-|~|～|―|–)+\s*")
_RE_MD_ONLY = re.compile(r"^\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_RE_CN_MD_ONLY = re.compile(
    r"^\s*([一二三四五六七八九十]{1,3})\s*月\s*([一二三四五六七八九十廿卅]{1,3})\s*日"
)
_RE_DEADLINE = re.compile(
    r"(?:截止|截至|截止日期|截止时间|截止到|反馈截止)[^。\d〇零一二三四五六七八九]{0,10}$"
)
_RE_DURATION = re.compile(
    r"(?:为期|期限为|期限|期为|时间为)\s*(\d{1,3}|[一二三四五六七八九十廿卅]{1,3})\s*(?:个)?(?:自然日|日历日|天|日)"
)
_RE_UNIT = re.compile(
    r"(?:起草单位|起草科室|承办单位|承办科室|责任单位|责任科室|解读单位|牵头单位)\s*[:：]\s*"
    r"([\u4e00-\u9fa5]{2,15}?(?:组|科|处|室|中心|支队|办|所|院|局))"
)
_GENERIC_CRUMBS = {"首页", "网站首页", "正文", "详情", "内容", "文章", "详细内容", "正文内容"}
_TITLE_SUFFIX = re.compile(r"\s*[_|｜\-—–]+\s*[^_|｜\-—–]*$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DisclosureDatesOptions(_Model):
    guide_names: list[str] = Field(
        default_factory=lambda: ["政府信息公开指南", "信息公开指南"],
        description="Titles that name the guide",
    )
    guide_labels: list[str] = Field(
        default_factory=lambda: [
            "更新日期",
            "更新时间",
            "最后更新",
            "最近更新",
            "修订日期",
            "发布日期",
            "发布时间",
            "成文日期",
            "印发日期",
            "日期",
            "时间",
        ],
        description="Labels whose date counts as the guide's update date, in preference order",
    )
    guide_signature_date: bool = Field(
        True, description="Also accept a date at the end of the guide's text (落款)"
    )
    guide_max_age_days: int = Field(
        365, ge=1, description="guide.update_date_stale when the update date is older"
    )
    report_deadline: str = Field(
        "01-31", description="MM-DD by which last year's annual report must be out"
    )

    @field_validator("report_deadline")
    @classmethod
    def _check_deadline(cls, value: str) -> str:
        month, _, day = value.partition("-")
        try:
            date(2024, int(month), int(day))
        except ValueError:
            raise ValueError(f"{value!r} is not MM-DD; write e.g. '01-31'") from None
        return value

    interpretation_limit_workdays: int = Field(
        3, ge=0, description="Working days (official holiday calendar) allowed for a 解读"
    )
    policy_columns: list[str] = Field(
        default_factory=lambda: ["政策文件", "规范性文件", "政府文件", "部门文件", "通知文件"],
        description="Columns whose articles are policy documents that need an interpretation",
    )
    interpretation_words: list[str] = Field(
        default_factory=lambda: ["解读"], description="Title words of an interpretation"
    )
    consultation_words: list[str] = Field(
        default_factory=lambda: ["征求意见", "意见征集", "征集意见", "公开征求"],
        description="Title words of a consultation notice",
    )
    feedback_words: list[str] = Field(
        default_factory=lambda: [
            "反馈",
            "采纳情况",
            "采纳",
            "意见收集",
            "征求意见情况",
            "结果公开",
        ],
        description="Title words of the feedback on a consultation",
    )
    lookback_days: int = Field(
        365,
        ge=0,
        description="Policies and consultations older than this many days are not checked "
        "(timing rules look at recent work); 0 = all",
    )
    consultation_min_days: int = Field(
        30, ge=1, description="Shortest consultation period, both ends counted"
    )


@dataclass
class Doc:
    """What this plugin keeps of one page."""

    url: str
    title: str
    column: str
    date: date | None
    is_list: bool
    text: str = ""
    anchors: list[tuple[str, str]] = field(default_factory=list)  # (compact text, url)
    entries: list[tuple[str, str, date | None]] = field(default_factory=list)


def page_title(info: PageInfo) -> str:
    """ArticleTitle meta, else the first heading, else <title> without the site suffix."""
    title = info.meta.get("articletitle") or (info.headings[0] if info.headings else "")
    if not title:
        title = _TITLE_SUFFIX.sub("", info.title) or info.title
    return compact(title)


def report_years(text: str) -> set[int]:
    """Years of 政府信息公开工作年度报告 named in a title (2025年… / …年报（2025年）)."""
    years: set[int] = set()
    t = compact(text)
    for rx in (_RE_REPORT_YEAR_FIRST, _RE_REPORT_YEAR_LAST):
        for m in rx.finditer(t):
            raw = m.group(1)
            year = int(raw) if raw.isdigit() else cn_year(raw)
            if year and 1990 <= year <= 2100:
                years.add(year)
    return years


def _core(title: str) -> str:
    """A title reduced to what a related item would repeat (for matching by title)."""
    t = compact(title)
    m = _RE_BOOK.search(t)
    if m:
        return m.group(1)
    for word in ("的政策解读", "政策解读", "的解读", "解读", "的反馈", "反馈"):
        t = t.replace(word, "")
    t = re.sub(r"^(?:关于|对)", "", t)
    t = re.sub(r"(?:的)?(?:公告|通知|公示|说明|情况)$", "", t)
    t = re.sub(r"(?:公开)?(?:征求|征集)(?:意见)?(?:稿)?", "", t)
    t = re.sub(r"(?:意见)?(?:采纳|收集)(?:情况)?", "", t)
    return t.strip("《》（）()的")


def related(a: str, b: str) -> bool:
    ca, cb = _core(a), _core(b)
    if len(ca) < 4 or len(cb) < 4:
        return False
    return ca in cb or cb in ca or ca in compact(b) or cb in compact(a)


class DisclosureDatesAudit(AuditPlugin):
    name = "disclosure_dates"
    title = "政府信息公开指南、年报与解读、征集时效"
    Options = DisclosureDatesOptions
    rules = [
        RuleSpec(
            id="guide.missing",
            title="未找到政府信息公开指南",
            severity=Severity.ERROR,
            regulation=REG_12,
            advice="在“政府信息公开”专栏发布政府信息公开指南，并标注更新日期。",
            unit="综合组",
            category="公开指南与年报",
        ),
        RuleSpec(
            id="guide.update_date_missing",
            title="政府信息公开指南未标注更新日期",
            severity=Severity.ERROR,
            regulation=REG_12,
            advice="在指南中明确标注更新日期（如“更新日期：2026年10月9日”）。",
            unit="综合组",
            category="公开指南与年报",
        ),
        RuleSpec(
            id="guide.update_date_stale",
            title="政府信息公开指南超过一年未更新",
            severity=Severity.WARNING,
            regulation=REG_12,
            advice="对照机构职能和办理流程的变化及时修订指南，并更新标注的日期。",
            unit="综合组",
            category="公开指南与年报",
        ),
        RuleSpec(
            id="guide.annual_report_missing",
            title="未按期发布上一年度政府信息公开工作年度报告",
            severity=Severity.ERROR,
            regulation=REG_49,
            advice="每年1月31日前按统一格式发布上一年度政府信息公开工作年度报告。",
            unit="综合组",
            category="公开指南与年报",
        ),
        RuleSpec(
            id="disclosure.interpretation_late",
            title="政策解读发布超过3个工作日",
            severity=Severity.WARNING,
            regulation=REG_INTERP,
            advice="落实政策文件与解读材料同步起草、同步审批、同步发布，解读在文件发布后3个工作日内公开。",
            unit="综合组",
            description="责任单位为起草文件的科室；页面未标明起草单位时默认综合组（政务公开主管部门）。",
            category="政策解读",
        ),
        RuleSpec(
            id="disclosure.interpretation_missing",
            title="政策文件未找到解读材料",
            severity=Severity.INFO,
            regulation=REG_INTERP,
            advice="按“谁起草、谁解读”原则为政策文件发布解读，并在文件页面关联解读链接。",
            unit="综合组",
            category="政策解读",
        ),
        RuleSpec(
            id="disclosure.consultation_short",
            title="意见征集期限少于30日",
            severity=Severity.WARNING,
            regulation=REG_CONSULT,
            advice="公开征求意见的期限一般不少于30日；确需缩短的应说明理由。",
            unit="信息中心",
            category="意见征集",
        ),
        RuleSpec(
            id="disclosure.consultation_no_feedback",
            title="意见征集结束后未公开反馈情况",
            severity=Severity.INFO,
            regulation=REG_CONSULT,
            advice="征集结束后及时公开意见收集和采纳情况，并与原征集公告关联。",
            unit="信息中心",
            category="意见征集",
        ),
    ]

    def __init__(self, options: BaseModel, context: AuditContext) -> None:
        super().__init__(options, context)
        self.options: DisclosureDatesOptions = options  # type: ignore[assignment]
        self.docs: dict[str, Doc] = {}
        self.report_titles: dict[int, str] = {}
        self.guide_links: dict[str, str] = {}  # url key → url, in the order first seen

    # -- collection ------------------------------------------------------------------

    def _words(self, title: str, words: list[str]) -> bool:
        return any(compact(w) in title for w in words)

    def check_page(self, page: Page) -> Iterable[Finding]:
        info = parse_page(page, self.ctx.today)
        if info is None:
            return ()
        opts = self.options
        title = page_title(info)
        crumbs = [c for c in info.crumbs if c not in _GENERIC_CRUMBS and c != title]
        column = info.column_name or (crumbs[-1] if crumbs else "")
        is_list = bool(info.entries) and not info.is_article
        texts = [title, info.title] + [a.text for a in info.anchors if a.zone != FOOTER]
        texts += [e.title for e in info.entries]
        for t in texts:
            for year in report_years(t):
                self.report_titles.setdefault(year, t)
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
        return ()

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

    def _load(self, url: str) -> Doc | None:
        """The page's Doc; a page not kept while crawling is read again from the snapshot."""
        found = self.doc(url)
        if found is not None:
            return found
        page = self.ctx.snapshot.page(url)
        info = parse_page(page, self.ctx.today) if page is not None else None
        if info is None:
            return None
        doc = self._make_doc(
            info, page_title(info), info.column_name, bool(info.entries) and not info.is_article
        )
        self.docs[urlkey(url)] = doc
        return doc

    def doc(self, url: str) -> Doc | None:
        return self.docs.get(urlkey(url))

    def _unique_docs(self) -> list[Doc]:
        return list({id(d): d for d in self.docs.values()}.values())

    # -- site checks -----------------------------------------------------------------

    def check_site(self, snapshot: SiteSnapshot) -> Iterable[Finding]:
        home = snapshot.homepage_url
        out: list[Finding] = []
        out += self._guide(home)
        out += self._annual_report(home)
        out += self._interpretations()
        out += self._consultations()
        return out

    # guide
    def _find_guide(self) -> Doc | None:
        words = [compact(w) for w in self.options.guide_names]
        candidates: list[Doc] = []
        for href in list(self.guide_links.values())[:20]:
            d = self._load(href)
            if d is not None and d not in candidates:
                candidates.append(d)
        for d in self._unique_docs():
            if any(w in d.title for w in words) and d not in candidates:
                candidates.append(d)
        for d in candidates:
            if d.is_list:  # a 指南 column listing the guide article
                for title, url, _ in d.entries:
                    target = self._load(url) if any(w in title for w in words) else None
                    if any(w in title for w in words) and target is not None:
                        return target
            else:
                return d
        return candidates[0] if candidates else None

    def guide_date(self, doc: Doc) -> tuple[date | None, str]:
        labels = tuple(self.options.guide_labels)
        found = labelled_date(doc.text, labels, self.ctx.today)
        if found:
            return found, "label"
        if self.options.guide_signature_date and doc.text:
            tail = doc.text.rstrip()[-300:]
            dates = [d for d in find_dates(tail, self.ctx.today, month_day=False)]
            if dates:
                return dates[-1].value, "signature"
        return None, ""

    def _guide(self, home: str) -> list[Finding]:
        guide = self._find_guide()
        if guide is None:
            return [
                Finding(
                    rule="guide.missing",
                    url=home,
                    message="网站未找到“政府信息公开指南”页面。",
                    evidence={"searched": self.options.guide_names},
                )
            ]
        when, how = self.guide_date(guide)
        if when is None:
            return [
                Finding(
                    rule="guide.update_date_missing",
                    url=guide.url,
                    page=guide.url,
                    message=f"政府信息公开指南（{guide.title}）未标注更新日期。",
                    evidence={"title": guide.title, "labels": self.options.guide_labels},
                )
            ]
        days = (self.ctx.today - when).days
        limit = self.options.guide_max_age_days
        if days > limit:
            return [
                Finding(
                    rule="guide.update_date_stale",
                    url=guide.url,
                    page=guide.url,
                    message=f"政府信息公开指南标注的更新日期为{when.isoformat()}，已{days}天未更新（超过{limit}天）。",
                    evidence={
                        "date": when.isoformat(),
                        "days": days,
                        "limit_days": limit,
                        "found_by": how,
                    },
                )
            ]
        self.ctx.site_data["disclosure_dates.guide_date"] = when.isoformat()
        return []

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
            return []
        return [
            Finding(
                rule="guide.annual_report_missing",
                url=home,
                message=f"未找到{year}年度政府信息公开工作年度报告（应于{year + 1}年{self._deadline_text()}前发布）。",
                evidence={"year": year, "found_years": found},
                key=str(year),
            )
        ]

    def _deadline_text(self) -> str:
        month, _, day = self.options.report_deadline.partition("-")
        return f"{int(month)}月{int(day)}日" if month.isdigit() and day.isdigit() else "1月31日"

    # interpretations
    def _items(self) -> dict[str, tuple[str, str, date | None, Doc | None]]:
        """Every article-like item: key → (title, url, date, its page if crawled)."""
        items: dict[str, tuple[str, str, date | None, Doc | None]] = {}
        for d in self._unique_docs():
            if d.is_list:
                for title, url, when in d.entries:
                    target = self.doc(url)
                    key = urlkey(url)
                    if key not in items:
                        items[key] = (
                            target.title if target and target.title else title,
                            url,
                            (target.date if target and target.date else None) or when,
                            target,
                        )
            else:
                key = urlkey(d.url)
                if key not in items:
                    items[key] = (d.title, d.url, d.date, d)
        return items

    def _policy_keys(self, items: dict) -> list[str]:
        opts = self.options
        keys = []
        column_of: dict[str, str] = {}
        for d in self._unique_docs():
            if d.is_list:
                for _, url, _ in d.entries:
                    column_of.setdefault(urlkey(url), d.column or d.title)
        for key, (title, _url, _when, doc) in items.items():
            column = (doc.column if doc else "") or column_of.get(key, "")
            if self._words(column, opts.interpretation_words):
                continue
            if self._words(title, opts.interpretation_words):
                continue
            if self._words(column, opts.policy_columns) or self._words(
                column_of.get(key, ""), opts.policy_columns
            ):
                keys.append(key)
        return keys

    def _interpretations(self) -> list[Finding]:
        opts = self.options
        items = self._items()
        interps = {
            k: v
            for k, v in items.items()
            if self._words(v[0], opts.interpretation_words) and compact(v[0]) not in ("政策解读",)
        }
        out: list[Finding] = []
        for key in self._policy_keys(items):
            title, url, when, doc = items[key]
            if not self._recent(when):
                continue
            match = None
            if doc is not None:  # a 解读 link on the policy page
                for text, href in doc.anchors:
                    if self._words(text, opts.interpretation_words) and urlkey(href) in interps:
                        match = interps[urlkey(href)]
                        break
            if match is None:
                for cand in interps.values():
                    cdoc = cand[3]
                    links_back = cdoc is not None and any(urlkey(h) == key for _, h in cdoc.anchors)
                    if links_back or related(cand[0], title):
                        match = cand
                        break
            if match is None:
                out.append(
                    Finding(
                        rule="disclosure.interpretation_missing",
                        url=url,
                        page=url,
                        message=f"政策文件“{title}”未找到对应的解读材料。",
                        evidence={"policy": title, "policy_date": _iso(when)},
                        unit=self._unit("disclosure.interpretation_missing", doc, url),
                    )
                )
                continue
            i_title, i_url, i_when, _ = match
            if when is None or i_when is None:
                continue
            count = working_days_after(when, i_when)
            limit = opts.interpretation_limit_workdays
            if count.days <= limit:
                continue
            evidence = {
                "policy": title,
                "policy_url": url,
                "policy_date": when.isoformat(),
                "interpretation": i_title,
                "interpretation_url": i_url,
                "interpretation_date": i_when.isoformat(),
                "working_days": count.days,
                "limit_workdays": limit,
            }
            if count.note:
                evidence["calendar_note"] = count.note
            out.append(
                Finding(
                    rule="disclosure.interpretation_late",
                    url=url,
                    page=url,
                    message=(
                        f"政策文件“{title}”于{when.isoformat()}发布，解读“{i_title}”于"
                        f"{i_when.isoformat()}发布，相隔{count.days}个工作日（要求不超过{limit}个）。"
                        + (f"（{count.note}）" if count.note else "")
                    ),
                    evidence=evidence,
                    unit=self._unit("disclosure.interpretation_late", doc, url),
                )
            )
        return out

    def _recent(self, when: date | None) -> bool:
        """Inside the look-back window (undated items are always checked)."""
        days = self.options.lookback_days
        return when is None or not days or (self.ctx.today - when).days <= days

    def _unit(self, rule: str, doc: Doc | None, url: str) -> str:
        drafted = _RE_UNIT.search(doc.text) if doc is not None and doc.text else None
        if drafted:
            return drafted.group(1)
        spec = self.rule(rule)
        return assign_unit(rule, spec.unit, url, url, {}, self.ctx.config)

    # consultations
    def consultation_period(self, doc: Doc) -> tuple[date | None, date | None, int | None]:
        """(start, end, days) stated in a consultation notice; days counts both ends."""
        text = doc.text
        anchor = self.ctx.today
        dates = find_dates(text, anchor, month_day=False)
        for d in dates:
            rest = text[d.end : d.end + 30]
            sep = _RE_RANGE_SEP.match(rest)
            if not sep:
                continue
            after = rest[sep.end() :]
            end: date | None = None
            following = find_dates(after, anchor, month_day=False)
            if following and following[0].start == 0:
                end = following[0].value
            else:
                m = _RE_MD_ONLY.match(after) or _RE_CN_MD_ONLY.match(after)
                if m:
                    mo = int(m.group(1)) if m.group(1).isdigit() else cn_small_int(m.group(1))
                    dy = int(m.group(2)) if m.group(2).isdigit() else cn_small_int(m.group(2))
                    try:
                        end = date(d.value.year, mo or 0, dy or 0)
                    except ValueError:
                        end = None
                    if end is not None and end < d.value:
                        end = end.replace(year=end.year + 1)
            if end is not None and end >= d.value:
                return d.value, end, (end - d.value).days + 1
        start = doc.date
        for d in dates:
            if _RE_DEADLINE.search(text[max(0, d.start - 14) : d.start]):
                begin = start or (dates[0].value if dates[0] is not d else None)
                if begin is not None and d.value >= begin:
                    return begin, d.value, (d.value - begin).days + 1
                return None, d.value, None
        m = _RE_DURATION.search(text)
        if m:
            raw = m.group(1)
            days = int(raw) if raw.isdigit() else cn_small_int(raw)
            if days:
                end = start + timedelta(days=days - 1) if start else None
                return start, end, days
        return None, None, None

    def _consultations(self) -> list[Finding]:
        opts = self.options
        docs = self._unique_docs()
        feedback_titles = []
        for d in docs:
            if not d.is_list and self._words(d.title, opts.feedback_words):
                feedback_titles.append(d.title)
            for title, _url, _ in d.entries:
                if self._words(title, opts.feedback_words):
                    feedback_titles.append(title)
        out: list[Finding] = []
        for d in docs:
            if d.is_list or not self._words(d.title, opts.consultation_words):
                continue
            if self._words(d.title, opts.feedback_words):
                continue
            start, end, days = self.consultation_period(d)
            if not self._recent(end or start or d.date):
                continue
            evidence = {
                "title": d.title,
                "start": _iso(start),
                "end": _iso(end),
                "days": days,
                "min_days": opts.consultation_min_days,
            }
            if days is not None and days < opts.consultation_min_days:
                period = f"{_iso(start)}至{_iso(end)}，" if start and end else ""
                out.append(
                    Finding(
                        rule="disclosure.consultation_short",
                        url=d.url,
                        page=d.url,
                        message=f"意见征集“{d.title}”的征求意见期限为{period}共{days}日，少于{opts.consultation_min_days}日。",
                        evidence=evidence,
                    )
                )
            if end is not None and end < self.ctx.today:
                linked = any(self._words(t, opts.feedback_words) for t, _ in d.anchors)
                published = linked or any(related(t, d.title) for t in feedback_titles)
                if not published:
                    out.append(
                        Finding(
                            rule="disclosure.consultation_no_feedback",
                            url=d.url,
                            page=d.url,
                            message=f"意见征集“{d.title}”已于{end.isoformat()}结束，未找到公开的意见收集和采纳情况。",
                            evidence=evidence,
                        )
                    )
        return out


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
