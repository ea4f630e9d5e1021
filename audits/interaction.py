"""互动交流 audit: reads the public message lists (局长信箱, 在线咨询, 政民互动) the crawler
stored — tables or lists with a message date, a status and often a reply date — and reports
messages unanswered for more than 3 months (a veto item) and replies later than the
configured number of working days. Pager pages are crawled like any link, so every page of a
list is read. Knows nothing of the crawler; reads stored HTML only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urljoin

import lxml.html
from pydantic import BaseModel, ConfigDict, Field

from audits.base import AuditContext, AuditPlugin, Finding, RuleSpec, Severity
from core.dates import find_dates, labelled_date, working_days_after
from core.snapshot import Page, SiteSnapshot

REGULATION = "国办秘函〔2019〕19号 政府网站与政务新媒体检查指标（单项否决：互动回应差）"
UNIT = "执法监督组"

MESSAGE_LABELS = [
    "留言时间",
    "留言日期",
    "来信时间",
    "来信日期",
    "提问时间",
    "咨询时间",
    "提交时间",
]
REPLY_LABELS = ["回复时间", "回复日期", "答复时间", "答复日期", "办结时间", "办结日期", "回信时间"]
ANSWERED = ["已回复", "已办结", "已答复", "已处理", "已反馈", "办结"]
OPEN = ["未回复", "未答复", "待回复", "办理中", "处理中", "待处理", "未办结", "受理中", "已受理"]
COLUMN_WORDS = ["信箱", "咨询", "政民互动", "互动交流", "留言", "hdjl"]
LOGIN_WORDS = ["请登录", "用户登录", "登录后", "请先登录", "统一身份认证"]


class InteractionOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unanswered_days: int = Field(90, ge=1, description="A message older than this, unanswered")
    reply_working_days: int = Field(
        10, ge=1, description="A reply later than this many working days is late"
    )
    lookback_days: int = Field(
        365, ge=1, description="Messages older than this are not judged (the veto: 近1年)"
    )
    column_words: list[str] = Field(
        default_factory=lambda: list(COLUMN_WORDS),
        description="Words in a page's title or URL that mark an interaction column",
    )
    max_findings: int = Field(500, ge=1, description="Findings per rule at most")


@dataclass
class Message:
    title: str
    sent: date
    status: str  # the status text as shown ("" when none)
    answered: bool | None  # None: no status shown
    replied: date | None
    link: str  # the message's own page, or the list page
    list_url: str


def _text(el: lxml.html.HtmlElement) -> str:
    return re.sub(r"\s+", " ", el.text_content() or "").strip()


def _status(text: str) -> tuple[str, bool | None]:
    for word in OPEN:  # 未回复 before 回复: the open words are checked first
        if word in text:
            return word, False
    for word in ANSWERED:
        if word in text:
            return word, True
    return "", None


def _column(headers: list[str], words: list[str]) -> int | None:
    for i, h in enumerate(headers):
        if any(w in h for w in words):
            return i
    return None


def _rows_of_tables(doc: lxml.html.HtmlElement, url: str, today: date) -> Iterator[Message]:
    for table in doc.iter("table"):
        rows = [r for r in table.iter("tr") if r.getparent() is not None]
        if len(rows) < 2:
            continue
        headers = [_text(c) for c in rows[0] if c.tag in ("th", "td")]
        reply_col = _column(headers, REPLY_LABELS)
        sent_col = _column(headers, MESSAGE_LABELS)
        if sent_col is None:  # a plain 时间/日期 column that is not the reply's
            sent_col = next(
                (i for i, h in enumerate(headers) if i != reply_col and h in ("时间", "日期")),
                None,
            )
        status_col = _column(headers, ["状态", "办理情况", "回复情况", "答复情况"])
        if sent_col is None or status_col is None or sent_col == status_col:
            continue
        title_col = _column(headers, ["标题", "主题", "事项", "内容"])
        for row in rows[1:]:
            cells = [c for c in row if c.tag in ("th", "td")]
            if len(cells) <= max(sent_col, status_col):
                continue
            sent = find_dates(_text(cells[sent_col]), today)
            if not sent:
                continue
            status, answered = _status(_text(cells[status_col]))
            replied = None
            if reply_col is not None and reply_col < len(cells):
                found = find_dates(_text(cells[reply_col]), today)
                replied = found[0].value if found else None
            cell = cells[title_col] if title_col is not None and title_col < len(cells) else row
            link = next((a.get("href") for a in cell.iter("a") if a.get("href")), None)
            title = _text(cell)[:120] if title_col is not None else _text(row)[:120]
            yield Message(
                title,
                sent[0].value,
                status,
                answered,
                replied,
                urljoin(url, link) if link else url,
                url,
            )


def _items_of_lists(doc: lxml.html.HtmlElement, url: str, today: date) -> Iterator[Message]:
    """List layouts: each <li> (or a div row) with a status word and a labelled date."""
    seen: set[int] = set()
    for item in doc.iter("li", "dl", "div", "tr"):
        if item.tag == "tr" or any(id(a) in seen for a in item.iterancestors()):
            continue
        text = _text(item)
        if len(text) > 600 or not any(w in text for w in [*ANSWERED, *OPEN, "状态"]):
            continue
        # innermost block holding one message: it must not contain two status words' blocks
        if item.tag == "div" and any(
            _status(_text(c))[1] is not None for c in item if c.tag in ("li", "div", "dl")
        ):
            continue
        sent = labelled_date(text, MESSAGE_LABELS, today)
        if sent is None:
            dates = find_dates(text, today)
            if not dates:
                continue
            sent = dates[0].value
        replied = labelled_date(text, REPLY_LABELS, today)
        status, answered = _status(text)
        if answered is None and replied is None:
            continue
        seen.add(id(item))
        anchor = next((a for a in item.iter("a") if a.get("href")), None)
        title = _text(anchor) if anchor is not None else re.split(r"[：:]", text)[0]
        link = urljoin(url, anchor.get("href")) if anchor is not None else url
        yield Message(title[:120], sent, status, answered, replied, link, url)


def read_messages(html: str, url: str, today: date) -> list[Message]:
    """The messages of one list page (table layout first, then list layouts)."""
    try:
        doc = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return []
    for bad in doc.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    found = list(_rows_of_tables(doc, url, today))
    if not found:
        found = list(_items_of_lists(doc, url, today))
    return found


class InteractionAudit(AuditPlugin):
    name = "interaction"
    title = "互动交流回应检查（留言答复）"
    Options = InteractionOptions
    options: InteractionOptions
    rules = [
        RuleSpec(
            id="interaction.unanswered",
            title="政务咨询留言超过3个月未回应",
            severity=Severity.ERROR,
            regulation=REGULATION,
            advice="尽快答复或办结超过3个月未回应的留言，并公开答复内容；建立留言办理时限和督办机制。",
            unit=UNIT,
            category="互动交流",
        ),
        RuleSpec(
            id="interaction.reply_late",
            title="留言答复超过规定工作日",
            severity=Severity.WARNING,
            regulation="各地局长信箱办理规定（常见为5或10个工作日内答复）；" + REGULATION,
            advice="在规定工作日内答复留言；确需延期的，应告知留言人并公开说明。",
            unit=UNIT,
            category="互动交流",
        ),
        RuleSpec(
            id="interaction.not_checked",
            title="互动交流栏目未能检查",
            severity=Severity.INFO,
            regulation=REGULATION,
            advice="公开留言列表（留言时间、办理状态、回复时间），无需登录即可查看；"
            "如必须登录，请人工核查留言答复情况。",
            unit=UNIT,
            category="互动交流",
        ),
    ]

    def __init__(self, options: BaseModel, context: AuditContext) -> None:
        super().__init__(options, context)
        self.lists: list[list[str]] = []
        self.messages = 0
        self.counts = {"interaction.unanswered": 0, "interaction.reply_late": 0}
        self.column_pages: list[str] = []
        self.not_checked = 0

    def check_page(self, page: Page) -> Iterable[Finding]:
        html = page.html or ""
        if not html or page.status_code >= 400:
            return
        url = page.final_url or page.url
        is_column = any(w in page.title or w in url for w in self.options.column_words)
        markers = any(w in html for w in [*MESSAGE_LABELS, *REPLY_LABELS]) and any(
            w in html for w in [*ANSWERED, *OPEN]
        )
        if not (is_column or markers):
            return
        if is_column:
            self.column_pages.append(url)
        messages = read_messages(html, url, self.ctx.today) if markers else []
        if not messages:
            login = 'type="password"' in html.replace("'", '"') or any(
                w in html for w in LOGIN_WORDS
            )
            if login or markers:
                self.not_checked += 1
                why = "需要登录才能查看" if login else "页面有留言列表的标记，但未能读出留言"
                yield Finding(
                    rule="interaction.not_checked",
                    url=url,
                    page=url,
                    message=f"互动交流栏目未能检查：{why}（{page.title or url}）",
                    evidence={"reason": why, "list_page": url},
                )
            return
        self.messages += len(messages)
        open_count = 0
        for m in messages:
            finding = self._judge(m)
            if finding is not None:
                open_count += finding.rule == "interaction.unanswered"
                if self.counts[finding.rule] < self.options.max_findings:
                    self.counts[finding.rule] += 1
                    yield finding
        self.lists.append([url, page.title, len(messages), open_count])

    def _judge(self, m: Message) -> Finding | None:
        today = self.ctx.today
        age = (today - m.sent).days
        if age > self.options.lookback_days or age < 0:
            return None
        evidence = {
            "title": m.title,
            "date": m.sent.isoformat(),
            "status": m.status or "（未标注）",
            "reply_date": m.replied.isoformat() if m.replied else None,
            "list_page": m.list_url,
            "age_days": age,
        }
        key = f"{m.title}|{m.sent.isoformat()}"
        if m.replied is None and m.answered is not True:
            if age > self.options.unanswered_days:
                return Finding(
                    rule="interaction.unanswered",
                    url=m.link,
                    message=f"留言“{m.title}”（{m.sent:%Y-%m-%d}）已{age}天未回应"
                    f"（状态：{m.status or '未标注'}）",
                    evidence=evidence,
                    key=key,
                )
            return None
        if m.replied is not None:
            late = working_days_after(m.sent, m.replied)
            if late.days > self.options.reply_working_days:
                evidence |= {"working_days": late.days, "limit": self.options.reply_working_days}
                if late.note:
                    evidence["note"] = late.note
                return Finding(
                    rule="interaction.reply_late",
                    url=m.link,
                    message=f"留言“{m.title}”（{m.sent:%Y-%m-%d}）于{m.replied:%Y-%m-%d}答复，"
                    f"用时{late.days}个工作日，超过{self.options.reply_working_days}个工作日",
                    evidence=evidence,
                    key=key,
                )
        return None

    def check_site(self, snapshot: SiteSnapshot) -> Iterable[Finding]:
        data = self.ctx.site_data
        data["interaction.lists_read"] = len(self.lists)
        data["interaction.messages"] = self.messages
        data["interaction.unanswered"] = self.counts["interaction.unanswered"]
        data["interaction.reply_late"] = self.counts["interaction.reply_late"]
        if self.lists:
            data["interaction.table"] = {
                "title": f"读取的留言列表（共{self.messages}条留言）",
                "columns": ["列表页", "标题", "留言数", "超过3个月未回应"],
                "rows": self.lists[:300],
            }
        if not self.lists and self.column_pages and not self.not_checked:
            first = self.column_pages[0]
            yield Finding(
                rule="interaction.not_checked",
                url=first,
                message="找到互动交流栏目，但未能读出公开的留言列表（留言时间、状态），请人工核查",
                evidence={"reason": "未找到留言列表", "pages": self.column_pages[:10]},
            )
        cutoff = self.ctx.today - timedelta(days=self.options.unanswered_days)
        data["interaction.cutoff"] = cutoff.isoformat()
