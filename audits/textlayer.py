"""The text the text audits (wording, privacy) read: a page's visible text, and attachment text
pieces from the snapshot, with where each character is and the document's date.

Page text keeps table structure (cells end in a tab, rows and blocks in a newline) and
leaves out scripts, styles and the site chrome (nav, header, footer) except on the homepage,
where the chrome is read once. Knows no rules; shared by audits/wording.py and privacy.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from lxml import etree

from core.dates import DATE_LABELS, find_dates, labelled_date, parse_pubdate
from core.snapshot import Page, SiteSnapshot, TextPiece

_SKIP = ("script", "style", "noscript", "template", "svg", "head", "select", "textarea")
_CELL = ("td", "th")
_BLOCK = (
    "tr", "p", "div", "li", "br", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol",
    "dd", "dt", "section", "article", "title", "blockquote", "pre", "form",
)  # fmt: skip
_CHROME_EXACT = {"header", "head", "top", "foot", "dh", "bottom"}
_CHROME_WORDS = re.compile(
    r"^(?:nav|menu|footer|banner|breadcrumb|crumb|daohang|copyright|topbar|site-?header|"
    r"header-|head-|top-|bottom-|foot-|sitemap)",
    re.I,
)
_SPACES = re.compile(r"[ \u3000\xa0\r\f\v]+")
_BLANKS = re.compile(r"[ \n]*\n[ \n]*")
_URL_DATE = re.compile(r"/t(20\d{2})(\d{2})(\d{2})_")

#: What the text audits skip as history: institution 沿革 pages and 大事记.
HISTORY_WORDS = ("沿革", "大事记", "历史回顾", "机构变迁")


@dataclass
class Located:
    """One text to scan: the page or attachment it is, and where inside."""

    url: str  # the page, or the attachment
    page: str  # the page it is on / linked from
    text: str
    location: str  # 页面正文 | 第3页 | 工作表“名单” …
    piece: TextPiece | None = None  # attachments: maps offsets to cells / paragraphs
    title: str = ""
    date: date | None = None  # when the document was published or written (None: unknown)

    @property
    def is_attachment(self) -> bool:
        return self.piece is not None

    def where(self, offset: int) -> str:
        return self.piece.where(offset) if self.piece is not None else self.location

    def describe(self, offset: int) -> str:
        """Chinese: 页面正文 / 附件 名单.xlsx 名单!C4."""
        if self.piece is None:
            return "页面正文"
        name = self.url.rsplit("/", 1)[-1].split("?", 1)[0] or self.url
        return f"附件 {name} {self.where(offset)}"


def _is_chrome(el: etree._Element) -> bool:
    if el.tag == "nav":
        return True
    if el.tag in ("header", "footer"):  # an <article>'s own header holds its title
        return not any(a.tag in ("article", "main") for a in el.iterancestors())
    marks = f"{el.get('id') or ''} {el.get('class') or ''}".lower().split()
    return any(m in _CHROME_EXACT or _CHROME_WORDS.match(m) for m in marks)


def visible_text(html: str, keep_chrome: bool = False) -> str:
    """The text a reader sees in ``html``: cells end in a tab, blocks in a newline."""
    try:
        root = etree.fromstring(html.encode("utf-8"), etree.HTMLParser(encoding="utf-8"))
    except (etree.ParserError, ValueError):
        return ""
    if root is None:
        return ""
    etree.strip_elements(root, *_SKIP, etree.Comment, with_tail=False)
    if not keep_chrome:
        chrome = [el for el in root.iter("nav", "header", "footer", "div", "ul") if _is_chrome(el)]
        for el in chrome:
            parent = el.getparent()
            if parent is None:
                continue
            if el.tail:  # keep the text that followed the removed block
                prev = el.getprevious()
                if prev is not None:
                    prev.tail = (prev.tail or "") + "\n" + el.tail
                else:
                    parent.text = (parent.text or "") + "\n" + el.tail
            parent.remove(el)
    for el in root.iter(*_CELL):
        el.tail = "\t" + (el.tail or "")
    for el in root.iter(*_BLOCK):
        el.text = "\n" + (el.text or "")
        el.tail = "\n" + (el.tail or "")
    text = etree.tostring(root, method="text", encoding=str) or ""
    text = _SPACES.sub(" ", text)
    return _BLANKS.sub("\n", text).strip()


def page_date(page: Page, text: str, today: date) -> date | None:
    """The page's publication date: the PubDate meta, a labelled date, or the URL's date."""
    found = parse_pubdate(page.meta.get("pubdate") or page.meta.get("PubDate"))
    if found is None:
        found = labelled_date(text[:4000], DATE_LABELS, today)
    if found is None:
        m = _URL_DATE.search(page.final_url)
        if m:
            try:
                found = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                found = None
    return found


def latest_date(text: str, today: date) -> date | None:
    """The latest full date written in ``text`` (a document's 成文日期 is usually last)."""
    dates = [d.value for d in find_dates(text, None, month_day=False) if d.value <= today]
    return max(dates) if dates else None


class _LastPage:
    """The last page's text, so two plugins reading the same page parse it once."""

    key: tuple[str, int] | None = None
    value: Located | None = None


def page_located(page: Page, homepage: str, today: date) -> Located | None:
    """The visible text of one crawled HTML page (cached for the next plugin)."""
    if not page.html or page.status_code >= 400:
        return None
    key = (page.final_url, len(page.html))
    if _LastPage.key == key:
        return _LastPage.value
    is_home = page.final_url.rstrip("/") == homepage.rstrip("/") or page.url == homepage
    text = visible_text(page.html, keep_chrome=is_home)
    located = Located(
        page.final_url,
        page.final_url,
        text,
        "页面正文",
        title=page.title,
        date=page_date(page, text, today),
    )
    _LastPage.key, _LastPage.value = key, located
    return located


def attachment_texts(
    snapshot: SiteSnapshot, page_dates: dict[str, date | None]
) -> Iterator[Located | TextPiece]:
    """Readable attachment pieces as Located (dated by their page), and unreadable ones as
    the TextPiece itself (status says why)."""
    texts = getattr(snapshot, "texts", None)
    if texts is None:
        return
    for piece in texts():
        if piece.status != "ok":
            yield piece
            continue
        if not piece.text:
            continue
        yield Located(
            piece.url,
            piece.page_url,
            piece.text,
            piece.location,
            piece=piece,
            title=piece.url.rsplit("/", 1)[-1],
            date=page_dates.get(piece.page_url),
        )


def excerpt(text: str, start: int, end: int, reach: int = 18, shown: str | None = None) -> str:
    """The text around [start, end) on one line, the span marked 【…】 (``shown`` replaces it)."""
    left = text[max(0, start - reach) : start]
    right = text[end : end + reach]
    middle = text[start:end] if shown is None else shown
    flat = re.compile(r"\s+")
    return (
        ("…" if start > reach else "")
        + flat.sub(" ", left)
        + f"【{middle}】"
        + flat.sub(" ", right)
        + ("…" if end + reach < len(text) else "")
    )
