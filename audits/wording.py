"""Wording audit (严重表述错误): fixed political and legal phrases in a wrong form, abolished
institution names in text published after the reform, common typos, and a user dictionary,
in page text and in attachment text (PDF, Word, Excel).

Dictionaries (audits/data/wording.json, versioned, each entry with its source) are listed in
docs/rules.md. Knows no Scrapy and no network: it reads the snapshot's pages and texts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from itertools import groupby
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from audits.base import AuditPlugin, Finding, RuleSpec, Severity
from audits.textlayer import (
    HISTORY_WORDS,
    Located,
    attachment_texts,
    excerpt,
    latest_date,
    page_located,
)
from audits.wording_match import (
    Hit,
    Matcher,
    dictionary,
    effective,
    outdated_context_ok,
    reference_markdown,
    source_text,
)
from core.doctext import NOT_CHECKED_TEXT
from core.snapshot import Page, SiteSnapshot, TextPiece

REG_INDICATORS = (
    "国办秘函〔2019〕19号《政府网站与政务新媒体检查指标》：出现严重表述错误（单项否决）"
)
REG_GUIDE = "国办发〔2017〕47号《政府网站发展指引》：加强内容审核，确保信息准确"


class CustomEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    wrong: str = Field("", description="The wrong form, matched literally")
    right: str = Field(description="The correct form, shown in the finding")
    regex: str | None = Field(None, description="A regular expression used instead of 'wrong'")
    after: date | None = Field(None, description="Only in text published on or after this date")
    severity: Severity = Field(Severity.WARNING, description="error | warning | info")
    note: str = Field("", description="Why (shown in the finding), e.g. the source")

    @field_validator("regex")
    @classmethod
    def _check_regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"{value!r} is not a valid regular expression ({exc})") from None
        return value


class WordingOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    local_reform_date: date | None = Field(
        None,
        description="The local institution reform's date (YYYY-MM-DD): local names such as "
        "国土资源局 are errors in text published after it (default: each entry's date, "
        "2019-03-31 for city and county bodies)",
    )
    reform_dates: dict[str, date] = Field(
        default_factory=dict, description="Per-name dates, e.g. {'环境保护局' = 2019-01-10}"
    )
    grace_days: int = Field(
        60, ge=0, description="Days after a reform date during which an old name is not reported"
    )
    custom: list[CustomEntry] = Field(
        default_factory=list,
        description="[[plugins.wording.custom]] wrong, right, regex, after, severity, note",
    )
    attachments: bool = Field(True, description="Also read attachment text (PDF, Word, Excel)")
    max_per_document: int = Field(
        50, ge=1, description="At most this many findings for one page or attachment"
    )

    @field_validator("custom")
    @classmethod
    def _check_custom(cls, value: list[CustomEntry]) -> list[CustomEntry]:
        for entry in value:
            if not entry.wrong and not entry.regex:
                raise ValueError("each custom entry needs 'wrong' or 'regex'")
        return value


_RULE_OF = {
    "phrase": "wording.political_phrase",
    "variant": "wording.political_phrase",
    "outdated": "wording.outdated_name",
    "typo": "wording.typo",
    "custom": "wording.custom",
}


class WordingAudit(AuditPlugin):
    name = "wording"
    title = "严重表述错误检查"
    Options = WordingOptions
    wants_texts = True
    rules = [
        RuleSpec(
            id="wording.political_phrase",
            title="固定政治表述、国名或法定名称有误",
            severity=Severity.ERROR,
            regulation=f"{REG_INDICATORS}；{REG_GUIDE}；表述以《中国共产党章程》《中华人民共和国宪法》"
            "和党的二十大报告为准（词典见 docs/rules.md）",
            advice="按规范表述逐字更正（如“习近平新时代中国特色社会主义思想”“中华人民共和国”），"
            "附件须更正后重新上传；同时排查同一稿件在其他栏目和网站的转载。",
            unit="信息中心",
            category="严重表述错误",
            description="固定表述中错一字、多一字、漏一字或同音字替换，以及通报中出现过的错误写法"
            "（如“习近平近新时代”“中华人民共合国”）。",
        ),
        RuleSpec(
            id="wording.outdated_name",
            title="使用已撤销的机构名称",
            severity=Severity.ERROR,
            regulation=f"{REG_INDICATORS}；机构改革：第十三届全国人大一次会议《关于国务院机构改革方案的决定》"
            "（2018年3月17日）、中办国办《关于地方机构改革有关问题的指导意见》（2018年）",
            advice="将现行文字中的旧机构名称改为改革后的名称；引用改革前的文件名称（《》内）、"
            "“原××局”及机构沿革介绍不必修改。",
            unit="信息中心",
            category="严重表述错误",
            description="机构改革后已撤销的机构名称（如国土资源局、环境保护局）出现在改革日期之后发布的"
            "正文中；改革前的文件、书名号内的文件名、沿革页面不报告。本地改革日期可配置。",
        ),
        RuleSpec(
            id="wording.typo",
            title="常见错别字",
            severity=Severity.WARNING,
            regulation=f"{REG_GUIDE}；《现代汉语词典》（第7版）；政府网站检查通报中的常见差错",
            advice="更正错别字；建议发布前使用校对工具并执行“三审三校”。",
            unit="信息中心",
            category="严重表述错误",
        ),
        RuleSpec(
            id="wording.custom",
            title="本单位词典中的错误表述",
            severity=Severity.WARNING,
            regulation="本单位规范用语词典（配置 [[plugins.wording.custom]]）",
            advice="按本单位规范用语更正。",
            unit="信息中心",
            category="严重表述错误",
        ),
        RuleSpec(
            id="wording.not_checked",
            title="附件无法检查表述（扫描件、超限或无法读取）",
            severity=Severity.INFO,
            regulation=REG_INDICATORS,
            advice="扫描件请人工审读或改为可检索的文字版；超过大小或时间上限的附件可调高 "
            "[attachments] 的上限后复查。",
            unit="信息中心",
            category="严重表述错误",
        ),
    ]

    @classmethod
    def reference(cls) -> str:
        """The dictionaries and their sources, for docs/rules.md."""
        return reference_markdown()

    def __init__(self, options: BaseModel, context: Any) -> None:
        super().__init__(options, context)
        opts: WordingOptions = self.options  # type: ignore[assignment]
        self.opts = opts
        self.matcher = Matcher([e.model_dump() for e in opts.custom])
        self.version = dictionary()["version"]
        self.page_dates: dict[str, date | None] = {}
        self._home = ""
        self.checked_chars = 0
        self.counts: dict[str, int] = {}

    def check_page(self, page: Page) -> Iterable[Finding]:
        if not self._home:
            self._home = self.ctx.snapshot.homepage_url
        located = page_located(page, self._home, self.ctx.today)
        if located is None:
            return
        self.page_dates[page.final_url] = self.page_dates[page.url] = located.date
        yield from self._scan(located)

    def check_site(self, snapshot: SiteSnapshot) -> Iterable[Finding]:
        if self.opts.attachments:
            # One attachment at a time: its 成文日期 is usually on the last page or sheet.
            for _url, group in groupby(attachment_texts(snapshot, self.page_dates), _url_of):
                items = list(group)
                dates = [
                    latest_date(i.text, self.ctx.today) for i in items if isinstance(i, Located)
                ]
                written = max((d for d in dates if d is not None), default=None)
                for item in items:
                    if isinstance(item, TextPiece):
                        yield from self._not_checked(item)
                    else:
                        yield from self._scan(item, written, dated=True)
        self.ctx.site_data["wording.checked_chars"] = self.checked_chars
        self.ctx.site_data["wording.counts"] = dict(self.counts)
        self.ctx.site_data["wording.dictionary_version"] = self.version

    # -- scanning ----------------------------------------------------------------------
    def _scan(
        self, doc: Located, written: date | None = None, dated: bool = False
    ) -> Iterator[Finding]:
        self.checked_chars += len(doc.text)
        hits = self.matcher.scan(doc.text)
        if not hits:
            return
        history = any(w in doc.title or w in doc.text[:300] for w in HISTORY_WORDS)
        grouped: dict[tuple[str, str, str], tuple[Hit, int]] = {}
        for hit in hits:
            if not self._applies(doc, hit, history, written, dated):
                continue
            key = (hit.kind, hit.wrong, doc.where(hit.start) if doc.is_attachment else "")
            first, count = grouped.get(key, (hit, 0))
            grouped[key] = (first, count + 1)
        for n, (hit, count) in enumerate(grouped.values()):
            if n >= self.opts.max_per_document:
                break
            yield self._finding(doc, hit, count)

    def _applies(
        self, doc: Located, hit: Hit, history: bool, written: date | None, dated: bool
    ) -> bool:
        if hit.kind == "outdated":
            if history or not outdated_context_ok(doc.text, hit):
                return False
            since = effective(hit.entry, self.opts.local_reform_date, self.opts.reform_dates)
            since += timedelta(days=self.opts.grace_days)
            if doc.date is not None and doc.date < since:
                return False
            if not dated:
                written = latest_date(doc.text, self.ctx.today)
            return written is None or written >= since
        if hit.kind == "custom" and hit.entry.get("after"):
            after = hit.entry["after"]
            when = doc.date or latest_date(doc.text, self.ctx.today)
            return when is None or when >= after
        return True

    def _finding(self, doc: Located, hit: Hit, count: int) -> Finding:
        rule = _RULE_OF[hit.kind]
        where = doc.describe(hit.start)
        shown = excerpt(doc.text, hit.start, hit.end)
        times = f"（共{count}处）" if count > 1 else ""
        entry = hit.entry
        if hit.kind in ("phrase", "variant"):
            how = f"（{hit.how}）" if hit.how else ""
            message = f"固定表述有误{how}：“{hit.wrong}”应为“{hit.right}”{times}。位置：{where}；原文：{shown}"
        elif hit.kind == "outdated":
            since = effective(entry, self.opts.local_reform_date, self.opts.reform_dates)
            message = (
                f"使用已撤销的机构名称“{hit.wrong}”（{since.isoformat()}机构改革后为“{hit.right}”）"
                f"{times}。位置：{where}；原文：{shown}"
            )
        elif hit.kind == "typo":
            message = f"错别字：“{hit.wrong}”应为“{hit.right}”{times}。位置：{where}；原文：{shown}"
        else:
            note = f"（{entry['note']}）" if entry.get("note") else ""
            message = f"不规范表述：“{hit.wrong}”应为“{hit.right}”{note}{times}。位置：{where}；原文：{shown}"
        self.counts[rule] = self.counts.get(rule, 0) + 1
        evidence: dict[str, Any] = {
            "excerpt": shown,
            "wrong": hit.wrong,
            "right": hit.right,
            "location": doc.where(hit.start),
            "count": count,
            "dictionary_version": self.version,
        }
        if hit.kind != "custom":
            evidence["source"] = source_text(entry.get("source", ""))
        if hit.kind == "outdated":
            evidence["document_date"] = doc.date.isoformat() if doc.date else None
        if doc.is_attachment:
            evidence["attachment"] = doc.url
            evidence["format"] = doc.piece.format if doc.piece else ""
        severity = Severity(entry["severity"]) if hit.kind == "custom" else None
        return Finding(
            rule=rule,
            url=doc.url,
            page=doc.page or doc.url,
            message=message,
            evidence=evidence,
            severity=severity,
            key=f"{hit.wrong}|{doc.where(hit.start) if doc.is_attachment else ''}",
        )

    def _not_checked(self, piece: TextPiece) -> Iterator[Finding]:
        yield from not_checked_findings("wording.not_checked", piece, "表述")


def _url_of(item: Located | TextPiece) -> str:
    return item.url


def not_checked_findings(rule: str, piece: TextPiece, what: str) -> Iterator[Finding]:
    """The finding for an attachment the text layer could not read (shared with privacy)."""
    if piece.status == "limit":
        yield Finding(
            rule=rule,
            url=None,
            page=None,
            message=f"附件数量超过上限，部分附件未检查{what}：{piece.detail}",
            evidence={"reason": "limit", "detail": piece.detail},
            key="limit",
        )
        return
    reason = NOT_CHECKED_TEXT.get(piece.status, piece.status)
    name = piece.url.rsplit("/", 1)[-1] or piece.url
    yield Finding(
        rule=rule,
        url=piece.url,
        page=piece.page_url or None,
        message=f"附件 {name} 未检查{what}：{reason}",
        evidence={
            "reason": piece.status,
            "detail": piece.detail[:300],
            "attachment": piece.url,
            "format": piece.format,
        },
    )
