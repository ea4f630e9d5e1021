"""The zones of one HTML page (navigation, header, footer, breadcrumb, pager, main), from structure.

Zones come from landmarks and ARIA roles, from the shape of a block (link density and
label length for navigation, dated rows for content lists, a short ``首页 > … `` chain for
a breadcrumb, page numbers for a pager, identity lines at the end for a footer) and,
when a sample of the site's pages is at hand, from repetition: a block whose links recur
on most pages is site chrome. Class names are at most a weak hint that structure must
confirm; utility classes (``text_align_left``, ``weizhi``, ``current_title`` …) decide
nothing. Knows HTML only, nothing of rules or plugins.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urljoin

from lxml import etree

NAV, HEADER, FOOTER, CRUMB, PAGER, MAIN = "nav", "header", "footer", "crumb", "pager", "main"

SKIP_TAGS = {"script", "style", "noscript", "template", "head", "select", "option", "textarea"}
_SPACE = re.compile(r"\s+")
_TOKEN_SPLIT = re.compile(r"[\s_\-]+")
# weak hints only: semantic words, never layout utilities (left, side, top, current, wz …)
_HINTS = {
    "nav": NAV,
    "navbar": NAV,
    "menu": NAV,
    "mainnav": NAV,
    "subnav": NAV,
    "sidenav": NAV,
    "leftnav": NAV,
    "daohang": NAV,
    "header": HEADER,
    "banner": HEADER,
    "footer": FOOTER,
    "foot": FOOTER,
    "copyright": FOOTER,
    "banquan": FOOTER,
    "breadcrumb": CRUMB,
    "breadcrumbs": CRUMB,
    "crumb": CRUMB,
    "crumbs": CRUMB,
}
_ROLES = {
    "navigation": NAV,
    "banner": HEADER,
    "contentinfo": FOOTER,
    "main": MAIN,
    "complementary": NAV,
}
_SECTIONING = {"article", "section", "main", "aside", "nav"}
_DATE = re.compile(
    r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}|(?<![\d.:-])[01]?\d-[0-3]\d(?![\d:-])"
)
_IDENTITY = re.compile(
    r"版权所有|主办单位|主办[:：]|承办单位|ICP备|ICP证|公网安备|公安备案|网站标识码|技术支持|Copyright|©",
    re.I,
)
EMPTY_MARKERS = (
    "暂无信息",
    "暂无数据",
    "暂无内容",
    "暂无记录",
    "没有记录",
    "正在建设",
    "建设中",
    "无相关信息",
)
_EMPTY = re.compile("|".join(EMPTY_MARKERS))
_CRUMB_PREFIX = re.compile(
    r"^.{0,6}?(?:当前位置|当前的位置|您现在的位置|你现在的位置|您的位置|你的位置|现在位置|所在位置|"
    r"您当前的位置|您当前位置|位置)\s*[:：]?\s*"
)
_CRUMB_SEP = re.compile(r"\s*(?:>>|>|＞|»|›|→|/|\\|－|—|\x1f)\s*")
_HOME = {"首页", "网站首页", "主页", "返回首页", "门户首页", "本站首页", "home", "Home"}
_PAGER_WORD = re.compile(
    r"首页|尾页|末页|上一页|下一页|上页|下页|前页|后页|最后一页|第\d+页|共\d+(?:页|条|篇|记录)|"
    r"当前第?\d+/?\d*页?|每页\d+条|\d+/\d+|跳转到?|转到|跳至|到第|GO|go|确定|\d+|页|条|[<>«»‹›…,，:：/|()（）\[\]]",
)
_PAGER_KEY = re.compile(r"下一页|上一页|下页|上页|尾页|末页|第\d+页|共\d+页")


def compact(text: str | None) -> str:
    """Text with every whitespace removed."""
    return _SPACE.sub("", (text or "").replace("\xa0", "").replace("\u3000", ""))


@dataclass(slots=True)
class _Stats:
    text: int = 0  # visible characters, whitespace removed
    link_text: int = 0  # of which inside <a>
    links: int = 0
    short_links: int = 0  # links whose text is a label (≤ 10 characters)
    dates: int = 0  # date-like strings
    identity: int = 0  # footer identity lines (主办单位, ICP备 …)
    headings: int = 0
    marks: int = 0  # empty-state markers (暂无信息 …): the place of a page's content
    long_run: int = 0  # longest text piece outside links
    start: int = 0  # offset of the first character in the page's visible text
    end: int = 0
    small: str | None = None  # the visible text, whitespace removed, when ≤ _SMALL characters


_SMALL = 200


def _tag(el: etree._Element) -> str:
    return el.tag.lower() if isinstance(el.tag, str) else ""


def _stats(root: etree._Element) -> dict[etree._Element, _Stats]:
    """Per element: text, link text, links, dates … of its subtree, with document offsets."""
    out: dict[etree._Element, _Stats] = {}
    pieces: dict[etree._Element, list[str] | None] = {}
    offset = 0
    stack: list[tuple[bool, etree._Element, bool]] = [(False, root, False)]
    while stack:
        done, el, in_link = stack.pop()
        parent = el.getparent()
        p = out.get(parent) if parent is not None else None
        if done:
            s = out[el]
            s.end = offset
            mine = pieces.pop(el)
            if mine is not None and s.text <= _SMALL:
                s.small = "".join(mine)
            if p is not None:
                p.text += s.text
                p.link_text += s.link_text
                p.links += s.links
                p.short_links += s.short_links
                p.dates += s.dates
                p.identity += s.identity
                p.marks += s.marks
                p.headings += s.headings
                if s.long_run > p.long_run:
                    p.long_run = s.long_run
                theirs = pieces[parent]
                if theirs is not None:
                    if s.small is None:
                        pieces[parent] = None
                    else:
                        theirs.append(s.small)
                if el.tail:
                    offset = _add_text(p, el.tail, in_link, offset, pieces, parent)
            continue
        tag = _tag(el)
        if not tag or tag in SKIP_TAGS:
            if el.tail and p is not None:
                offset = _add_text(p, el.tail, in_link, offset, pieces, parent)
            continue
        s = out[el] = _Stats(start=offset)
        pieces[el] = []
        is_link = tag == "a" and el.get("href") is not None
        if is_link:
            s.links = 1
            label = compact(el.text_content())
            s.short_links = int(0 < len(label) <= 10 or not label)
        if tag in ("h1", "h2", "h3"):
            s.headings = 1
        stack.append((True, el, in_link))
        if el.text:
            offset = _add_text(s, el.text, in_link or is_link, offset, pieces, el)
        for child in reversed(el):
            stack.append((False, child, in_link or is_link))
    return out


def _add_text(
    s: _Stats,
    text: str,
    in_link: bool,
    offset: int,
    pieces: dict[etree._Element, list[str] | None],
    owner: etree._Element,
) -> int:
    piece = compact(text)
    if not piece:
        return offset
    s.text += len(piece)
    mine = pieces.get(owner)
    if mine is not None:
        if s.text > _SMALL:
            pieces[owner] = None
        else:
            mine.append(piece)
    if in_link:
        s.link_text += len(piece)
    elif len(piece) > s.long_run:
        s.long_run = len(piece)
    if any(c.isdigit() for c in piece):
        s.dates += len(_DATE.findall(piece))
        s.identity += len(_IDENTITY.findall(piece))
    elif len(piece) >= 2:
        s.identity += len(_IDENTITY.findall(piece))
    s.marks += len(_EMPTY.findall(piece))
    return offset + len(piece)


def _hint(el: etree._Element) -> str | None:
    raw = f"{el.get('class') or ''} {el.get('id') or ''}".lower()
    if not raw.strip():
        return None
    for token in _TOKEN_SPLIT.split(raw):
        if token in _HINTS:
            return _HINTS[token]
        if token.startswith("bread"):
            return CRUMB
    return None


def _landmark(el: etree._Element, tag: str) -> str | None:
    role = (el.get("role") or "").strip().lower()
    if role in _ROLES:
        return _ROLES[role]
    if tag == "nav":
        return NAV
    if tag == "main":
        return MAIN
    if tag in ("header", "footer"):
        # a <header>/<footer> inside an article or section belongs to it, not to the page
        if any(_tag(a) in _SECTIONING for a in el.iterancestors()):
            return None
        return HEADER if tag == "header" else FOOTER
    if tag == "aside":
        return NAV
    return None


def crumb_parts(el: etree._Element) -> list[str]:
    """The names of a breadcrumb, home first: link texts and the unlinked last name."""
    pieces: list[str] = []

    def walk(node: etree._Element) -> None:
        tag = _tag(node)
        if tag and tag not in SKIP_TAGS:
            if tag == "a":
                pieces.append("\x1f" + _SPACE.sub(" ", node.text_content()).strip() + "\x1f")
            else:
                if node.text:
                    pieces.append(node.text)
                for child in node:
                    walk(child)
                    if child.tail:
                        pieces.append(child.tail)

    walk(el)
    text = "".join(pieces).replace("\xa0", " ").replace("\u3000", " ").strip()
    text = _CRUMB_PREFIX.sub("", text.lstrip("\x1f").strip())
    return [compact(p) for p in _CRUMB_SEP.split(text) if compact(p)]


def _is_crumb(el: etree._Element, s: _Stats, title: str, hinted: bool) -> bool:
    """A short chain of links (首页 > 栏目 > …) or a short text after 当前位置."""
    if s.links > 9 or s.text > 160 or s.dates > 1 or s.headings or s.text == 0:
        return False
    # cheap screen first (most small blocks are neither): 位置 near the start, or two
    # links of which the first goes home
    text = s.small or ""
    if "位置" not in text[:30] and not hinted:
        if s.links < 2 or not any(text.startswith(h) for h in _HOME):
            return False
    prefix = bool(_CRUMB_PREFIX.match(text[:16])) and "位置" in text[:16]
    if not s.links and not prefix:
        return False
    parts = crumb_parts(el)
    if len(parts) < 2 and not (prefix and parts):
        return False
    if any(len(p) > 30 for p in parts[:-1]) or len(parts[-1]) > 80:
        return False
    links = [compact(a.text_content()) for a in el.iter("a") if a.get("href") is not None]
    if any(len(t) > 30 for t in links):
        return False
    if prefix or hinted:
        return True
    home = parts[0] in _HOME or (bool(links) and links[0] in _HOME)
    if not home or len(links) < 2:
        return False
    seps = len(re.findall(r">|＞|»|›|→|/", text.replace("//", "")))
    return seps >= len(links) - 1 or (bool(title) and parts[-1] in compact(title))


def _is_pager(el: etree._Element, s: _Stats) -> bool:
    if s.links < 1 or s.text > 200 or s.text == 0:
        return False
    text = s.small or ""
    if not _PAGER_KEY.search(text) and sum(c.isdigit() for c in text) < 2:
        return False
    labels = [compact(a.text_content()) for a in el.iter("a") if a.get("href") is not None]
    if not _PAGER_KEY.search(text) and sum(t.isdigit() for t in labels) < 2:
        return False
    paging = [t for t in labels if not t or not _PAGER_WORD.sub("", t)]
    return len(_PAGER_WORD.sub("", text)) <= 2 and len(paging) >= 0.6 * len(labels)


def _link_dense(s: _Stats, min_links: int) -> bool:
    """Mostly link text, the links are short labels, no date: navigation (dated rows are a list)."""
    return (
        s.links >= min_links
        and s.link_text >= 0.6 * s.text
        and s.short_links >= 0.7 * s.links
        and s.dates == 0
    )


def link_signature(el: etree._Element, base: str) -> frozenset[str] | None:
    """The set of link targets of a block (None under three): how chrome is recognised."""
    hrefs = set()
    for a in el.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "#")):
            continue
        try:
            hrefs.add(urljoin(base, href).split("#", 1)[0])
        except ValueError:
            continue
    return frozenset(hrefs) if len(hrefs) >= 3 else None


_BLOCKS = ("div", "ul", "ol", "nav", "header", "footer", "table", "section", "aside", "dl", "p")


@dataclass
class SiteChrome:
    """Blocks that repeat on most pages of a site (header, menus, footer): site chrome.

    Built once per snapshot from a sample of pages (:meth:`from_pages`) and passed to
    ``parse_page``; a block of a page whose link set is one of these is chrome there.
    """

    signatures: frozenset[frozenset[str]] = field(default_factory=frozenset)
    pages: int = 0

    def __contains__(self, signature: object) -> bool:
        return signature in self.signatures

    @classmethod
    def from_roots(
        cls, roots: Iterable[tuple[etree._Element, str]], share: float = 0.6, min_pages: int = 3
    ) -> SiteChrome:
        counts: Counter[frozenset[str]] = Counter()
        n = 0
        for root, base in roots:
            n += 1
            total = link_signature(root, base) or frozenset()
            seen = set()
            for el in root.iter(*_BLOCKS):
                sig = link_signature(el, base)
                # a wrapper holding (nearly) every link of the page is the page, not a block
                if sig is None or sig in seen or len(sig) >= 0.9 * len(total):
                    continue
                seen.add(sig)
                counts[sig] += 1
        if n < min_pages:
            return cls(frozenset(), n)
        need = max(2, int(share * n + 0.999))
        return cls(frozenset(s for s, c in counts.items() if c >= need), n)


def classify(
    root: etree._Element,
    base: str,
    title: str = "",
    chrome: SiteChrome | None = None,
    content: Iterable[etree._Element] = (),
) -> tuple[dict[etree._Element, str], list[etree._Element]]:
    """The zone of every element, and the breadcrumb elements found, top-down.

    ``content`` are elements known to be the page's content (a list container a script
    fills): no block holding one, nor one holding an empty-state marker (暂无信息), is
    navigation, header or footer by its shape alone, however few its own words.
    Within the footer nothing is reclassified; within header and navigation only
    breadcrumbs, pagers, footers and (inside the header) navigation blocks are.
    """
    stats = _stats(root)
    for el in content:
        for anc in (el, *el.iterancestors()):
            if anc in stats:
                stats[anc].marks += 1
    body = next(root.iter("body"), root)
    total = max(1, stats[body].text if body in stats else stats[root].text)
    use_chrome = chrome is not None and bool(chrome.signatures)
    zone_of: dict[etree._Element, str] = {}
    crumbs: list[etree._Element] = []

    def trailing(s: _Stats) -> bool:
        return total - s.end <= max(60, 0.15 * total) and s.start >= 0.2 * total

    def leading(s: _Stats) -> bool:
        return s.start <= 10 + 0.02 * total and s.end <= 0.35 * total

    def footer_like(s: _Stats) -> bool:
        if s.identity < 1 or not trailing(s) or s.dates > 1 or s.text > 0.6 * total:
            return False
        if s.links > 20 and s.text - s.link_text < 0.25 * s.text:
            return False  # mostly links (a site map above the footer): look inside
        if s.headings == 0:
            return s.text - s.link_text <= 600 and s.long_run <= 200
        # headings (友情链接 …) but no article text
        return s.text - s.link_text <= 300 and s.long_run <= 120

    stack: list[tuple[etree._Element, str, int]] = [(root, MAIN, 0)]
    while stack:
        el, zone, depth = stack.pop()
        tag = _tag(el)
        if not tag or tag in SKIP_TAGS:
            continue
        s = stats.get(el)
        own = zone
        if s is not None and zone != FOOTER:
            at_end = trailing(s)
            followed = total - s.end >= 0.1 * total
            own = _decide(
                el, tag, s, zone, base, title, chrome if use_chrome else None, at_end, followed
            )
            if own is None:
                own = zone
                if s.marks:
                    pass  # holds the page's (empty) content
                elif zone in (MAIN, HEADER, NAV) and tag not in ("a", "body", "html"):
                    if footer_like(s):
                        own = FOOTER
                    elif zone == NAV:
                        pass
                    elif _link_dense(s, 3):
                        own = NAV
                    elif zone == MAIN and depth <= 4 and leading(s) and _header_like(s, total):
                        own = HEADER
        if own == CRUMB and zone != CRUMB:
            crumbs.append(el)
        zone_of[el] = own
        below_body = depth + 1 if tag not in ("html",) else 0
        for child in reversed(el):
            stack.append((child, own, below_body))
    body_stats = stats.get(body)
    if not (body_stats and body_stats.marks) and _main_chars(zone_of) < 50:
        _index_is_content(zone_of, base, chrome if use_chrome else None)
    return zone_of, crumbs


def _main_chars(zone_of: dict[etree._Element, str]) -> int:
    n = 0
    for el, zone in zone_of.items():
        if zone == MAIN and _tag(el) not in SKIP_TAGS:
            n += len(compact(el.text)) + sum(len(compact(c.tail)) for c in el)
    return n


def _index_is_content(
    zone_of: dict[etree._Element, str], base: str, chrome: SiteChrome | None
) -> None:
    """A page with no main text whose biggest link list is its content (an index of
    departments, of sub-sites …): that list is main, not navigation. Menus are shorter."""
    best, rows = None, 11
    for el, zone in zone_of.items():
        if zone != NAV or _tag(el) not in ("ul", "ol", "dl", "table", "tbody", "div"):
            continue
        n = sum(1 for c in el if isinstance(c.tag, str) and any(True for _ in c.iter("a")))
        if n > rows:
            if chrome is not None and link_signature(el, base) in chrome:
                continue
            best, rows = el, n
    if best is not None:
        for el in best.iter():
            if zone_of.get(el) == NAV:
                zone_of[el] = MAIN


def _header_like(s: _Stats, total: int) -> bool:
    """A small block at the very top with no content of its own (logo, search, links)."""
    return (
        s.dates <= 1
        and s.long_run < 40
        and s.headings <= 1
        and s.text <= 0.3 * total
        and s.text - s.link_text <= 120
        and s.links >= 1
    )


def _decide(
    el: etree._Element,
    tag: str,
    s: _Stats,
    zone: str,
    base: str,
    title: str,
    chrome: SiteChrome | None,
    at_end: bool,
    followed: bool = True,
) -> str | None:
    """A zone decided by this element itself (landmark, shape, chrome), or None."""
    hint = _hint(el)
    label = (el.get("aria-label") or "").strip()
    if zone != CRUMB and tag not in ("a", "body", "html"):
        if _is_crumb(el, s, title, hint == CRUMB or "位置" in label):
            return CRUMB
    if zone in (CRUMB, PAGER):
        return None
    if tag not in ("a", "body", "html") and _is_pager(el, s):
        return PAGER
    landmark = _landmark(el, tag)
    if zone == NAV:
        return FOOTER if landmark == FOOTER else None
    if landmark is not None:
        if landmark == NAV and tag == "aside" and not _link_dense(s, 1):
            return None  # a sidebar of content, not a menu
        return landmark
    if zone == HEADER:
        return None
    if chrome is not None and tag in _BLOCKS and not s.marks:
        sig = link_signature(el, base)
        if sig is not None and sig in chrome:
            return FOOTER if s.identity else NAV
    if s.marks:
        return None
    if hint == NAV and _link_dense(s, 1):
        return NAV
    # the first block of the page, with the content after it (a mega menu may show news)
    if hint == HEADER and s.start <= 40 and followed and (s.dates <= 1 or s.headings == 0):
        return HEADER
    if (
        hint == FOOTER
        and (s.identity or at_end)
        and s.dates <= 2
        and (s.headings == 0 or s.text - s.link_text <= 300)
    ):
        return FOOTER
    return None
