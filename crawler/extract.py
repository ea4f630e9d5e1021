"""Link extraction from an HTML page (lxml).

Every link a visitor or browser would follow or load: a, area, img, script,
link[href], iframe/frame, source, video/audio, embed, object. Each keeps its tag, its
anchor text (or alt/title) and the attribute as written; targets are absolute and
normalised (see :mod:`crawler.scope`). mailto:, tel:, javascript: and data: links are
not links to check and are dropped here.

A page parsed only in part (libxml2 stops at its nesting-depth limit, e.g. 100,000
nested ``<div>``s) still gives its links: the rest come from a plain scan of the HTML,
and the page is marked ``partial``. At most ``max_links`` links are kept per page; the
number of further link values is counted (``links_over``), not resolved.
"""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from crawler.scope import SKIPPED_SCHEMES, normalize_url

#: (tag, attribute) pairs that hold a URL.
_LINK_ATTRS: dict[str, tuple[str, ...]] = {
    "a": ("href",),
    "area": ("href",),
    "img": ("src",),
    "script": ("src",),
    "link": ("href",),
    "iframe": ("src",),
    "frame": ("src",),
    "source": ("src",),
    "video": ("src",),
    "audio": ("src",),
    "embed": ("src",),
    "object": ("data",),
}
#: <link rel> values that are not fetched resources worth checking.
_SKIP_LINK_REL = {
    "dns-prefetch",
    "preconnect",
    "canonical",
    "alternate",
    "shortlink",
    "pingback",
    "search",
    "profile",
    "author",
}

#: Extensions of documents a page links to (attachments), checked without crawling.
ATTACHMENT_EXT = {
    "pdf",
    "doc",
    "docx",
    "xls",
    "xlsx",
    "ppt",
    "pptx",
    "wps",
    "et",
    "dps",
    "ofd",
    "zip",
    "rar",
    "7z",
    "gz",
    "tar",
    "txt",
    "csv",
    "rtf",
    "odt",
    "ods",
    "xml",
    "json",
}
#: Extensions of non-HTML resources.
RESOURCE_EXT = ATTACHMENT_EXT | {
    "jpg",
    "jpeg",
    "png",
    "gif",
    "bmp",
    "webp",
    "svg",
    "ico",
    "tif",
    "tiff",
    "css",
    "js",
    "mp3",
    "mp4",
    "avi",
    "wmv",
    "flv",
    "mov",
    "swf",
    "woff",
    "woff2",
    "ttf",
    "eot",
    "apk",
    "exe",
    "msi",
    "iso",
    "dmg",
}
#: Tags whose targets are pages to crawl (when internal and not a resource).
PAGE_TAGS = {"a", "area", "iframe", "frame", "meta"}  # meta: <meta http-equiv="refresh">

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_WS = re.compile(r"\s+")
_SCRIPT_ID_RE = re.compile(
    r"""(?:getElementById\(\s*|querySelector\(\s*['"]#|\$\(\s*['"]#)['"]?([A-Za-z][\w\-]*)"""
)


class RawLink(NamedTuple):  # a tuple: built for every link, cheaper than a dataclass
    target: str  # absolute, normalised
    tag: str
    text: str
    raw: str


@dataclass(slots=True)
class ParsedPage:
    title: str
    links: list[RawLink]
    meta: dict[str, str]
    h1: str
    text_len: int  # visible text length (for soft-404 and script-built pages)
    short_text: str  # the first visible text, for soft-404 detection
    scripts: int
    noscript: str
    empty_app: bool  # an empty <div id="app"> style container
    partial: str = ""  # why the tree holds only part of the page ("" when whole)
    links_over: int = 0  # link values beyond max_links (counted, not resolved)


def extension(url: str) -> str:
    path = urlsplit(url).path
    last = path.rsplit("/", 1)[-1]
    return last.rsplit(".", 1)[-1].lower() if "." in last else ""


def is_attachment(url: str) -> bool:
    return extension(url) in ATTACHMENT_EXT


def is_resource(url: str) -> bool:
    return extension(url) in RESOURCE_EXT


def _text(el: etree._Element) -> str:
    """The element's text, whitespace runs collapsed (as ``_WS.sub(" ", …).strip()``)."""
    # Most anchors hold just text: no need for an XPath string() over the subtree.
    text = (el.text or "") if len(el) == 0 else el.text_content()
    return " ".join(text.split())


_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.")


