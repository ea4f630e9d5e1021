"""What the disclosure audits need from one HTML page, read in one lxml pass.

The page is split into zones the way a reader sees it: navigation (column menus),
header and footer (site chrome), breadcrumb, pagination, and the main content. Column
lists are read from the main zone as entries (title, link, date). Shared by the
``columns``, ``disclosure_dates`` and ``identity`` plugins; it knows nothing about rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import lxml.html
from lxml import etree

from audits.zones import (
    CRUMB,
    EMPTY_MARKERS,
    FOOTER,
    HEADER,
    MAIN,
    NAV,
    PAGER,
    SKIP_TAGS,
    SiteChrome,
    classify,
    compact,
    crumb_parts,
)
from core.dates import DATE_LABELS, FoundDate, find_dates, labelled_date, parse_pubdate
from core.scriptlists import script_list_containers
from core.snapshot import Page, SiteSnapshot

__all__ = [
    "CRUMB",
    "FOOTER",
    "HEADER",
    "MAIN",
    "NAV",
    "PAGER",
    "Anchor",
    "Entry",
    "PageInfo",
    "SiteChrome",
    "clean",
    "compact",
    "is_pager_anchor",
    "parse_page",
    "site_chrome",
    "urlkey",
]

_PAGER_TEXT = re.compile(
    r"^(?:下一页|下页|上一页|上页|首页|尾页|末页|最后一页|后页|前页|>|>>|<|<<|»|«|\d{1,4})$"
)
_NEXT_TEXT = re.compile(r"^(?:下一页|下页|尾页|末页|最后一页|后页|>|>>|»|\d{1,4})$")
_SPACE = re.compile(r"\s+")


def clean(text: str | None) -> str:
    """Collapse whitespace (including U+3000 and nbsp) into single spaces."""
    return _SPACE.sub(" ", (text or "").replace("\xa0", " ").replace("\u3000", " ")).strip()


def urlkey(url: str) -> str:
    """A URL as a lookup key: lower-case scheme and host, no default port, no fragment."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, parts.path or "/", parts.query, ""))


@dataclass
class Anchor:
    text: str
    href: str  # absolute, no fragment
    zone: str


@dataclass
class Entry:
    """One item of a column list: a linked title and the date shown next to it."""

    title: str
    url: str
    date: date | None
    raw_date: str = ""


@dataclass
class PageInfo:
    url: str
    final_url: str
    status: int
    title: str = ""
    meta: dict[str, str] = field(default_factory=dict)  # lower-case names
    anchors: list[Anchor] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    crumbs: list[str] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)
    main_text: str = ""
    footer_text: str = ""
    pubdate: date | None = None
    has_empty_marker: bool = False
    img_alts: list[str] = field(default_factory=list)
    # a list in the main zone is empty in the HTML and filled by a script (core.scriptlists),
    # and the page was not rendered in Chromium: its list could not be read
    scripted: bool = False
    body_scripts: int = 0  # <script> elements in the body of a page not rendered
    body_length: int = 0  # characters of main text besides the headings
    script_lists: int = 0  # empty list containers in the main zone that scripts fill
    # the main content is only an empty-state marker (暂无信息 …) and there are no list rows:
    # an empty column page, whatever its metas say
    empty_column: bool = False

    @property
    def column_name(self) -> str:
        return compact(self.meta.get("columnname", ""))

    @property
    def is_article(self) -> bool:
        kind = self.meta.get("columntype", "")
        return bool(self.meta.get("articletitle") or self.meta.get("pubdate")) or "文章" in kind

    def anchors_in(self, *zones: str) -> list[Anchor]:
        return [a for a in self.anchors if a.zone in zones]

    @property
    def main_length(self) -> int:
        return len(compact(self.main_text))


def _parse(html: str) -> etree._Element | None:
    html = re.sub(r"^\s*<\?xml[^>]*\?>", "", html)
    if not html.strip():
        return None
    try:
        return lxml.html.fromstring(html)
    except (etree.ParserError, ValueError):
        return None


