"""The column tree of a site and what each column's list holds (entries, dates, kind).

Built from the homepage navigation, homepage blocks, sub-navigation and ``ColumnName``
metas of the parsed pages; pagination is followed within the snapshot. Used by the columns
audit; it knows no rules and reports nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

from audits.columns_options import Category, ColumnsOptions
from audits.pageinfo import HEADER, MAIN, NAV, Anchor, PageInfo, compact, is_pager_anchor, urlkey


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


class ColumnTree:
    """Columns found from a homepage over the parsed pages of one snapshot."""

    def __init__(
        self,
        infos: dict[str, PageInfo],
        options: ColumnsOptions,
        today: date,
        internal: Callable[[str, set[str]], bool],
    ) -> None:
        self.infos = infos
        self.options = options
        self.today = today
        self._internal = internal

    def info(self, url: str) -> PageInfo | None:
        return self.infos.get(urlkey(url))

    def columns(self, home: PageInfo, hosts: set[str]) -> list[Column]:
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
                if info is not None and (
                    info.column_name or len(info.entries) >= 2 or info.empty_column
                ):
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
        self._fill(out, home)
        return out

    def _fill(self, columns: list[Column], home: PageInfo) -> None:
        """Entries (pagination followed), newest date and kind of each column."""
        today = self.today
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
            elif first.empty_column or first.has_empty_marker or self._bare(first, home):
                col.kind = "blank"
            else:
                col.kind = "single"
                col.newest = first.pubdate
        del names

    def _bare(self, page: PageInfo, home: PageInfo) -> bool:
        """Almost no text and no links of its own: a link index (a 指南 page listing each
        department's guide, read as navigation) has little text but is not blank."""
        if page.body_length > self.options.blank_max_chars:
            return False
        chrome = {urlkey(a.href) for a in home.anchors}
        own = {urlkey(a.href) for a in page.anchors if a.zone in (NAV, MAIN)} - chrome
        return len(own) < 5


def _path_parent(parent: str, child: str) -> bool:
    """``/zwgk/`` is the parent of ``/zwgk/zn/index.html`` (same host, directory prefix)."""
    p, c = urlsplit(parent), urlsplit(child)
    if p.hostname != c.hostname:
        return False
    base = p.path.rsplit("/", 1)[0] + "/"
    child_dir = c.path.rsplit("/", 1)[0] + "/"
    return base != "/" and child_dir != base and child_dir.startswith(base)