class _Resolver:
    """Resolves a page's link values against its base, through a cache shared by pages.

    ``urljoin(base, value)`` often depends on less than the whole base: only its scheme
    and host for ``/path``, ``//host/…`` and ``http(s)://…`` values, only its directory
    for plain relative paths. The cache is keyed on that shorter base, so the menus and
    footers that every page of a site repeats are resolved and normalised once.
    """

    __slots__ = ("base", "origin", "directory", "encoding")

    def __init__(self, base: str, encoding: str) -> None:
        self.base = base
        self.encoding = encoding
        self.origin = self.directory = base
        try:
            parts = urlsplit(base)
        except ValueError:
            return
        if parts.scheme in ("http", "https") and parts.netloc:
            prefix = f"{parts.scheme}://{parts.netloc}"
            self.origin = prefix + "/"
            self.directory = prefix + parts.path[: parts.path.rfind("/") + 1]

    def _key(self, value: str) -> str:
        """The shortest base against which ``value`` resolves exactly as against ``base``."""
        if "\t" in value or "\n" in value or "\r" in value:  # urlsplit drops these
            return self.base
        first = value[0]
        if first == "/":
            if value[1:2] != "/" or value[2:3] not in ("", "/", "?", "#"):
                return self.origin  # a path, or //host… (an empty host means the base)
            return self.base
        if first in "?#;" or first <= " ":
            return self.base
        colon = value.find(":")
        if (
            colon > 0
            and first.isascii()
            and first.isalpha()
            and all(c in _SCHEME_CHARS for c in value[:colon])
        ):  # has a scheme (as urlsplit sees it)
            if (
                value[colon + 1 : colon + 3] == "//"
                and value[colon + 3 : colon + 4] not in ("", "/", "?", "#")
                and value[:colon].lower() in ("http", "https")
            ):
                return self.origin
            return self.base
        return self.directory

    def resolve(self, value: str) -> str | None:
        """The absolute, normalised target of a (stripped, non-empty) link value."""
        return _resolve(self._key(value), value, self.encoding)


@lru_cache(maxsize=16384)
def _resolve(base: str, value: str, encoding: str) -> str | None:
    try:
        absolute = urljoin(base, value)
    except ValueError:
        return None
    # Through normalize_url's own cache: the spider normalises each page's URL again.
    return normalize_url(absolute, encoding)


#: A start tag that may hold a link, and its attributes, for pages the parser gave up on.
_TAG_RE = re.compile(
    r"<(a|area|img|script|link|iframe|frame|source|video|audio|embed|object)(?=[\s/>])([^>]*)>",
    re.IGNORECASE,
)
_ATTR_RE = re.compile(r"""([^\s"'=<>/]+)\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+)""")
_TAGS_RE = re.compile(r"<[^>]*>")
_ANCHOR_END = re.compile(r"</a\s*>", re.IGNORECASE)


def _parse_failure(parser: etree.HTMLParser) -> str:
    """Why libxml2 stopped before the end of the document ("" when it did not)."""
    for err in parser.error_log:
        if err.level_name == "FATAL":
            if err.type_name == "ERR_RESOURCE_LIMIT":
                return "depth"
            return err.type_name.lower() or "fatal"
    return ""


def _scan_links(html: str) -> list[tuple[str, str, str, str | None]]:
    """(tag, attribute, value, rel) of every link attribute, by a plain scan of the HTML."""
    out: list[tuple[str, str, str, str | None]] = []
    for m in _TAG_RE.finditer(html):
        tag = m.group(1).lower()
        attrs = {
            k.lower(): htmllib.unescape(v[1:-1] if v[:1] in "\"'" else v)
            for k, v in _ATTR_RE.findall(m.group(2))
        }
        for attr in _LINK_ATTRS[tag]:
            value = attrs.get(attr)
            if value is None:
                continue
            text = attrs.get("title") or attrs.get("alt") or ""
            if tag == "a":
                end = _ANCHOR_END.search(html, m.end(), m.end() + 2000)
                if end is not None:
                    inner = htmllib.unescape(_TAGS_RE.sub(" ", html[m.end() : end.start()]))
                    text = " ".join(inner.split()) or text
            out.append((tag, value, text, attrs.get("rel")))
    return out


_REFRESH = re.compile(r"^\s*\d*(?:\.\d+)?\s*[;,]\s*url\s*=\s*['\"]?([^'\"\s]+)", re.I)


def _refresh_target(meta: dict[str, str]) -> str:
    """The URL a ``<meta http-equiv="refresh">`` sends the visitor to ('' if none)."""
    for name, content in meta.items():
        if name.lower() == "refresh":
            m = _REFRESH.match(content)
            return m.group(1) if m else ""
    return ""


