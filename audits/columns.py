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

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel

from audits.base import AuditContext, AuditPlugin, Finding, Severity
from audits.columns_options import NOT_CHECKED, RULES, Category, ColumnsOptions
from audits.columns_tree import Column, ColumnTree
from audits.pageinfo import (
    FOOTER,
    HEADER,
    NAV,
    Anchor,
    PageInfo,
    compact,
    parse_site_page,
    urlkey,
)
from core.snapshot import Page, SiteSnapshot
from core.units import assign_unit

#: Article URLs of the common CMSs: TRS …/202602/t20260205_105069.htm, Hanweb
#: /art/2016/11/22/art_1621004_30332664.html, and content_/detail_/docId= pages.
_ARTICLE_URL = re.compile(
    r"/t\d{8}_\d+\.\w+$|/art/\d{4}/\d{1,2}/\d{1,2}/art_|/content_\d+|[?&]docid=\d+",
    re.IGNORECASE,
)
#: Rules judged on the homepage only.
HOMEPAGE_RULES = (
    "columns.disclosure_missing",
    "columns.disclosure_misnamed",
    "columns.required_missing",
    "columns.homepage_stale",
)


class ColumnsAudit(AuditPlugin):
    name = "columns"
    title = "栏目设置与更新"
    Options = ColumnsOptions
    rules = RULES

    def __init__(self, options: BaseModel, context: AuditContext) -> None:
        super().__init__(options, context)
        self.options: ColumnsOptions = options  # type: ignore[assignment]
        self.infos: dict[str, PageInfo] = {}
        self.names_seen: set[str] = set()

    # -- collection ------------------------------------------------------------------

    def check_page(self, page: Page) -> Iterable[Finding]:
        info = parse_site_page(page, self.ctx)
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
        start_url = snapshot.homepage_url
        start = self.info(start_url)
        if start is None:
            rules = [*HOMEPAGE_RULES, "columns.part_missing"]
            return [self._not_checked(rules, start_url, "网站首页未能抓取", start_url)]
        home, home_url = self._homepage_page(start, start_url)
        findings: list[Finding] = []
        hosts = self._hosts(home_url)
        if home is None:
            # An article page (a deep link) is not the homepage: the homepage-level rules are
            # not judged. The 政府信息公开 entrance it links is still followed for the parts.
            reason = "起始页面是文章页，不是网站首页；网站首页未抓取"
            findings.append(self._not_checked(list(HOMEPAGE_RULES), start_url, reason, start_url))
            entrance = self._entrance(start)
            if entrance is None:
                findings.append(
                    self._not_checked(
                        ["columns.part_missing"],
                        start_url,
                        "起始页面是文章页，页面上没有政府信息公开栏目入口",
                        start_url,
                    )
                )
            else:
                findings += self._parts(entrance.href, start, hosts)
            columns = self._tree().columns(start, hosts)
            findings += self._freshness(columns)
            return findings
        findings += self._disclosure(home, home_url, hosts)
        findings += self._required(home_url)
        columns = self._tree().columns(home, hosts)
        findings += self._freshness(columns)
        findings += self._homepage(home, home_url)
        return findings

    def _homepage_page(self, start: PageInfo, start_url: str) -> tuple[PageInfo | None, str]:
        """The page judged as the homepage: the start page, unless it is an article (then
        the site root, when it was crawled)."""
        if not self._is_article(start, start_url):
            return start, start_url
        parts = urlsplit(start.final_url or start_url)
        for path in ("/", "/index.html", "/index.htm", "/index.shtml"):
            root = self.info(f"{parts.scheme}://{parts.netloc}{path}")
            if root is not None and 200 <= root.status < 400 and not self._is_article(root, path):
                return root, root.final_url
        return None, start_url

    @staticmethod
    def _is_article(info: PageInfo, url: str) -> bool:
        if info.is_article:
            return True
        return bool(_ARTICLE_URL.search(info.final_url or url)) and len(info.entries) < 5

    def _not_checked(
        self, rules: list[str], url: str, reason: str, page: str | None, **extra: Any
    ) -> Finding:
        """One ``columns.not_checked`` finding for rules that could not be judged, and why.

        evidence.rule is the first rule, evidence.rules all of them (the scorecard shows
        their rows as 未检测)."""
        titles = "、".join(f"【{self.rule(r).title}】" for r in rules)
        return Finding(
            rule=NOT_CHECKED,
            url=url,
            page=page,
            message=f"未能检查{titles}：{reason}。本项不作判断，不视为通过。",
            evidence={"rule": rules[0], "rules": rules, "reason": reason, **extra},
            key=",".join(rules),
        )

    def _hosts(self, home_url: str) -> set[str]:
        hosts = {(urlsplit(home_url).hostname or "").lower()}
        hosts.update(h.lower() for h in self.ctx.config.site.extra_hosts)
        for u in self.ctx.snapshot.run.start_urls:
            hosts.add((urlsplit(u).hostname or "").lower())
        return hosts

    def _internal(self, url: str, hosts: set[str]) -> bool:
        return (urlsplit(url).hostname or "").lower() in hosts

    def _tree(self) -> ColumnTree:
        return ColumnTree(self.infos, self.options, self.ctx.today, self._internal)

    def _unit(self, rule: str, default: str, url: str | None, evidence: dict) -> str:
        return assign_unit(rule, default, url, None, evidence, self.ctx.config)

    # 政府信息公开 column and its four parts
    def _entrance(self, page: PageInfo) -> Anchor | None:
        """The link to the 政府信息公开 column: its exact name, else an exact near name."""
        target = compact(self.options.disclosure_name)
        exact = [a for a in page.anchors if compact(a.text) == target]
        shown = [a for a in exact if a.zone != FOOTER]
        if shown or exact:
            return (shown or exact)[0]
        body = [a for a in page.anchors if a.zone != FOOTER]
        return self._near_name(body, loose=False) or self._near_name(page.anchors, loose=False)

    def _disclosure(self, home: PageInfo, home_url: str, hosts: set[str]) -> list[Finding]:
        opts = self.options
        target = compact(opts.disclosure_name)
        exact = [a for a in home.anchors if compact(a.text) == target]
        # the column's entrance is the navigation, not a footer link
        shown = [a for a in exact if a.zone != FOOTER]
        if shown:
            return self._parts(shown[0].href, home, hosts)
        if target in home.column_name or target in compact(home.title):
            # the homepage is the 政府信息公开 platform itself (邯郸市政府信息公开)
            return self._parts(home.final_url, home, hosts)
        # with an exact entrance (in the footer) only an exact near name in the navigation
        # counts as the column shown under another name; 市政府部门信息公开 does not
        body = [a for a in home.anchors if a.zone != FOOTER]
        near = self._near_name(body, loose=not exact)
        if near is None and exact:
            return self._parts(exact[0].href, home, hosts)
        near = near or self._near_name(home.anchors, loose=True)
        if near is None:
            return [
                Finding(
                    rule="columns.disclosure_missing",
                    url=home_url,
                    page=home_url,
                    message=f"网站首页未找到名为“{opts.disclosure_name}”的专栏入口。",
                    evidence={"expected": opts.disclosure_name},
                ),
                self._not_checked(
                    ["columns.part_missing"], home_url, "未找到政府信息公开栏目入口", home_url
                ),
            ]
        where = {NAV: "首页导航", HEADER: "首页页头", FOOTER: "首页页脚"}.get(near.zone, "首页")
        misnamed = Finding(
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
        return [misnamed, *self._parts(near.href, home, hosts)]

    def _near_name(self, anchors: list[Anchor], loose: bool = True) -> Anchor | None:
        near = [compact(n) for n in self.options.near_names]
        part_words = [compact(v) for p in self.options.parts for v in [p.name, *p.variants]]
        for wanted in near:  # most specific near-name first
            for a in anchors:
                text = compact(a.text)
                if text == wanted:
                    return a
        if not loose:
            return None
        for a in anchors:
            text = compact(a.text)
            if (
                ("信息公开" in text or "政务公开" in text)
                and len(text) <= 10
                and not any(w in text for w in part_words)
            ):
                return a
        return None

    def _parts(
        self, column_url: str, via: PageInfo, hosts: set[str], hop: int = 0
    ) -> list[Finding]:
        """The four parts, read from the column page, the pages it links and the block or
        submenu of the page that links the column (``via``). A part not seen on a column page
        that was not read is not checked, never missing."""
        page = self.info(column_url)
        if page is not None and not 200 <= page.status < 400:
            page = None  # an error page is not the column (the reason says so)
        target = compact(self.options.disclosure_name)
        own = {page.column_name, *page.crumbs[-1:]} if page is not None else set()
        if page is not None and hop == 0 and not any(target in n for n in own):
            # a 政务公开 section that holds the 政府信息公开 column: judge that column
            inner = [
                a
                for a in page.anchors
                if a.zone != FOOTER
                and compact(a.text) == target
                and self.info(a.href) is not page
                and urlkey(a.href) not in (urlkey(page.url), urlkey(page.final_url))
            ]
            if inner:
                return self._parts(inner[0].href, page, hosts, hop=1)
        names = {compact(a.text) for a in via.anchors if a.zone != FOOTER}
        if page is not None:
            for a in page.anchors:
                if a.zone == FOOTER:
                    continue
                names.add(compact(a.text))
                target = self.info(a.href)
                if target is not None and target is not page:
                    names.add(target.column_name)
                    names.update(target.crumbs[-1:])
                    names.add(compact(target.title))
            names.update(compact(h) for h in page.headings)
        names.discard("")
        missing = []
        for part in self.options.parts:
            variants = [compact(v) for v in (part.name, *part.variants)]
            if not any(v in n for n in names for v in variants):
                missing.append(part.name)
        if not missing:
            return []
        if page is None or page.scripted:
            reason = self._unread_reason(column_url, page)
            return [
                self._not_checked(
                    ["columns.part_missing"],
                    column_url,
                    reason,
                    via.final_url,
                    column_url=column_url,
                    parts_not_seen=missing,
                )
            ]
        return [
            Finding(
                rule="columns.part_missing",
                url=page.final_url,
                page=page.final_url,
                message=f"政府信息公开专栏缺少“{name}”板块。",
                evidence={"part": name, "column_url": page.final_url},
                key=name,
            )
            for name in missing
        ]

    def _unread_reason(self, url: str, page: PageInfo | None) -> str:
        if page is not None:
            return "政府信息公开栏目页面的内容由脚本生成，未能读取"
        check = self.ctx.snapshot.check(url)
        if check is not None and not check.status.is_ok:
            return f"政府信息公开栏目页面未抓取（链接失效：{check.status.describe()}）"
        stored = self.ctx.snapshot.page(url)
        if stored is not None and not 200 <= stored.status_code < 400:
            return f"政府信息公开栏目页面未抓取（链接失效：HTTP {stored.status_code}）"
        host = (urlsplit(url).hostname or "").lower()
        crawled = {(urlsplit(k).hostname or "").lower() for k in self.infos}
        if host not in crawled:
            return (
                f"政府信息公开栏目位于{host}，该主机未抓取（可在 crawl.follow_entrances "
                "中加入入口名称或在 site.extra_hosts 中加入该主机）"
            )
        return "政府信息公开栏目页面未抓取（超出抓取深度或页数限制）"

    def _required(self, home_url: str) -> list[Finding]:
        out = []
        names = self.names_seen
        found: dict[str, str] = {}
        rows = []
        for col in self.options.required_columns:
            accepted = col.accepted()
            match = _match(accepted, names)
            rows.append(
                [col.name, "、".join(accepted), match or "", "已设置" if match else "未找到"]
            )
            if match:
                found[col.name] = match
                continue
            evidence = {"column": col.name, "accepted": accepted}
            out.append(
                Finding(
                    rule="columns.required_missing",
                    url=home_url,
                    page=None,
                    message=f"网站未设置要求的“{col.name}”栏目（可接受的名称："
                    f"{'、'.join(accepted)}）。",
                    evidence=evidence,
                    key=col.name,
                    unit=self._unit("columns.required_missing", col.unit, home_url, evidence),
                )
            )
        self.ctx.site_data["columns.required_found"] = found
        self.ctx.site_data["columns.required.table"] = {
            "title": "要求设置的栏目",
            "columns": ["栏目", "可接受的名称", "网站上的名称（found_as）", "状态"],
            "rows": rows,
        }
        return out

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
                out.append(
                    self._not_checked(
                        ["columns.stale", "columns.blank"],
                        col.url,
                        f"栏目“{col.name}”的信息列表由脚本生成，未能读取（未渲染，或渲染后列表仍为空）",
                        col.url,
                        column=col.name,
                    )
                )
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


def _match(accepted: list[str], names: set[str]) -> str | None:
    """The name on the site under which a required column appears, trying the accepted names
    in order: the name itself, else the shortest name containing it (平潭政策解读)."""
    for wanted in accepted:
        if wanted in names:
            return wanted
        hits = [n for n in names if wanted in n]
        if hits:
            return min(hits, key=lambda n: (len(n), n))
    return None