def _anchor_text(a: etree._Element) -> str:
    text = clean(a.text_content())
    if not text:
        text = clean(a.get("title") or "")
    if not text:
        for img in a.iter("img"):
            text = clean(img.get("alt") or img.get("title") or "")
            if text:
                break
    return text


def _href(a: etree._Element, base: str) -> str | None:
    href = (a.get("href") or "").strip()
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
        return None
    try:
        full = urljoin(base, href)
    except ValueError:
        return None
    return full.split("#", 1)[0]


class _LastParsed:
    """The runner hands the same Page object to every plugin in turn: the disclosure
    plugins share one parse of it instead of parsing it three times."""

    key: tuple[object, ...] | None = None
    value: PageInfo | None = None


def parse_page(
    page: Page,
    anchor: date,
    labels: tuple[str, ...] = DATE_LABELS,
    chrome: SiteChrome | None = None,
) -> PageInfo | None:
    """Read one page; None when it is not a parseable HTML page.

    ``chrome`` (from :func:`site_chrome`) names the blocks that repeat across the site;
    without it zones come from the page's own structure. The result is shared by the
    plugins that read the same page one after the other: callers must not modify it.
    """
    key = (
        page.html,  # the string itself: an id() could be reused by a later page's html
        page.url,
        page.final_url,
        len(page.html or ""),
        anchor,
        labels,
        id(chrome),
    )
    if _LastParsed.key == key:
        return _LastParsed.value
    info = _parse_page(page, anchor, labels, chrome)
    _LastParsed.key, _LastParsed.value = key, info
    return info


def parse_site_page(page: Page, ctx: Any, labels: tuple[str, ...] = DATE_LABELS) -> PageInfo | None:
    """``parse_page`` with the chrome learnt from the audit's snapshot (``ctx`` is the plugin's
    AuditContext): blocks that repeat across the site are chrome, not a column's content."""
    return parse_page(page, ctx.today, labels, chrome=site_chrome(ctx.snapshot))


class _ChromeCache:
    key: tuple[object, ...] | None = None
    value: SiteChrome | None = None


def site_chrome(snapshot: SiteSnapshot, sample: int = 40) -> SiteChrome:
    """The site's chrome, learnt once per snapshot from up to ``sample`` of its pages."""
    run = getattr(snapshot, "run", None)
    key = (id(snapshot), getattr(run, "id", None))
    if _ChromeCache.key == key and _ChromeCache.value is not None:
        return _ChromeCache.value
    roots = []
    for page in snapshot.pages():
        if len(roots) >= sample:
            break
        if page.html is None or (page.status_code and page.status_code >= 400):
            continue
        root = _parse(page.html)
        if root is not None:
            roots.append((root, page.final_url or page.url))
    chrome = SiteChrome.from_roots(roots)
    _ChromeCache.key, _ChromeCache.value = key, chrome
    return chrome


_BLOCK_BREAK = ("br", "p", "div", "li", "tr", "h1", "h2", "h3", "table", "dd", "dt")