def parse_html(
    html: str, url: str, encoding: str = "utf-8", max_links: int | None = None
) -> ParsedPage:
    """Parse ``html`` (already decoded) fetched from ``url``; keep at most ``max_links``."""
    html = _XML_DECL.sub("", html, count=1)
    empty = ParsedPage("", [], {}, "", 0, "", 0, "", False)
    if not html.strip():
        return empty
    # huge_tree: libxml2's nesting limit is 2048 instead of 256 (broken pages with
    # unclosed tags nest deep); a deeper page is parsed in part, and scanned for links.
    parser = lxml.html.HTMLParser(huge_tree=True)
    try:
        root = lxml.html.document_fromstring(html, parser=parser)
    except (etree.ParserError, ValueError):
        return empty
    partial = _parse_failure(parser)
    base = url
    for b in root.iter("base"):
        href = (b.get("href") or "").strip()
        if href:
            base = urljoin(url, href)
            break
    title_el = root.find(".//title")
    title = _WS.sub(" ", title_el.text_content()).strip() if title_el is not None else ""
    meta: dict[str, str] = {}
    for m in root.iter("meta"):
        name = (m.get("name") or m.get("http-equiv") or m.get("property") or "").strip()
        if name and m.get("content") is not None:
            meta.setdefault(name, m.get("content", "").strip())
    h1_el = root.find(".//h1")
    h1 = _text(h1_el) if h1_el is not None else ""

    resolver = _Resolver(base, encoding)
    links: list[RawLink] = []
    seen: set[tuple[str, str]] = set()
    scripts = 0
    cap = max_links if max_links is not None else -1
    over = 0
    for el in root.iter(*_LINK_ATTRS.keys()):
        tag = el.tag
        if not isinstance(tag, str):
            continue
        if tag == "script":
            scripts += 1
        if tag == "link":
            rel = set((el.get("rel") or "").lower().split())
            if rel & _SKIP_LINK_REL and "stylesheet" not in rel and "icon" not in rel:
                continue
        for attr in _LINK_ATTRS[tag]:
            raw = el.get(attr)
            if raw is None:
                continue
            value = raw.strip()
            if not value or value.startswith("#"):
                continue
            if value.lower().startswith(SKIPPED_SCHEMES):
                continue
            if len(links) == cap:
                over += 1
                continue
            target = resolver.resolve(value)
            if target is None:
                continue
            if tag in ("a", "area"):
                text = _text(el) if tag == "a" else ""
                if not text:
                    img = el.find(".//img") if tag == "a" else None
                    text = (
                        el.get("title")
                        or el.get("alt")
                        or (img.get("alt") if img is not None else "")
                        or ""
                    ).strip()
            else:
                text = (el.get("alt") or el.get("title") or "").strip()
            key = (target, tag)
            if key in seen:  # the same target with the same tag twice on one page
                continue
            seen.add(key)
            links.append(RawLink(target, tag, text[:200], raw[:500]))
    refresh = _refresh_target(meta)
    if refresh:  # <meta http-equiv="refresh" content="0;url=…">: a redirect written in HTML
        target = resolver.resolve(refresh)
        if target is not None and (target, "meta") not in seen and len(links) != cap:
            seen.add((target, "meta"))
            links.append(RawLink(target, "meta", "", refresh[:500]))
    if partial:
        # The tree ends where libxml2 stopped: find the links in the rest of the page.
        for tag, raw, text, rel_attr in _scan_links(html):
            if tag == "link":
                rel = set((rel_attr or "").lower().split())
                if rel & _SKIP_LINK_REL and "stylesheet" not in rel and "icon" not in rel:
                    continue
            value = raw.strip()
            if not value or value.startswith("#") or value.lower().startswith(SKIPPED_SCHEMES):
                continue
            if len(links) == cap:
                over += 1
                continue
            target = resolver.resolve(value)
            if target is None or (target, tag) in seen:
                continue
            seen.add((target, tag))
            links.append(RawLink(target, tag, text[:200], raw[:500]))

    body = root.find("body")
    noscript = " ".join(_text(n) for n in root.iter("noscript"))[:200]
    # Elements that inline scripts fill in (getElementById('x') / querySelector('#x')):
    # if one of them is empty, the page's content is built by scripts.
    script_ids: set[str] = set()
    for sc in root.iter("script"):
        if sc.text and not sc.get("src"):
            script_ids.update(_SCRIPT_ID_RE.findall(sc.text))
    for bad in root.iter("script", "style", "noscript", "template"):
        bad.text = None
    visible = _text(body) if body is not None else ""
    empty_app = False
    for ident in script_ids:
        el = root.get_element_by_id(ident, None)
        if el is not None and len(el) == 0 and not (el.text or "").strip():
            empty_app = True
            break
    for el in root.iter("div", "main", "section"):
        if (el.get("id") or "").lower() in ("app", "root", "__next", "__nuxt", "main-app") and (
            len(el) == 0 and not (el.text or "").strip()
        ):
            empty_app = True
            break
    return ParsedPage(
        title=title,
        links=links,
        meta=meta,
        h1=h1,
        text_len=len(visible),
        short_text=visible[:400],
        scripts=scripts,
        noscript=noscript,
        empty_app=empty_app,
        partial=partial,
        links_over=over,
    )
