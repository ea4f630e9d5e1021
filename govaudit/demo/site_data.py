"""The demo bureau's identity and the shapes of its site's data: names, identifiers, host
names, navigation, revisions, the Reply/Ports/Entry/Column types and the working-day
calendar. Knows nothing of page templates, the bureau's articles or the network.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date, timedelta

SITE_NAME = "临川市自然资源和规划局"
SITE_ID = "3610000049"
WRONG_SITE_ID = "3610000012"
ICP = "赣ICP备05012345号-1"
PSB = "赣公网安备 36100202000123号"

WWW = "www.lcnr.gov.cn"
STATIC = "static.lcnr.gov.cn"  # IPv4-only image host (A, no AAAA)
ZWFW = "zwfw.lcnr.gov.cn"  # AAAA ::1 but its server listens on 127.0.0.1 only
MOBILE = "m.lcnr.gov.cn"  # different content over IPv6
GIS = "gis.lcnr.gov.cn"  # resolves, nothing listens on its port (connection refused)
PARTNER = "www.lcs.gov.cn"  # the city government's portal: an external site
INVALID = "www.lcgtj.invalid"  # the old bureau site: DNS failure
CASINO = "www.xpj-yule.example"  # a gambling site: target of the homepage's hidden link
ZONE = "lcnr.gov.cn"
NS1 = "ns1.lcnr.gov.cn"  # A + AAAA, answers on ::1
NS2 = "ns2.lcnr.gov.cn"  # A only → fewer than two name servers with IPv6

NAV = [
    ("首页", "/"),
    ("政府信息公开", "/zwgk/"),
    ("工作动态", "/xwzx/gzdt/"),
    ("基层动态", "/xwzx/jcdt/"),
    ("通知公告", "/tzgg/"),
    ("政策文件", "/zcwj/"),
    ("政策解读", "/zcjd/"),
    ("重点领域信息公开", "/zdly/"),
    ("会议公开", "/hygk/"),
    ("公众参与", "/gzcy/"),
    ("专题专栏", "/ztzl/"),
]


REVISIONS = (1, 2, 3, 4)


@dataclass
class Reply:
    """What the HTTP server sends for one request."""

    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (the server cuts it short on stop)
    hang: bool = False  # never answer (until the server stops)


@dataclass
class Ports:
    www: int  # www, static, m and the partner host share this dual-stack port
    zwfw: int  # IPv4-only server of zwfw.lcnr.gov.cn
    refused: int  # bound on 127.0.0.1 without listen(): connection refused


@dataclass
class Entry:
    title: str
    path: str
    day: date | None
    body: str = ""  # HTML of the article body
    source: str = "临川市自然资源和规划局"
    page_kind: str = "article"


@dataclass
class Column:
    path: str
    name: str
    ctype: str
    fmt: str | None  # date format in the list; None = no dates shown
    entries: list[Entry] = field(default_factory=list)
    parent: str | None = None
    per_page: int = 10
    intro: str = ""
    charset: str = "utf-8"  # "gbk": the list page is GBK bytes, declared correctly


# ---------------------------------------------------------------- dates


def cn_numeral_date(d: date) -> str:
    """二〇二六年十一月二日"""
    digits = "〇一二三四五六七八九"

    def small(n: int) -> str:
        if n < 10:
            return digits[n]
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")

    return "".join(digits[int(c)] for c in str(d.year)) + f"年{small(d.month)}月{small(d.day)}日"


def fmt_date(d: date | None, fmt: str | None) -> str:
    if d is None or fmt is None:
        return ""
    return {
        "iso": f"{d:%Y-%m-%d}",
        "md": f"[{d:%m-%d}]",
        "cn": f"{d.year}年{d.month}月{d.day}日",
        "slash": f"{d.year}/{d.month}/{d.day}",
        "dot": f"{d:%Y.%m.%d}",
    }[fmt]


def is_workday(d: date) -> bool:
    try:
        import chinese_calendar

        return bool(chinese_calendar.is_workday(d))
    except (ImportError, NotImplementedError):
        return d.weekday() < 5


def plain_monday(before: date) -> date:
    """A Monday on or before ``before`` whose next three weeks hold no holiday or swapped
    working day, so every working-day calendar (official or Mon–Fri) agrees on them."""
    d = before - timedelta(days=before.weekday())
    for _ in range(60):
        if all(
            is_workday(d + timedelta(i)) == ((d + timedelta(i)).weekday() < 5) for i in range(21)
        ):
            return d
        d -= timedelta(days=7)
    return d


def add_workdays(d: date, n: int) -> date:
    while n:
        d += timedelta(days=1)
        if is_workday(d):
            n -= 1
    return d


def _e(text: str) -> str:
    return html.escape(text, quote=True)
