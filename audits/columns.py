"""Column structure (政府信息公开 and the promised columns) and column freshness.

Reads the column tree from the homepage navigation and the column pages (link text,
``ColumnName`` meta, breadcrumbs), the entries of every column list (pagination
followed within the snapshot) and their dates, and checks them against
国办公开办函〔2019〕61号, the bureau's work plan and the inspection indicators
(国办秘函〔2019〕19号). Publishes the scorecard inputs ``columns.veto_stale_count``,
``columns.long_stale_count``, ``columns.blank_count``,
``columns.homepage_days_since_update`` and the table ``columns.table``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from audits.base import AuditContext, AuditPlugin, Finding, RuleSpec, Severity
from audits.pageinfo import (
    FOOTER,
    HEADER,
    MAIN,
    NAV,
    Anchor,
    PageInfo,
    compact,
    is_pager_anchor,
    parse_page,
    urlkey,
)
from core.snapshot import Page, SiteSnapshot
from core.units import assign_unit

REG_61 = "国办公开办函〔2019〕61号 关于政府信息公开专栏设置；本局政务公开工作要点 三(二)"
REG_PLAN = "本局政务公开工作要点 四(二)、五；政府网站发展指引（国办发〔2017〕47号）"
REG_19 = "国办秘函〔2019〕19号 政府网站与政务新媒体检查指标（单项否决/扣分）"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Part(_Model):
    name: str
    variants: list[str] = Field(default_factory=list, description="Names also accepted")


class RequiredColumn(_Model):
    name: str
    variants: list[str] = Field(default_factory=list)
    unit: str = "信息中心"


class Category(_Model):
    name: str
    keywords: list[str]
    limit_days: int = Field(ge=1)
    severity: Literal["error", "warning", "info"] = "error"
    counts_as: Literal["veto_stale", "long_stale", "none"] = "veto_stale"


def _parts() -> list[Part]:
    return [
        Part(name="政府信息公开指南", variants=["信息公开指南", "公开指南"]),
        Part(name="政府信息公开制度", variants=["信息公开制度", "公开制度"]),
        Part(
            name="法定主动公开内容",
            variants=["法定主动公开", "主动公开内容", "主动公开目录", "法定公开内容"],
        ),
        Part(
            name="政府信息公开工作年度报告",
            variants=[
                "政府信息公开年度报告",
                "政府信息公开年报",
                "信息公开年报",
                "信息公开年度报告",
                "信息公开工作年度报告",
                "公开年报",
                "年度报告",
            ],
        ),
    ]


def _required() -> list[RequiredColumn]:
    return [
        RequiredColumn(name="重点领域信息公开", variants=["重点领域"], unit="信息中心"),
        RequiredColumn(name="政策解读", variants=[], unit="信息中心"),
        RequiredColumn(name="公众参与", variants=[], unit="信息中心"),
        RequiredColumn(
            name="建议提案办理",
            variants=["建议提案", "提案办理", "建议办理", "议案提案"],
            unit="政策法规组",
        ),
        RequiredColumn(name="会议公开", variants=[], unit="综合组"),
        RequiredColumn(
            name="意见征集", variants=["征集意见", "征求意见", "预公开"], unit="信息中心"
        ),
        RequiredColumn(name="财政预决算", variants=["预决算"], unit="财务审计组"),
        RequiredColumn(name="局长信箱", variants=["局长邮箱", "领导信箱"], unit="执法监督组"),
    ]


def _categories() -> list[Category]:
    return [
        Category(
            name="动态要闻",
            keywords=["要闻", "动态", "新闻", "图片新闻", "时政", "资讯"],
            limit_days=14,
            severity="error",
            counts_as="veto_stale",
        ),
        Category(
            name="通知公告",
            keywords=["通知公告", "公示公告", "通知", "公告", "公示"],
            limit_days=180,
            severity="error",
            counts_as="veto_stale",
        ),
        Category(
            name="政策文件",
            keywords=["政策文件", "规范性文件", "政策法规", "文件"],
            limit_days=180,
            severity="error",
            counts_as="veto_stale",
        ),
        Category(
            name="人事信息",
            keywords=["人事", "招考", "招聘", "任免"],
            limit_days=365,
            severity="warning",
            counts_as="long_stale",
        ),
        Category(
            name="规划计划",
            keywords=["规划计划", "发展规划", "工作计划", "计划", "规划"],
            limit_days=365,
            severity="warning",
            counts_as="long_stale",
        ),
    ]


class ColumnsOptions(_Model):
    disclosure_name: str = Field("政府信息公开", description="The unified column name")
    near_names: list[str] = Field(
        default_factory=lambda: [
            "政府信息公开专栏",
            "政府信息公开目录",
            "政府信息公开平台",
            "政务信息公开",
            "信息公开目录",
            "信息公开专栏",
            "信息公开",
            "政务公开",
            "政府公开",
        ],
        description="Names that mean the 政府信息公开 column under another name",
    )
    parts: list[Part] = Field(
        default_factory=_parts,
        description="The four parts the 政府信息公开 column must have, each with accepted variants",
    )
    required_columns: list[RequiredColumn] = Field(
        default_factory=_required,
        description="Columns the work plan promises ([[plugins.columns.required_columns]] "
        "name, variants, unit)",
    )
    categories: list[Category] = Field(
        default_factory=_categories,
        description="Freshness categories: name, keywords matched in the column name, "
        "limit_days, severity, counts_as (veto_stale | long_stale | none)",
    )
    column_categories: dict[str, str] = Field(
        default_factory=dict,
        description="Column name → category name; an empty string exempts the column",
    )
    homepage_limit_days: int = Field(
        14, ge=1, description="The homepage must show an item newer than this many days"
    )
    max_list_pages: int = Field(50, ge=1, description="List pages followed per column")
    max_name_length: int = Field(16, ge=2, description="Longer link texts are not column names")
    blank_max_chars: int = Field(
        10,
        ge=0,
        description="A column page without entries and with at most this much text (besides "
        "headings) is blank; so is one saying 暂无信息",
    )
    ignore_columns: list[str] = Field(
        default_factory=list, description="Column names never checked for freshness"
    )
    skip_names: list[str] = Field(
        description="Link texts that are never column names (首页, 更多, 网站地图 …)",
        default_factory=lambda: [
            "首页",
            "网站首页",
            "返回首页",
            "更多",
            "更多>>",
            "more",
            "English",
            "相关网站",
            "友情链接",
            "无障碍",
            "长者模式",
            "关怀版",
            "网站地图",
            "联系我们",
            "登录",
            "注册",
            "搜索",
        ],
    )


@dataclass
class Column:
    name: str
    url: str
    source: str  # where it was found: homepage navigation, sub-navigation, meta …
    entries: int = 0
    undated: int = 0
    newest: date | None = None
    pages: list[str] = field(default_factory=list)
    kind: str = "list"  # list | parent | single | blank
    category: Category | None = None
    days: int | None = None
    status: str = "正常"


class ColumnsAudit(AuditPlugin):
    name = "columns"
    title = "栏目设置与更新"
    Options = ColumnsOptions
    rules = [
        RuleSpec(
            id="columns.disclosure_missing",
            title="首页未设置“政府信息公开”专栏",
            severity=Severity.ERROR,
            regulation=REG_61,
            advice="在网站首页显著位置设置统一命名为“政府信息公开”的专栏。",
            unit="信息中心",
            category="政府信息公开专栏",
        ),
        RuleSpec(
            id="columns.disclosure_misnamed",
            title="政府信息公开专栏名称不规范",
            severity=Severity.ERROR,
            regulation=REG_61,
            advice="将专栏名称统一修改为“政府信息公开”，不得使用“信息公开”“政务公开”等名称。",
            unit="信息中心",
            category="政府信息公开专栏",
        ),
        RuleSpec(
            id="columns.part_missing",
            title="政府信息公开专栏缺少必设板块",
            severity=Severity.ERROR,
            regulation=REG_61,
            advice="专栏须涵盖政府信息公开指南、政府信息公开制度、法定主动公开内容和政府信息公开工作年度报告四部分，补设缺少的板块。",
            unit="信息中心",
            category="政府信息公开专栏",
        ),
        RuleSpec(
            id="columns.required_missing",
            title="未设置工作要点要求的栏目",
            severity=Severity.WARNING,
            regulation=REG_PLAN,
            advice="按工作要点建设该栏目并及时维护内容。",
            unit="信息中心",
            category="栏目设置",
        ),
        RuleSpec(
            id="columns.blank",
            title="空白栏目",
            severity=Severity.ERROR,
            regulation=REG_19 + "：空白栏目数量≥5个单项否决",
            advice="为栏目补充内容；确无内容可发布的栏目应予撤并。",
            unit="信息中心",
            category="栏目更新",
        ),
        RuleSpec(
            id="columns.stale",
            title="栏目超期未更新",
            severity=Severity.ERROR,
            regulation=REG_19
            + "：动态要闻类2周、通知公告/政策文件类6个月、人事/规划计划类1年未更新",
            advice="及时发布栏目信息并标注发布日期；无日期的信息视为未更新。",
            unit="信息中心",
            category="栏目更新",
        ),
        RuleSpec(
            id="columns.homepage_stale",
            title="网站首页超过2周未更新",
            severity=Severity.ERROR,
            regulation=REG_19 + "：首页栏目信息超过2周未更新单项否决",
            advice="保持首页动态、要闻等栏目持续更新，信息须标注发布日期。",
            unit="信息中心",
            category="栏目更新",
        ),
    ]

    def __init__(self, options: BaseModel, context: AuditContext) -> None:
        super().__init__(options, context)
        self.options: ColumnsOptions = options  # type: ignore[assignment]
        self.infos: dict[str, PageInfo] = {}
        self.names_seen: set[str] = set()

    # -- collection ------------------------------------------------------------------

    def check_page(self, page: Page) -> Iterable[Finding]:
        info = parse_page(page, self.ctx.today)
        if info is None:
            return ()
        # A slim copy (the parse is shared with other plugins): no text, short links only.
        info = replace(
            info,
            main_text="",
            footer_text="",
            anchors=[
                a for a in info.anchors if len(compact(a.text)) <= self.options.max_name_length
            ],
        )
        for a in info.anchors:
            if a.zone != FOOTER:
                self.names_seen.add(compact(a.text))
        if info.column_name:
            self.names_seen.add(info.column_name)
        self.names_seen.update(info.crumbs)
        self.infos.setdefault(urlkey(info.url), info)
        self.infos.setdefault(urlkey(info.final_url), info)
        return ()

    def info(self, url: str) -> PageInfo | None:
        return self.infos.get(urlkey(url))

    # -- site checks -----------------------------------------------------------------

    def check_site(self, snapshot: SiteSnapshot) -> Iterable[Finding]:
        home_url = snapshot.homepage_url
        home = self.info(home_url)
        findings: list[Finding] = []
        if home is None:
            self.ctx.site_data["columns.homepage_days_since_update"] = None
            return findings
        hosts = self._hosts(home_url)
        findings += self._disclosure(home, home_url, hosts)
        findings += self._required(home_url)
        columns = self._columns(home, hosts)
        findings += self._freshness(columns)
        findings += self._homepage(home, home_url)
        return findings

    def _hosts(self, home_url: str) -> set[str]:
        hosts = {(urlsplit(home_url).hostname or "").lower()}
        hosts.update(h.lower() for h in self.ctx.config.site.extra_hosts)
        for u in self.ctx.snapshot.run.start_urls:
            hosts.add((urlsplit(u).hostname or "").lower())
        return hosts

    def _internal(self, url: str, hosts: set[str]) -> bool:
        return (urlsplit(url).hostname or "").lower() in hosts

    def _unit(self, rule: str, default: str, url: str | None, evidence: dict) -> str:
        return assign_unit(rule, default, url, None, evidence, self.ctx.config)

    # 政府信息公开 column and its four parts
    def _disclosure(self, home: PageInfo, home_url: str, hosts: set[str]) -> list[Finding]:
        opts = self.options
        target = compact(opts.disclosure_name)
        exact = [a for a in home.anchors if compact(a.text) == target]
        # the column's entrance is the navigation, not a footer link
        shown = [a for a in exact if a.zone != FOOTER]
        near = None if shown else self._near_name([a for a in home.anchors if a.zone != FOOTER])
        if shown or (exact and near is None):
            column_url = (shown or exact)[0].href
        else:
            near = near or self._near_name(home.anchors)
            if near is None:
                return [
                    Finding(
                        rule="columns.disclosure_missing",
                        url=home_url,
                        page=home_url,
                        message=f"网站首页未找到名为“{opts.disclosure_name}”的专栏入口。",
                        evidence={"expected": opts.disclosure_name},
                    )
                ]
            column_url = near.href
            where = {NAV: "首页导航", HEADER: "首页页头", FOOTER: "首页页脚"}.get(near.zone, "首页")
            findings = [
                Finding(
                    rule="columns.disclosure_misnamed",
                    url=home_url,
                    page=home_url,
                    message=f"{where}的专栏名称为“{compact(near.text)}”，应统一命名为“{opts.disclosure_name}”。",
                    evidence={
                        "found": compact(near.text),
                        "found_url": near.href,
                        "where": where,
                        "expected": opts.disclosure_name,
                    },
                )
            ]
            return findings + self._parts(column_url, hosts)
        return self._parts(column_url, hosts)

    def _near_name(self, anchors: list[Anchor]) -> Anchor | None:
        near = [compact(n) for n in self.options.near_names]
        part_words = [compact(v) for p in self.options.parts for v in [p.name, *p.variants]]
        for wanted in near:  # most specific near-name first
            for a in anchors:
                text = compact(a.text)
                if text == wanted:
                    return a
        for a in anchors:
            text = compact(a.text)
            if (
                ("信息公开" in text or "政务公开" in text)
                and len(text) <= 10
                and not any(w in text for w in part_words)
            ):
                return a
        return None

    def _parts(self, column_url: str, hosts: set[str]) -> list[Finding]:
        page = self.info(column_url)
        if page is None:
            return []
        names: set[str] = set()
        for a in page.anchors:
            if a.zone == FOOTER:
                continue
            names.add(compact(a.text))
            target = self.info(a.href) if self._internal(a.href, hosts) else None
            if target is not None and target is not page:
                names.add(target.column_name)
                names.update(target.crumbs[-1:])
                names.add(compact(target.title))
        for h in page.headings:
            names.add(compact(h))
        names.discard("")
        out = []
        for part in self.options.parts:
            variants = [compact(v) for v in (part.name, *part.variants)]
            if any(v in n for n in names for v in variants):
                continue
            out.append(
                Finding(
                    rule="columns.part_missing",
                    url=page.final_url,
                    page=page.final_url,
                    message=f"政府信息公开专栏缺少“{part.name}”板块。",
                    evidence={"part": part.name, "column_url": page.final_url},
                    key=part.name,
                )
            )
        return out

    def _required(self, home_url: str) -> list[Finding]:
        out = []
        names = self.names_seen
        for col in self.options.required_columns:
            variants = [compact(v) for v in (col.name, *col.variants)]
            if any(v and v in n for n in names for v in variants):
                continue
            evidence = {"column": col.name}
            out.append(
                Finding(
                    rule="columns.required_missing",
                    url=home_url,
                    page=None,
                    message=f"网站未设置工作要点要求的“{col.name}”栏目。",
                    evidence=evidence,
                    key=col.name,
                    unit=self._unit("columns.required_missing", col.unit, home_url, evidence),
                )
            )
        return out

    # column tree
    def _columns(self, home: PageInfo, hosts: set[str]) -> list[Column]:
        opts = self.options
        skip = {compact(s).lower() for s in opts.skip_names}
        ignored = {compact(n) for n in opts.ignore_columns}
        columns: dict[str, Column] = {}
        home_keys = {urlkey(home.url), urlkey(home.final_url)}

        def acceptable(a: Anchor) -> bool:
            text = compact(a.text)
            return (
                2 <= len(text) <= opts.max_name_length
                and text.lower() not in skip
                and text not in ignored
                and not is_pager_anchor(a)
                and self._internal(a.href, hosts)
                and urlkey(a.href) not in home_keys
            )

        def add(name: str, url: str, source: str) -> None:
            key = urlkey(url)
            info = self.info(url)
            if info is None or key in columns or key in home_keys:
                return
            if info.is_article and not info.entries:
                return  # an article page, not a column
            name = info.column_name or name
            if name in ignored:
                return
            columns[key] = Column(name=name, url=info.final_url, source=source)

        nav = [a for a in home.anchors if a.zone == NAV and acceptable(a)]
        global_nav = {urlkey(a.href) for a in nav}
        for a in nav:
            add(compact(a.text), a.href, "首页导航")
        # homepage blocks ("通知公告 更多>>") and sub-navigation of column pages
        frontier = [home] + [self.info(c.url) for c in list(columns.values())]
        for a in home.anchors:
            if a.zone in (MAIN, HEADER) and acceptable(a):
                info = self.info(a.href)
                if info is not None and (info.column_name or len(info.entries) >= 2):
                    add(compact(a.text), a.href, "首页")
        depth = 0
        while frontier and depth < 3:
            nxt = []
            for page in frontier:
                if page is None:
                    continue
                for a in page.anchors:
                    if a.zone != NAV or not acceptable(a) or urlkey(a.href) in global_nav:
                        continue
                    before = len(columns)
                    add(compact(a.text), a.href, "子栏目导航")
                    if len(columns) > before:
                        nxt.append(self.info(a.href))
            frontier = nxt
            depth += 1
        # pages that say they are a column (ColumnName meta) and are not articles
        seen_infos = {id(i): i for i in self.infos.values()}
        known_names = {c.name for c in columns.values()}
        for info in seen_infos.values():
            if info.column_name in known_names:
                continue  # another page of a known column's list (pagination)
            if info.column_name and not info.is_article and urlkey(info.final_url) not in home_keys:
                if self._internal(info.final_url, hosts):
                    add(info.column_name, info.final_url, "栏目页元数据")
                    known_names.add(info.column_name)
        out = list(columns.values())
        self._fill(out)
        return out

    def _fill(self, columns: list[Column]) -> None:
        """Entries (pagination followed), newest date and kind of each column."""
        today = self.ctx.today
        names = {c.name for c in columns}
        column_keys = {urlkey(c.url) for c in columns}
        for col in columns:
            first = self.info(col.url)
            assert first is not None
            seen = {urlkey(col.url)}
            queue = [first]
            dates: list[date] = []
            entry_keys: set[str] = set()
            while queue and len(seen) <= self.options.max_list_pages:
                page = queue.pop(0)
                col.pages.append(page.final_url)
                for e in page.entries:
                    k = urlkey(e.url)
                    if k in entry_keys or k in column_keys:
                        continue
                    entry_keys.add(k)
                    col.entries += 1
                    d = e.date
                    if d is None:
                        target = self.info(e.url)
                        d = target.pubdate if target is not None else None
                    if d is None or d > today:
                        col.undated += d is None
                        continue
                    dates.append(d)
                for a in page.anchors:
                    if not is_pager_anchor(a):
                        continue
                    k = urlkey(a.href)
                    nxt = self.info(a.href)
                    if k in seen or nxt is None or k in column_keys:
                        continue
                    seen.add(k)
                    queue.append(nxt)
            col.newest = max(dates) if dates else None
            is_parent = any(
                c is not col
                and (
                    col.name in {x for x in (self.info(c.url) or first).crumbs[:-1]}
                    or _path_parent(col.url, c.url)
                )
                for c in columns
            )
            if col.entries:
                col.kind = "list"
            elif is_parent:
                col.kind = "parent"
            elif first.scripted:
                col.kind = "scripted"  # its list is built by JavaScript and was not rendered
            elif first.has_empty_marker or first.body_length <= self.options.blank_max_chars:
                col.kind = "blank"
            else:
                col.kind = "single"
                col.newest = first.pubdate
        del names

    def _category(self, name: str) -> Category | None:
        opts = self.options
        by_name = {c.name: c for c in opts.categories}
        if name in opts.column_categories:
            return by_name.get(opts.column_categories[name])
        for cat in opts.categories:
            if any(compact(k) in name for k in cat.keywords):
                return cat
        return None

    def _freshness(self, columns: list[Column]) -> list[Finding]:
        today = self.ctx.today
        out: list[Finding] = []
        veto = long = blank = 0
        rows = []
        for col in columns:
            col.category = self._category(col.name)
            cat = col.category
            if col.newest is not None:
                col.days = (today - col.newest).days
            if col.kind == "blank":
                blank += 1
                col.status = "空白栏目"
                evidence = {"column": col.name, "entries": 0}
                out.append(
                    Finding(
                        rule="columns.blank",
                        url=col.url,
                        page=col.url,
                        message=f"栏目“{col.name}”没有任何信息，属于空白栏目。",
                        evidence=evidence,
                    )
                )
            elif col.kind == "parent":
                col.status = "含子栏目"
            elif col.kind == "scripted":
                col.status = "列表由脚本生成，未能检查"
            elif cat is not None and col.kind in ("list", "single"):
                stale = col.newest is None or (col.days or 0) > cat.limit_days
                if stale:
                    col.status = "超期未更新"
                    veto += cat.counts_as == "veto_stale"
                    long += cat.counts_as == "long_stale"
                    out.append(self._stale(col, cat))
            rows.append(
                [
                    col.name,
                    cat.name if cat else "",
                    col.entries,
                    col.newest.isoformat() if col.newest else "",
                    col.days if col.days is not None else "",
                    col.status,
                ]
            )
        self.ctx.site_data["columns.veto_stale_count"] = veto
        self.ctx.site_data["columns.long_stale_count"] = long
        self.ctx.site_data["columns.blank_count"] = blank
        self.ctx.site_data["columns.table"] = {
            "title": "栏目更新情况",
            "columns": ["栏目", "类别", "信息条数", "最近更新", "距今天数", "状态"],
            "rows": rows,
        }
        return out

    def _stale(self, col: Column, cat: Category) -> Finding:
        evidence = {
            "column": col.name,
            "category": cat.name,
            "newest": col.newest.isoformat() if col.newest else None,
            "days": col.days,
            "limit_days": cat.limit_days,
            "entries": col.entries,
            "undated": col.undated,
        }
        if col.newest is None:
            message = (
                f"栏目“{col.name}”（{cat.name}类）的{col.entries}条信息均未标注发布日期，视为未更新。"
                if col.entries
                else f"栏目“{col.name}”（{cat.name}类）未标注发布日期，视为未更新。"
            )
        else:
            message = (
                f"栏目“{col.name}”（{cat.name}类）最近更新于{col.newest.isoformat()}，"
                f"已{col.days}天未更新，超过{cat.limit_days}天的要求。"
            )
        return Finding(
            rule="columns.stale",
            url=col.url,
            page=col.url,
            message=message,
            evidence=evidence,
            severity=Severity(cat.severity),
        )

    def _homepage(self, home: PageInfo, home_url: str) -> list[Finding]:
        today = self.ctx.today
        dates = []
        for e in home.entries:
            d = e.date
            if d is None:
                target = self.info(e.url)
                d = target.pubdate if target is not None else None
            if d is not None and d <= today:
                dates.append(d)
        newest = max(dates) if dates else None
        days = (today - newest).days if newest else None
        self.ctx.site_data["columns.homepage_days_since_update"] = days
        limit = self.options.homepage_limit_days
        if newest is not None and days is not None and days <= limit:
            return []
        message = (
            f"网站首页最近一条信息发布于{newest.isoformat()}，已{days}天未更新（要求不超过{limit}天）。"
            if newest
            else "网站首页的信息均未标注发布日期，无法确认更新情况，视为未更新。"
        )
        return [
            Finding(
                rule="columns.homepage_stale",
                url=home_url,
                page=home_url,
                message=message,
                evidence={
                    "newest": newest.isoformat() if newest else None,
                    "days": days,
                    "limit_days": limit,
                },
            )
        ]


def _path_parent(parent: str, child: str) -> bool:
    """``/zwgk/`` is the parent of ``/zwgk/zn/index.html`` (same host, directory prefix)."""
    p, c = urlsplit(parent), urlsplit(child)
    if p.hostname != c.hostname:
        return False
    base = p.path.rsplit("/", 1)[0] + "/"
    child_dir = c.path.rsplit("/", 1)[0] + "/"
    return base != "/" and child_dir != base and child_dir.startswith(base)
