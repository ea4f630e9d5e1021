"""Is a list on this page built by scripts? One criterion for the crawler and the audits.

A list is script-built when its container is EMPTY in the HTML and a script fills it: an
empty element whose id/class an inline script writes into, an empty list element right
before an inline script holding the rows as data, ``document.write`` of list rows in a
loop, or an avalon/Angular/Vue row template with no rendered rows around it. Any other
inline script (a site-wide ``var SiteInfo = {…}``, share buttons, statistics) is not. This
module knows HTML only: nothing of zones, rules or the crawler.
"""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

_SPACE = re.compile(r"\s+")
# a script that writes markup into the document (not just reads it)
_WRITES = re.compile(
    r"\.innerHTML\s*[+]?=|\.outerHTML\s*=|insertAdjacentHTML|appendChild|\.append\s*\(|"
    r"\.prepend\s*\(|\.html\s*\(\s*[^)\s]|\.after\s*\(|\.before\s*\(|\.render\s*\(|laytpl|"
    r"template\s*\(|new\s+Vue\s*\(|createApp\s*\(",
    re.I,
)
# the container the script writes into: #id / getElementById('id') / .class / el: '#id'
_TARGETS = re.compile(
    r"getElementById\(\s*['\"]([\w\-:.]+)['\"]\s*\)"
    r"|(?:\$|jQuery|querySelector(?:All)?)\(\s*['\"]([#.][\w\-]+)[^'\"]*['\"]\s*\)"
    r"|getElementsByClassName\(\s*['\"]([\w\-]+)['\"]\s*\)"
    r"|\bel\s*:\s*['\"]([#.][\w\-]+)['\"]"
    r"|\belem\s*:\s*['\"]([#.][\w\-]+)['\"]",
)
# … and what it writes is list rows or links (or goes through a template engine)
_ROWS = re.compile(
    r"<(?:li|tr|dd|a)[\s>]|createElement\(\s*['\"](?:li|a|tr|dd)['\"]\s*\)|laytpl|"
    r"template\s*\(|\.render\s*\(|new\s+Vue\s*\(|createApp\s*\(",
    re.I,
)
_CONTAINERS = {"ul", "ol", "dl", "table", "tbody", "div", "section", "article", "span", "p", "td"}
_LISTS = {"ul", "ol", "dl", "table", "tbody"}
_DATA_ROWS = re.compile(r"=\s*\[\s*[\[{]")
_DOC_WRITE_ROWS = re.compile(
    r"document\.write(?:ln)?\s*\([^;]{0,600}?<(?:li|tr|dd|dl|a)[\s>]", re.I | re.S
)
_LOOP = re.compile(r"\bfor\s*\(|\.each\s*\(|forEach\s*\(|\bwhile\s*\(|\.map\s*\(", re.I)
_TEMPLATE_ATTRS = (
    "ms-for",
    "ms-repeat",
    "ms-each",
    "ng-repeat",
    "data-ng-repeat",
    "v-for",
    "x-for",
)
_TEMPLATES = etree.XPath("//*[" + " or ".join(f"@{a}" for a in _TEMPLATE_ATTRS) + "]")
_TEMPLATED_HREF = ("ms-attr-href", "ms-href", "ng-href", ":href", "v-bind:href", "x-bind:href")
_DATE = re.compile(r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}")
_LOADING = re.compile(r"^(?:加载中|正在加载|数据加载中|loading)[.。…]*$", re.I)


def compact(text: str | None) -> str:
    return _SPACE.sub("", (text or "").replace("\xa0", "").replace("\u3000", ""))


_TEXT = etree.XPath(
    ".//text()[not(ancestor::script or ancestor::style or ancestor::noscript or ancestor::template)]"
)


def _visible_text(el: etree._Element) -> str:
    return compact("".join(_TEXT(el)))


def _real_links(el: etree._Element) -> int:
    n = 0
    for a in el.iter("a"):
        href = (a.get("href") or "").strip()
        if href and not href.startswith(("javascript:", "#")) and "{{" not in href:
            n += 1
    return n


def _empty(el: etree._Element) -> bool:
    """No rows in the HTML: no real link and at most a loading message."""
    if _real_links(el):
        return False
    text = _visible_text(el)
    return len(text) <= 12 or bool(_LOADING.match(text))