def _parse_page(
    page: Page, anchor: date, labels: tuple[str, ...], chrome: SiteChrome | None
) -> PageInfo | None:
    if page.html is None or (page.status_code and page.status_code >= 400):
        return None
    root = _parse(page.html)
    if root is None:
        return None
    base = page.final_url or page.url
    for b in root.iter("base"):
        if b.get("href"):
            base = urljoin(base, b.get("href"))
            break
    info = PageInfo(url=page.url, final_url=page.final_url or page.url, status=page.status_code)
    for m in root.iter("meta"):
        name = (m.get("name") or m.get("property") or "").strip().lower()
        if name and name not in info.meta:
            info.meta[name] = clean(m.get("content") or "")
    for t in root.iter("title"):
        info.title = clean(t.text_content())
        break

    # Also after rendering: a container still empty then is a list whose data did not load.
    scripted_lists = script_list_containers(root)
    zone_of, crumb_els = classify(root, base, info.title, chrome, scripted_lists)
    texts: dict[str, list[str]] = {z: [] for z in (NAV, HEADER, FOOTER, CRUMB, PAGER, MAIN)}
    stack: list[tuple[bool, etree._Element, str]] = [(False, root, MAIN)]
    while stack:
        is_tail, el, zone = stack.pop()
        if is_tail:
            if el.tail:
                texts[zone].append(el.tail)
            continue
        if not isinstance(el.tag, str):  # comments, processing instructions
            if el.tail:
                texts[zone].append(el.tail)
            continue
        tag = el.tag.lower()
        stack.append((True, el, zone))
        if tag in SKIP_TAGS:
            if tag == "script" and not page.rendered:
                info.body_scripts += 1
            continue
        own = zone_of.get(el, zone)
        if el.text:
            texts[own].append(el.text)
        if tag in _BLOCK_BREAK:
            texts[own].append("\n")
        if tag == "a":
            href = _href(el, base)
            if href:
                info.anchors.append(Anchor(_anchor_text(el), href, own))
        elif tag == "img" and el.get("alt"):
            info.img_alts.append(clean(el.get("alt")))
        elif tag in ("h1", "h2") and own == MAIN:
            heading = clean(el.text_content())
            if heading:
                info.headings.append(heading)
        for child in reversed(el):
            stack.append((False, child, own))

    info.main_text = "".join(texts[MAIN])
    info.footer_text = clean("".join(texts[FOOTER]))
    for el in crumb_els:
        parts = crumb_parts(el)
        if len(parts) >= 2 or (parts and not info.crumbs):
            info.crumbs = parts
            if len(parts) >= 2:
                break
    main_compact = compact(info.main_text)
    info.body_length = len(main_compact) - sum(len(compact(h)) for h in info.headings)
    info.has_empty_marker = any(m in main_compact for m in EMPTY_MARKERS)
    info.entries = _entries(root, zone_of, base, anchor)
    # a list container left empty in the HTML and filled by a script, in the main zone (on
    # a rendered page: still empty after the scripts ran, and no list read)
    info.script_lists = sum(1 for c in scripted_lists if zone_of.get(c, MAIN) == MAIN)
    info.scripted = info.script_lists > 0 and not (page.rendered and info.entries)
    info.empty_column = _empty_column(root, zone_of, info)
    # the article bar (发布日期：…) sits near the top of the main text
    info.pubdate = parse_pubdate(info.meta.get("pubdate")) or labelled_date(
        info.main_text[:4000], labels, anchor
    )
    return info


def _empty_column(root: etree._Element, zone_of: dict[etree._Element, str], info: PageInfo) -> bool:
    """Is the page's main content an empty-state marker (暂无信息 …) with no list rows?

    The marker must stand on its own (a short text of its own element in the main zone,
    not a sentence of an article), and the main zone holds no entries and no paragraph.
    """
    if info.entries or info.is_article or not info.has_empty_marker:
        return False
    marker = False
    for el in root.iter():
        if not isinstance(el.tag, str) or zone_of.get(el) != MAIN or el.tag in SKIP_TAGS:
            continue
        for piece in (el.text, *(c.tail for c in el)):
            text = compact(piece)
            if not text:
                continue
            if any(m in text for m in EMPTY_MARKERS) and len(text) <= 20:
                marker = True
            elif len(text) >= 80:
                return False  # a paragraph of content: the marker is part of something else
    return marker


