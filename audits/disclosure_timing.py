"""The timing rules of ``disclosure_dates``: a policy's interpretation follows within 3
working days, a consultation stays open 30 days and its feedback is published.

A mixin of the plugin (it reads the plugin's collected ``Doc``s, options and clock); it
must not know how pages are parsed or how the guide and annual report are judged.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import TYPE_CHECKING

from audits.base import Finding
from audits.disclosure_docs import Doc, related
from audits.pageinfo import compact, urlkey
from core.dates import add_working_days, cn_small_int, find_dates, is_workday, working_days_after
from core.units import assign_unit

if TYPE_CHECKING:
    from collections.abc import Callable

    from audits.base import AuditContext, RuleSpec
    from audits.disclosure_options import DisclosureDatesOptions
    from audits.pageinfo import PageInfo
    from core.snapshot import Page

_RE_RANGE_SEP = re.compile(r"^\s*(?:至|到|—|－|-|~|～|―|–)+\s*")
_RE_MD_ONLY = re.compile(r"^\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_RE_CN_MD_ONLY = re.compile(
    r"^\s*([一二三四五六七八九十]{1,3})\s*月\s*([一二三四五六七八九十廿卅]{1,3})\s*日"
)
_RE_DEADLINE = re.compile(
    r"(?:截止|截至|截止日期|截止时间|截止到|反馈截止)[^。\d〇零一二三四五六七八九]{0,10}$"
)
_RE_DURATION = re.compile(
    r"(?:为期|期限为|期限|期为|时间为)\s*(\d{1,3}|[一二三四五六七八九十廿卅]{1,3})\s*(?:个)?"
    r"(工作日|自然日|日历日|天|日)"
)
_RE_UNIT = re.compile(
    r"(?:起草单位|起草科室|承办单位|承办科室|责任单位|责任科室|解读单位|牵头单位)\s*[:：]\s*"
    r"([\u4e00-\u9fa5]{2,15}?(?:组|科|处|室|中心|支队|办|所|院|局))"
)


class TimingChecks:
    """disclosure.interpretation_* and disclosure.consultation_* over the collected docs."""

    options: DisclosureDatesOptions
    ctx: AuditContext
    docs: dict[str, Doc]

    def _words(self, title: str, words: list[str]) -> bool:
        return any(compact(w) in title for w in words)

    def doc(self, url: str) -> Doc | None:
        return self.docs.get(urlkey(url))

    def _unique_docs(self) -> list[Doc]:
        return list({id(d): d for d in self.docs.values()}.values())

    rule: Callable[[str], RuleSpec]  # AuditPlugin.rule
    _unreadable: Callable[[str], str]  # why a page could not be read (the plugin's)
    _read: Callable[[str], tuple[Page, PageInfo] | None]  # a page and its reading
    _load: Callable[[str], Doc | None]  # a page's Doc, read from the snapshot if needed

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
        # Every list a row appears in counts (a homepage block and its column list both
        # name it): what a row is must not depend on which list was crawled first.
        columns_of: dict[str, list[str]] = {}
        for d in self._unique_docs():
            if d.is_list:
                for _, url, _ in d.entries:
                    columns_of.setdefault(urlkey(url), []).append(d.column or d.title)
        for key, (title, _url, _when, doc) in items.items():
            columns = [c for c in [doc.column if doc else "", *columns_of.get(key, [])] if c]
            if any(self._words(c, opts.interpretation_words) for c in columns):
                continue
            if self._words(title, opts.interpretation_words):
                continue
            if any(self._words(c, opts.policy_columns) for c in columns):
                keys.append(key)
        return keys

    def _interpretation_sources_unread(self) -> str:
        """Why the site's own 解读 column could not be read ('' when it could, or has none)."""
        seen: set[str] = set()
        # The 解读 column is usually linked from the site's chrome (header menu), which
        # documents' main-content anchors leave out: take the homepage's links too.
        home = self._read(self.ctx.snapshot.homepage_url)
        chrome = [(a.text, a.href) for a in home[1].anchors] if home else []
        pairs = chrome + [pair for d in self._unique_docs() for pair in d.anchors]
        for text, href in pairs:
            key = urlkey(href)
            if key in seen or not self._words(text, self.options.interpretation_words):
                continue
            seen.add(key)
            if self._load(href) is None:
                return f"网站的解读栏目“{text}”{self._unreadable(href)}"
            if len(seen) >= 20:
                break
        return ""
        return ""

    def _interpretations(self) -> list[Finding]:
        opts = self.options
        items = self._items()
        interps = {
            k: v
            for k, v in items.items()
            if self._words(v[0], opts.interpretation_words) and compact(v[0]) not in ("政策解读",)
        }
        out: list[Finding] = []
        unread: list[dict[str, str]] = []
        sources_unread = self._interpretation_sources_unread() if interps or items else ""
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
            if match is None and (doc is None or sources_unread):
                # The policy page (its 解读 links) or the site's 解读 column was not read:
                # "no 解读 found" would be a guess.
                unread.append(
                    {
                        "policy": title,
                        "url": url,
                        "reason": sources_unread or f"政策文件页面{self._unreadable(url)}",
                    }
                )
                continue
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
        if unread:
            reasons = sorted({u["reason"] for u in unread})
            out.append(
                Finding(
                    rule="disclosure.not_checked",
                    url=self.ctx.snapshot.homepage_url,
                    page=None,
                    message=f"未能检查{len(unread)}项政策文件是否发布解读：{'；'.join(reasons[:3])}"
                    + ("等" if len(reasons) > 3 else "")
                    + "。本项不作判断，不视为通过。",
                    evidence={
                        "rule": "disclosure.interpretation_missing",
                        "reason": reasons[0],
                        "count": len(unread),
                        "policies": unread[:20],
                    },
                    key="disclosure.interpretation_missing",
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
            if days and m.group(2) == "工作日":
                # "公示期为7个工作日，自发布之日起": the period ends on the Nth working day,
                # counting the first day when it is one; the length judged is calendar days.
                if start is None:
                    return None, None, None
                first = start if is_workday(start)[0] else add_working_days(start, 1)
                end = add_working_days(first, days - 1)
                return start, end, (end - start).days + 1
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
            # The 反馈 is due some time after the close, not the next day.
            if end is not None and add_working_days(end, opts.feedback_grace_days) < self.ctx.today:
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
