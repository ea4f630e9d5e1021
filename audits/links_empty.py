"""Links that go nowhere: ``href=""``, ``href="#"``, ``javascript:void(0)`` on text that
promises a destination (更多, 详情, 下载, a document title in a list …).

Read from the page HTML (the crawler drops such hrefs). Script-driven controls — tab
switches, menu labels with a submenu, share buttons, anything with a click handler, an
ARIA role or a bound href — are not destinations and are left alone. Knows no rules or
findings: ``empty_links(html)`` returns what it saw, the links plugin reports it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import lxml.html
from lxml import etree

#: Link text that promises a destination, compared without spaces and arrows.
DESTINATION_WORDS = (
    "更多",
    "查看更多",
    "更多信息",
    "更多内容",
    "详情",
    "查看详情",
    "详细",
    "详细信息",
    "详细内容",
    "点击查看",
    "查看",
    "阅读全文",
    "全文",
    "查看全文",
    "查看原文",
    "原文",
    "原文链接",
    "下载",
    "点击下载",
    "附件下载",
    "下载附件",
    "文件下载",
    "进入",
    "点击进入",
    "进入专题",
    "进入专栏",
    "more",
)
_EMPTY_HREF = re.compile(
    r"^(?:#*|javascript:\s*(?:;|void\s*\(?\s*0?\s*\)?\s*;?|false;?|return\s+false;?|undefined;?)?\s*)$",
    re.I,
)
# a quick look before parsing: an <a> whose href is empty, # or javascript:
_CANDIDATE = re.compile(r"""<a\b[^>]*?\bhref\s*=\s*(?:""|''|["']?(?:#|javascript:))""", re.I)
_NOT_TEXT = re.compile(r"[\s\u3000\xa0>»›》〉→＞<«‹《〈←＜.…。·:：\-—+＋\[\]【】()（）]+")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_FILE = re.compile(r"\.(?:pdf|docx?|xlsx?|wps|ofd|zip|rar|7z|txt|pptx?|et)$", re.I)
_DATE = re.compile(r"(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}|\d{1,2}\s*[-/月]\s*\d{1,2}\s*日?")
_NOT_A_DESTINATION = re.compile(
    r"^(?:分享|打印|关闭|收藏|返回|切换|退出|登录|注册|无障碍|长者|关怀|按回车|字号|字体|放大|缩小|"
    r"简体|繁体|搜索|扫一扫|微信|微博)"
)
_CURRENT = {"on", "cur", "current", "active", "selected", "curr", "hover", "sel", "this", "now"}
_TOKEN = re.compile(r"[\s_\-]+")
_ROLES = {"tab", "button", "menuitem", "switch", "treeitem", "option"}
_ITEM_TAGS = ("li", "tr", "dd", "dt")
_SCRIPT_ID = re.compile(
    r"""(?:getElementById\(\s*['"]|querySelector(?:All)?\(\s*['"][#.]|\$\(\s*['"][#.]|"""
    r"""jQuery\(\s*['"][#.])([A-Za-z][\w\-]*)"""
)


@dataclass(frozen=True)
class EmptyLink:
    text: str
    href: str
    why: str  # "words" (更多/详情 …), "file" (an attachment name) or "title" (a list item)


def _compact(text: str) -> str:
    return _NOT_TEXT.sub("", text or "")


def _destination(text: str, title: str) -> str:
    """Why the link text promises a destination ("" when it does not)."""
    words = _compact(text) or _compact(title)
    if not words:
        return ""
    if words.lower() in DESTINATION_WORDS:
        return "words"
    if _NOT_A_DESTINATION.match(words):
        return ""
    if _FILE.search(text.strip()):
        return "file"
    if len(_CJK.findall(words)) >= 6:
        return "title"
    return ""


def _handled(a: etree._Element, bound_names: set[str]) -> bool:
    """Script-driven: a click handler, an ARIA control, a bound href, a script hook."""
    for name, value in a.attrib.items():
        name = name.lower()
        if name.startswith("on") or "click" in name or name == "data-cmd":
            return True
        if name in ("aria-controls", "aria-haspopup", "aria-expanded", "data-target"):
            return True
        if "toggle" in name or ("href" in name and name != "href"):
            return True  # data-toggle, data-bs-toggle, ms-attr-href, :href, ng-href …
        if name == "role" and value.strip().lower() in _ROLES:
            return True
    if a.get("id") and a.get("id") in bound_names:
        return True
    classes = {c for c in (a.get("class") or "").split() if c}
    return bool(classes & bound_names)


def _in_tab_or_menu(a: etree._Element) -> bool:
    """A tab strip, a menu label whose item holds a submenu, a hidden or current item."""
    depth = 0
    node = a.getparent()
    while node is not None and depth < 6:
        if not isinstance(node.tag, str):
            break
        role = (node.get("role") or "").lower()
        if role in ("tablist", "menubar", "menu", "tab"):
            return True
        if node.tag in ("li", "dd", "dt"):
            # a label whose item holds a submenu (nested list or other links)
            if any(True for _ in node.iter("ul", "ol", "dl")) or len(list(node.iter("a"))) > 1:
                return True
            break
        depth += 1
        node = node.getparent()
    return False


def _current_or_hidden(a: etree._Element) -> bool:
    node: etree._Element | None = a
    for _ in range(4):
        if node is None or not isinstance(node.tag, str):
            break
        style = (node.get("style") or "").replace(" ", "").lower()
        if "display:none" in style or "visibility:hidden" in style:
            return True
        if node.get("aria-current") or node.get("hidden") is not None:
            return True
        tokens = {t for t in _TOKEN.split((node.get("class") or "").lower()) if t}
        if tokens & _CURRENT:
            return True
        node = node.getparent()
    return False


def _list_item(a: etree._Element) -> bool:
    """The link is one row of a list of real links (or a dated row): a document title."""
    row = a.getparent()
    for _ in range(3):
        if row is None or not isinstance(row.tag, str) or row.tag in _ITEM_TAGS:
            break
        row = row.getparent()
    if row is None or not isinstance(row.tag, str) or row.tag not in _ITEM_TAGS:
        return False
    if _DATE.search(row.text_content() or ""):
        return True
    parent = row.getparent()
    if parent is None:
        return False
    real = 0
    for sibling in parent:
        if sibling is row or not isinstance(sibling.tag, str):
            continue
        for link in sibling.iter("a"):
            if not _EMPTY_HREF.match((link.get("href") or "#").strip()):
                real += 1
                break
    return real >= 2


def empty_links(html: str, limit: int = 20) -> tuple[list[EmptyLink], int]:
    """Links on the page whose text promises a destination and whose href goes nowhere.

    Returns at most ``limit`` of them and how many there are in all.
    """
    if not html or not _CANDIDATE.search(html):
        return [], 0
    try:
        root = lxml.html.fromstring(re.sub(r"^\s*<\?xml[^>]*\?>", "", html))
    except (etree.ParserError, ValueError):
        return [], 0
    bound: set[str] | None = None
    found: list[EmptyLink] = []
    total = 0
    for a in root.iter("a"):
        href = a.get("href")
        if href is None or not _EMPTY_HREF.match(href.strip()):
            continue
        text = " ".join((a.text_content() or "").split())
        if "{{" in text or "}}" in text:
            continue  # a template, filled by script
        why = _destination(text, a.get("title") or "")
        if not why:
            continue
        if bound is None:
            scripts = " ".join(s.text or "" for s in root.iter("script"))
            bound = set(_SCRIPT_ID.findall(scripts))
        if _handled(a, bound) or _in_tab_or_menu(a) or _current_or_hidden(a):
            continue
        if why == "title" and not _list_item(a):
            continue
        total += 1
        if len(found) < limit:
            found.append(EmptyLink(text or (a.get("title") or "").strip(), href.strip(), why))
    return found, total