def _entries(
    root: etree._Element, zone_of: dict[etree._Element, str], base: str, anchor: date
) -> list[Entry]:
    """List items in the main zone that link to something with a real title.

    Items are ``li``/``tr``/``dd``; a page without any (a list built of ``div``/``p``)
    falls back to innermost ``div``/``p`` blocks holding one titled link and a date.
    """
    out = _items(root, zone_of, base, anchor, ("li", "tr", "dd"), need_date=False)
    if not out:
        out = _items(root, zone_of, base, anchor, ("div", "p"), need_date=True)
    # Undated rows that all lead to other sites (人民日报 … 新浪 media links, 友情链接) are a
    # links block, not the column's items: a column whose list failed to load must not
    # look like one whose items carry no dates.
    own = urlsplit(base).hostname or ""
    if (
        out
        and all(e.date is None for e in out)
        and all((urlsplit(e.url).hostname or "") not in ("", own) for e in out)
    ):
        return []
    return out


def _items(
    root: etree._Element,
    zone_of: dict[etree._Element, str],
    base: str,
    anchor: date,
    tags: tuple[str, ...],
    need_date: bool,
) -> list[Entry]:
    out: list[Entry] = []
    seen: set[str] = set()
    for el in root.iter(*tags):
        if zone_of.get(el) != MAIN:
            continue
        # innermost container only: skip an item that holds other items
        if any(True for _ in el.iterdescendants(*tags)):
            continue
        links: list[tuple[str, str, etree._Element]] = []
        for a in el.iter("a"):
            href = _href(a, base)
            if href:
                links.append((clean(a.get("title") or "") or _anchor_text(a), href, a))
        titled = [x for x in links if len(compact(x[0])) >= 4]
        if not titled or len(titled) > 3:  # no link, or a row of menu links
            continue
        title, href, a = max(titled, key=lambda x: len(x[0]))
        if _PAGER_TEXT.match(compact(title)):
            continue
        found = find_dates(_text_outside(el, a), anchor)
        if not found:
            found = _date_inside_link(a, anchor)
        if not found and el.tag in ("dd", "dt"):
            found = _date_in_row(el, a, anchor)
        if not found and (need_date or (len(links) >= 2 and len(compact(title)) < 8)):
            continue  # a dateless short link among others: a menu, not a list item
        key = urlkey(href)
        if key in seen:
            continue
        seen.add(key)
        out.append(
            Entry(
                title=compact(title),
                url=href,
                date=found[0].value if found else None,
                raw_date=found[0].text if found else "",
            )
        )
    return out


def _date_in_row(el: etree._Element, a: etree._Element, anchor: date) -> list[FoundDate]:
    """The date in a sibling cell of a ``<dl>`` row: ``<dl><dd><a>标题</a></dd><dd>2026-03-10</dd></dl>``."""
    row = el.getparent()
    if row is None or row.tag != "dl" or len(row) > 4:
        return []
    if sum(1 for x in row.iter("a") if x.get("href")) > 1:
        return []  # several links in one <dl>: a menu, not one row
    return find_dates(_text_outside(row, a), anchor)


def _date_inside_link(a: etree._Element, anchor: date) -> list[FoundDate]:
    """A date written inside the link, at its start or end (``<a>标题<span>09-30</span></a>``)."""
    text = clean("".join(a.itertext()))
    found = find_dates(text, anchor, month_day=False)
    for child in a.iterdescendants():
        child_text = clean("".join(child.itertext()))
        if child_text and len(child_text) <= 24:
            in_child = find_dates(child_text, anchor)
            if in_child and len(compact(child_text)) <= len(compact(in_child[0].text)) + 4:
                return in_child
    return [f for f in found if f.start <= 2 or f.end >= len(text) - 2][-1:]


def _text_outside(el: etree._Element, skip: etree._Element) -> str:
    """The text of ``el`` without the text inside ``skip``, pieces joined by spaces."""
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        if node is not skip and isinstance(node.tag, str) and node.text:
            parts.append(node.text)
        if node is not skip:
            for child in node:
                walk(child)
                if child.tail:
                    parts.append(child.tail)

    walk(el)
    return clean(" ".join(parts))


def is_pager_anchor(a: Anchor) -> bool:
    """A link to another page of the same list (下一页, 2, 3, 尾页 …)."""
    return a.zone == PAGER or bool(_NEXT_TEXT.match(compact(a.text)))
