"""Small bureau sites as stored snapshots, for the columns/disclosure/identity tests.

``build_run(tmp_path, pages)`` writes the pages (path → HTML) into a real SQLite store
as one crawl run, with the links found in them, and returns (store, run_id). Tests then
call ``audits.runner.run_audits`` with a fixed ``today``.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

from audits.runner import AuditResult, run_audits
from govaudit.config import config_from_dict
from govaudit.snapshot import Link, Page
from reports.store import Store

HOST = "http://www.lyzrzy.gov.cn"
HOME = HOST + "/"
TODAY = date(2026, 11, 26)

_HREF = re.compile(r"""<a\b[^>]*href=["']([^"'#]+)["'][^>]*>(.*?)</a>""", re.S | re.I)
_TAGS = re.compile(r"<[^>]+>")


def ago(days: int) -> str:
    return (TODAY - timedelta(days=days)).isoformat()


def build_run(tmp_path: Path, pages: dict[str, str | tuple[int, str]]) -> tuple[Store, int]:
    store = Store.in_dir(tmp_path / "data")
    run_id = store.create_run(HOME, {}, [HOME])
    rows, links = [], []
    for depth, (path, body) in enumerate(pages.items()):
        status, html = body if isinstance(body, tuple) else (200, body)
        url = HOST + path
        title = re.search(r"<title>(.*?)</title>", html, re.S)
        rows.append(
            Page(
                url=url,
                final_url=url,
                status_code=status,
                content_type="text/html",
                encoding="utf-8",
                title=title.group(1).strip() if title else "",
                depth=min(depth, 3),
                html=html,
                size=len(html.encode()),
                fetched_at=datetime(2026, 11, 26, 2, 0),
            )
        )
        for href, text in _HREF.findall(html):
            target = href if "://" in href else HOST + href
            links.append(
                Link(url, target, "a", _TAGS.sub("", text).strip(), target.startswith(HOST))
            )
    store.add_pages(run_id, rows)
    store.add_links(run_id, links)
    store.update_run(run_id, pages_crawled=len(rows))
    store.finish_run(run_id, "succeeded")
    return store, run_id


def audit(
    tmp_path: Path,
    pages: dict[str, str | tuple[int, str]],
    plugins: list[str],
    options: dict | None = None,
    today: date = TODAY,
    units_map: list[dict] | None = None,
) -> AuditResult:
    store, run_id = build_run(tmp_path, pages)
    data: dict = {"site": {"urls": [HOME]}, "plugins": dict(options or {})}
    if units_map:
        data["units"] = {"map": units_map}
    config = config_from_dict(data)
    result = run_audits(store, run_id, config, plugins, today=today)
    assert not result.errors, result.errors
    return result


def by_rule(result: AuditResult, rule: str) -> list[dict]:
    return [f for f in result.findings if f["rule"] == rule]


FOOTER = """
<div class="footer">
  <p>主办单位：临沂市自然资源和规划局　联系电话：0539-8012345</p>
  <p>网站标识码：3713000049　<a href="https://beian.miit.gov.cn/">鲁ICP备05012345号-1</a>
     鲁公网安备 37130202000123号</p>
  <p><a href="https://zfwzgl.www.gov.cn/exposure/jiucuo.html"><img alt="我为政府网站找错" src="/jc.png"></a></p>
  <p>Copyright ©2006-2026 版权所有</p>
</div>
"""

NAV_ITEMS = [
    ("/", "首页"),
    ("/xwdt/", "新闻动态"),
    ("/tzgg/", "通知公告"),
    ("/zwgk/", "政府信息公开"),
    ("/zcjd/", "政策解读"),
    ("/hdjl/", "互动交流"),
]


def layout(
    title: str,
    body: str,
    *,
    meta: str = "",
    nav: list[tuple[str, str]] | None = None,
    footer: str = FOOTER,
    crumbs: str = "",
) -> str:
    links = "".join(f'<li><a href="{h}">{t}</a></li>' for h, t in (nav or NAV_ITEMS))
    crumb = f'<div class="position">当前位置：首页 &gt; {crumbs}</div>' if crumbs else ""
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title>
<meta name="SiteName" content="临沂市自然资源和规划局">
<meta name="SiteDomain" content="www.lyzrzy.gov.cn">
<meta name="SiteIDCode" content="3713000049">{meta}</head>
<body><div class="header"><div class="top">今天是2026年11月26日 星期四</div>
<div class="nav"><ul>{links}</ul></div></div>
{crumb}<div class="content">{body}</div>{footer}</body></html>"""


def column_list(name: str, items: list[tuple[str, str, str]], extra: str = "") -> str:
    """A column page; items are (href, title, shown date)."""
    lis = "".join(
        f'<li><a href="{h}" title="{t}">{t}</a><span class="date">{d}</span></li>'
        for h, t, d in items
    )
    return layout(
        name,
        f"<h2>{name}</h2><ul class='list'>{lis}</ul>{extra}",
        meta=f'<meta name="ColumnName" content="{name}"><meta name="ColumnType" content="列表">',
        crumbs=name,
    )


def article(title: str, pub: str | None, body: str, column: str = "") -> str:
    meta = f'<meta name="ArticleTitle" content="{title}">'
    if pub:
        meta += f'<meta name="PubDate" content="{pub} 09:30">'
    if column:
        meta += f'<meta name="ColumnName" content="{column}">'
    return layout(title, f"<h1>{title}</h1>{body}", meta=meta, crumbs=column)
