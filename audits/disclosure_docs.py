"""Reading the dates the disclosure rules need from one page: a guide's update date and
where it was written, a document's date against the day it went online, a 年报 row's date.

Pure reading (HTML text, metas, URL) for ``audits.disclosure_dates``; it decides no rule
and knows nothing of the snapshot, the crawl or the plugin's findings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from audits.pageinfo import PageInfo, clean, compact, urlkey
from core.dates import (
    cn_year,
    find_dates,
    labelled_date,
    labelled_dates,
    parse_pubdate,
)

_YEAR = r"(\d{4}|[〇零○一二三四五六七八九]{4})"
_REPORT = r"(?:政府)?信息公开(?:工作)?(?:年度报告|年报)"
_RE_REPORT_YEAR_FIRST = re.compile(_YEAR + r"\s*年度?[^，。；\d]{0,30}?" + _REPORT)
_RE_REPORT_YEAR_LAST = re.compile(_REPORT + r"\s*[（(]?\s*" + _YEAR + r"\s*年?度?\s*[)）]?")
_RE_REPORT_COLUMN = re.compile(r"信息公开(?:工作)?(?:年度报告|年报)")
_RE_BOOK = re.compile(r"《([^《》]{4,80})》")
_TITLE_SUFFIX = re.compile(r"\s*[_|｜\-—–]+\s*[^_|｜\-—–]*$")

#: Labels of an explicit update date: the strongest statement a guide can make.
UPDATE_LABELS = ("更新日期", "更新时间", "最后更新", "最近更新", "修订日期", "修订时间")
#: Fields of a 信息索引 table (TRS, Hanweb …) that date a document.
DOC_DATE_LABELS = ("成文日期", "成文时间", "印发日期", "发文日期", "生成日期")
PUB_DATE_LABELS = ("发布日期", "发布时间", "公开日期", "公开时间")
_INDEX_MARKS = ("索引号", "信息索引", "发布机构", "发文机关", "主题分类", "文号")
_DATE_METAS = ("pubdate", "firstpublishedtime", "publishdate")
# t20260205_105069.htm (TRS), optionally under a /202602/ folder that must agree
_RE_URL_T = re.compile(r"(?:/(\d{6}))?/t(\d{8})_\d+\.\w+$")
_RE_URL_ART = re.compile(r"/art/(\d{4})/(\d{1,2})/(\d{1,2})/art_\d+_\d+\.\w+$")  # Hanweb jcms
_RE_ARTICLE_URL = re.compile(
    r"(?:/t\d{8}_\d+\.\w+|/art/\d{4}/\d{1,2}/\d{1,2}/art_[\d_]+\.\w+|"
    r"/(?:content|detail|itemdetail|article|art)[_\-]?\w*\.\w+\?.*\b(?:doc)?id=)",
    re.IGNORECASE,
)
_ORGAN_END = re.compile(
    r"(?:人民政府|政府|委员会|党工委|管委会|办公室|办公厅|局|委|厅|部|署|院|办|室|中心|所|站|处|科|组|会|队)$"
)
_SKIP = {"script", "style", "noscript", "template", "head", "select", "option", "textarea", "title"}
_BLOCK = {
    "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "dd", "dt", "dl",
    "ul", "ol", "section", "article", "header", "footer", "nav", "aside", "br", "form",
}  # fmt: skip
_FILL_ATTRS = ("ms-html", "v-html", "ng-bind-html", "x-html", "data-ng-bind-html")
_CRUMB_MARK = re.compile(r"当前位置|您现在的位置|所在位置|[>＞»›]")


@dataclass
class Doc:
    """What the plugin keeps of one page."""

    url: str
    title: str
    column: str
    date: date | None
    is_list: bool
    text: str = ""
    anchors: list[tuple[str, str]] = field(default_factory=list)  # (compact text, url)
    entries: list[tuple[str, str, date | None]] = field(default_factory=list)


@dataclass(frozen=True)
class Dated:
    """A date read from a page and where it was read (evidence.date_source)."""

    value: date
    source: str  # "label" | "title" | "index_table" | "meta" | "signature" | "url" | "list"
    text: str = ""


@dataclass
class Line:
    text: str
    linked: bool  # every character of it is link text


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


def is_report_column(text: str) -> bool:
    """A link to the 年报 column (政府信息公开年报 / …工作年度报告) rather than one report."""
    return bool(_RE_REPORT_COLUMN.search(compact(text))) and not report_years(text)


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


# -- the page as lines -----------------------------------------------------------------


def parse_html(html: str | None) -> etree._Element | None:
    if not html or not html.strip():
        return None
    html = re.sub(r"^\s*<\?xml[^>]*\?>", "", html)
    try:
        return lxml.html.fromstring(html)
    except (etree.ParserError, ValueError):
        return None


def text_lines(root: etree._Element) -> list[Line]:
    """The body's text as a reader sees its lines: block elements break lines, table cells
    of one row stay on one line (so ``成文日期 | 2025-05-07`` reads as one)."""
    lines: list[Line] = []
    buf: list[str] = []
    plain = [False]

    def flush() -> None:
        text = clean("".join(buf))
        if text:
            lines.append(Line(text, not plain[0]))
        buf.clear()
        plain[0] = False

    def add(text: str | None, linked: bool) -> None:
        if text:
            buf.append(text)
            if not linked and text.strip():
                plain[0] = True

    def walk(el: etree._Element, linked: bool) -> None:
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if tag in _SKIP or not tag:
            return
        block = tag in _BLOCK
        if block:
            flush()
        inner = linked or tag == "a"
        add(el.text, inner)
        for child in el:
            walk(child, inner)
            if tag in ("td", "th") or child.tag in ("td", "th"):
                buf.append(" ")
            add(child.tail, inner)
        if block:
            flush()

    walk(root, False)
    flush()
    return lines


def content_by_script(root: etree._Element | None) -> bool:
    """An empty element that a front-end framework fills with the page's text
    (``<div class="article_content" ms-html="detail.content"></div>``)."""
    if root is None:
        return False
    for el in root.iter():
        if not isinstance(el.tag, str) or not any(el.get(a) is not None for a in _FILL_ATTRS):
            continue
        if not compact("".join(el.itertext())):
            return True
    return False


def prose_length(lines: list[Line]) -> int:
    """Characters of text outside links, in lines long enough to be sentences."""
    return sum(len(compact(ln.text)) for ln in lines if not ln.linked and len(ln.text) >= 20)


# -- a guide's update date ------------------------------------------------------------


def _title_index(lines: list[Line], words: list[str], title: str) -> int | None:
    for i, ln in enumerate(lines):
        text = compact(ln.text)
        if ln.linked or len(text) > 60 or _CRUMB_MARK.search(ln.text):
            continue
        if (title and text == title) or any(w in text for w in words):
            return i
    return None


def _metadata_date(line: str, anchor: date) -> date | None:
    """The date of a short line that is a date (``(2024年03月23日)``) or a labelled date."""
    found = find_dates(line, anchor, month_day=False)
    if not found:
        return None
    if len(compact(line)) <= len(compact(found[0].text)) + 6:
        return found[0].value
    labelled = labelled_dates(line, ("日期", "时间", "发布", "更新", "印发"), anchor)
    return labelled[0][1].value if labelled else None


def _index_rows(lines: list[Line]) -> bool:
    text = "".join(ln.text for ln in lines)
    return sum(mark in text for mark in _INDEX_MARKS) >= 2


def guide_date(
    info: PageInfo,
    lines: list[Line],
    words: list[str],
    labels: list[str],
    anchor: date,
    signature: bool = True,
) -> Dated | None:
    """A guide's update date, by preference: an explicit 更新日期 label, the date under or
    beside the title, the 信息索引 table, the date metas, another label, the 落款."""
    main = clean(info.main_text)
    update = [lb for lb in labels if lb in UPDATE_LABELS or "更新" in lb or "修订" in lb]
    found = labelled_date(main, update, anchor) if update else None
    if found:
        return Dated(found, "label")
    title = compact(info.meta.get("articletitle", ""))
    at = _title_index(lines, words, title)
    if at is not None:
        head = lines[at].text
        for w in words:
            head = head.split(w, 1)[-1] if w in head else head
        when = _metadata_date(head, anchor) if head != lines[at].text else None
        if when:
            return Dated(when, "title", lines[at].text)
        for ln in lines[at + 1 : at + 4]:
            if len(compact(ln.text)) > 80 or any(m in ln.text for m in _INDEX_MARKS):
                break  # body text, or the 信息索引 table (read below)
            if any(lb in ln.text for lb in DOC_DATE_LABELS):
                break
            when = _metadata_date(ln.text, anchor)
            if when:
                return Dated(when, "title", ln.text)
    if _index_rows(lines):
        dated = [
            d.value
            for ln in lines
            for _, d in labelled_dates(ln.text, DOC_DATE_LABELS + PUB_DATE_LABELS, anchor)
        ]
        if dated:
            return Dated(max(dated), "index_table")
    for name in _DATE_METAS:
        when = parse_pubdate(info.meta.get(name))
        if when:
            return Dated(when, "meta")
    others = [lb for lb in labels if lb not in update]
    found = labelled_date(main, others, anchor) if others else None
    if found:
        return Dated(found, "label")
    if signature:
        tail = info.main_text.rstrip()[-300:]
        dates = find_dates(tail, anchor, month_day=False)
        if dates:
            return Dated(dates[-1].value, "signature", dates[-1].text)
    return None


# -- a document's date and the day it went online --------------------------------------


def url_date(url: str) -> date | None:
    """The day a TRS (``/202602/t20260205_105069.htm``) or Hanweb (``/art/2016/11/22/art_…``)
    article went online, as its URL says."""
    path = urlsplit(url).path
    m = _RE_URL_T.search(path)
    if m:
        folder, day = m.group(1), m.group(2)
        if folder and folder != day[:6]:
            return None  # the folder and the id disagree: neither is trusted
        try:
            return date(int(day[:4]), int(day[4:6]), int(day[6:]))
        except ValueError:
            return None
    m = _RE_URL_ART.search(path)
    if m:
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
    return None


def looks_like_article(info: PageInfo | None, url: str) -> bool:
    """A start page that is one article (metas or a dated article URL), not a homepage."""
    path = urlsplit(url).path
    if path in ("", "/") or re.fullmatch(r"/index\.\w+", path):
        return bool(info and info.meta.get("articletitle"))
    if info is not None and info.is_article:
        return True
    return bool(_RE_ARTICLE_URL.search(url))


def signature_date(text: str, anchor: date) -> Dated | None:
    """The 落款: a line that is only a date, after a short line naming the issuing organ
    (``平潭综合实验区党工委`` / ``2025年5月7日``), or both on one line."""
    lines = [clean(x) for x in text.split("\n")]
    lines = [x for x in lines if x]
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i]
        found = find_dates(line, anchor, month_day=False)
        if not found or found[-1].kind == "md":
            continue
        d = found[-1]
        before = compact(line[: d.start])
        if len(compact(line)) > len(compact(d.text)) + 30:
            continue
        organ = before or (compact(lines[i - 1]) if i > 0 else "")
        if 2 < len(organ) <= 30 and _ORGAN_END.search(organ) and not find_dates(organ, anchor):
            return Dated(d.value, "signature", d.text)
    return None


@dataclass(frozen=True)
class Publication:
    document: Dated
    published: Dated


def publication(info: PageInfo, url: str, anchor: date) -> Publication | None:
    """The document's date and the day it went online, when the page shows both apart.

    Document date: 成文日期 (信息索引), else the 落款, else a PubDate meta earlier than the
    URL date. Online: the later of the index table's 发布日期 and the URL's date.
    """
    online = url_date(url)
    main = info.main_text
    has_doc_label = any(lb in main for lb in DOC_DATE_LABELS)
    if online is None and not has_doc_label:
        return None
    text = clean(main)
    index = sum(mark in text for mark in _INDEX_MARKS) >= 1
    doc: Dated | None = None
    published: Dated | None = Dated(online, "url") if online else None
    if has_doc_label:
        when = labelled_date(text, DOC_DATE_LABELS, anchor)
        if when:
            doc = Dated(when, "index_table" if index else "label")
        shown = labelled_date(text, PUB_DATE_LABELS, anchor)
        if shown and doc is not None and (published is None or shown > published.value):
            published = Dated(shown, "index_table" if index else "label")
    if doc is None:
        doc = signature_date(main, anchor)
    if doc is None and online is not None:
        meta = parse_pubdate(info.meta.get("pubdate"))
        if meta and meta < online:
            doc = Dated(meta, "meta")
    if doc is None or published is None or published.value <= doc.value:
        return None
    return Publication(doc, published)


# -- a 年报 row's date ------------------------------------------------------------------


def row_date(root: etree._Element, base: str, target: str, anchor: date) -> date | None:
    """The date shown in the list row of the link to ``target`` (in the link's cell or in a
    sibling cell: ``<dd><a>…年度报告</a></dd><dd>2026-03-10</dd>``); None when the row
    has no date or the nearest ancestor with a date is already a whole list."""
    key = urlkey(target)
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:")):
            continue
        try:
            if urlkey(urljoin(base, href)) != key:
                continue
        except ValueError:
            continue
        node = a
        for _ in range(4):
            parent = node.getparent()
            if parent is None:
                break
            node = parent
            titled = [x for x in node.iter("a") if len(compact(x.text_content())) >= 6]
            if len(titled) > 1:
                break  # reached the list: the row had no date of its own
            outside = "".join(node.itertext()).replace("".join(a.itertext()), " ", 1)
            found = find_dates(outside, anchor)
            if found:
                return found[0].value
    return None


def deadline_for(year: int, month_day: str) -> date:
    month, _, day = month_day.partition("-")
    try:
        return date(year + 1, int(month), int(day))
    except ValueError:
        return date(year + 1, 1, 31)