def _is_row_template(el: etree._Element) -> bool:
    """A template row that links to documents (templated href), not a filter control."""
    for node in el.iter():
        if not isinstance(node.tag, str):
            continue
        if any(node.get(a) for a in _TEMPLATED_HREF):
            return True
        if node.tag.lower() == "a" and "{{" in (node.get("href") or ""):
            return True
    return False


def _rendered_around(el: etree._Element, levels: int = 3) -> bool:
    """Rows with dates or real links next to a template (a static copy of the list)."""
    node = el.getparent()
    for _ in range(levels):
        if node is None or node.tag in ("body", "html"):
            return False
        text = _visible_text(node)
        if len(_DATE.findall(text)) >= 2:
            return True
        node = node.getparent()
    return False


def script_list_containers(root: etree._Element) -> list[etree._Element]:
    """The page's list containers that are empty in the HTML and filled by a script.

    The result is in document order, each container once; empty when every list on the
    page is in the HTML (whatever else the inline scripts do).
    """
    out: list[etree._Element] = []

    def add(el: etree._Element | None) -> None:
        if el is not None and el not in out:
            out.append(el)

    ids: dict[str, etree._Element] = {}
    classes: dict[str, list[etree._Element]] = {}

    def index() -> None:
        if ids or classes:
            return
        for el in root.iter():
            if not isinstance(el.tag, str):
                continue
            if el.get("id"):
                ids.setdefault(el.get("id"), el)
            for c in (el.get("class") or "").split():
                classes.setdefault(c, []).append(el)

    for script in root.iter("script"):
        if script.get("src"):
            continue
        body = script.text or ""
        if not body.strip():
            continue
        if _WRITES.search(body) and _ROWS.search(body):
            index()
            for m in _TARGETS.finditer(body):
                name = next(g for g in m.groups() if g)
                if name.startswith("#"):
                    targets = [ids[name[1:]]] if name[1:] in ids else []
                elif name.startswith("."):
                    targets = classes.get(name[1:], [])
                elif m.group(3):
                    targets = classes.get(name, [])
                else:
                    targets = [ids[name]] if name in ids else []
                for t in targets:
                    if t.tag in _CONTAINERS and _empty(t):
                        add(t)
        if _DATA_ROWS.search(body):
            # list data right after an empty list element: rendered by a (possibly
            # external) script — ``<ul id="ft"></ul><script>var items=[{…}]</script>``
            prev = script.getprevious()
            for _ in range(2):
                if prev is None:
                    break
                if isinstance(prev.tag, str) and prev.tag in _LISTS and _empty(prev):
                    add(prev)
                    break
                prev = prev.getprevious()
        if _DOC_WRITE_ROWS.search(body) and _LOOP.search(body):
            parent = script.getparent()
            if parent is not None and _empty(parent):
                add(parent)
    for el in _TEMPLATES(root):
        if any(anc.get(a) is not None for anc in el.iterancestors() for a in _TEMPLATE_ATTRS):
            continue  # the outer template decides
        if _is_row_template(el) and _empty(el) and not _rendered_around(el):
            add(el.getparent())
    return out


_SCRIPT_TAG = re.compile(r"<script(?![^>]*\bsrc\s*=)[^>]*>\s*\S", re.I)
_TEMPLATE_HINT = re.compile(r"\b(?:ms-for|ms-repeat|ms-each|ng-repeat|v-for|x-for)\s*=", re.I)


_ARTICLE_META = re.compile(r"<meta[^>]+name\s*=\s*['\"]?(?:ArticleTitle|PubDate)\b", re.I)


def has_script_list(html: str, articles: bool = True) -> bool:
    """Does this HTML page have a list that only scripts fill (so Chromium must render it)?

    With ``articles=False`` a page that says it is an article (``ArticleTitle``/``PubDate``
    meta) is not looked at: its own content is in the HTML, a script-built "related
    documents" box beside it is no column list.
    """
    head = html[:3_000_000]
    if not articles and _ARTICLE_META.search(head[:20000]):
        return False
    if not _SCRIPT_TAG.search(head) and not _TEMPLATE_HINT.search(head):
        return False
    head = re.sub(r"^\s*<\?xml[^>]*\?>", "", head)
    try:
        root = lxml.html.fromstring(head)
    except (etree.ParserError, ValueError):
        return False
    return bool(script_list_containers(root))
