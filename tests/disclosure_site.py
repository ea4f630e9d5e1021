"""Small bureau sites as stored snapshots, for the columns/disclosure/identity tests.

``build_run(tmp_path, pages)`` writes the pages (path → HTML) into a real SQLite store
as one crawl run, with the links found in them, and returns (store, run_id). Tests then
call ``audits.runner.run_audits`` with a fixed ``today``.
"""

from __future__ import annotations

import re
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

from audits.runner import AuditResult, run_audits
from core.config import config_from_dict
from core.snapshot import Link, Page
from reports.store import Store

HOST = "http://www.lyzrzy.gov.cn"
HOME = HOST + "/"
TODAY = date(2026, 11, 26)

_HREF = re.compile(r"""<a\b[^>]*href=["']([^"'#]+)["'][^>]*>(.*?)</a>""", re.S | re.I)
_TAGS = re.compile(r"<[^>]+>")


def ago(days: int) -> str:
    return (TODAY - timedelta(days=days)).isoformat()


_STORES: dict[str, Store] = {}


def shared_store() -> Store:
    """One SQLite store for the whole test session; every test adds its own run."""
    if "store" not in _STORES:
        _STORES["store"] = Store.in_dir(tempfile.mkdtemp(prefix="govaudit-disclosure-"))
    return _STORES["store"]


def build_run(tmp_path: Path | None, pages: dict[str, str | tuple[int, str]]) -> tuple[Store, int]:
    store = Store.in_dir(tmp_path / "data") if tmp_path is not None else shared_store()
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
    store, run_id = build_run(None, pages)
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


CONSULT = "《临沂市国土空间规划条例（征求意见稿）》"
GUIDE_TEXT = "本指南根据《中华人民共和国政府信息公开条例》编制。" * 10


def good_site() -> dict[str, str]:
    home_body = (
        "<div class='box'><h3>新闻动态</h3><ul>"
        + "".join(
            f"<li><a href='/xwdt/{i}.html'>局领导调研国土空间规划工作{i}</a><span>[{ago(i)[5:]}]</span></li>"
            for i in (1, 3)
        )
        + "</ul><a href='/xwdt/'>更多</a></div>"
    )
    pages: dict[str, str] = {
        "/": layout("临沂市自然资源和规划局", home_body),
        "/xwdt/": column_list(
            "新闻动态",
            [(f"/xwdt/{i}.html", f"局领导调研国土空间规划工作{i}", ago(i)) for i in (1, 3)],
            extra="<div class='page'><a href='/xwdt/index_1.html'>下一页</a></div>",
        ),
        "/xwdt/index_1.html": column_list(
            "新闻动态", [("/xwdt/9.html", "市局召开耕地保护专题会议", ago(9))]
        ),
        "/tzgg/": column_list(
            "通知公告", [("/tzgg/1.html", "关于不动产登记窗口调整的公告", ago(40))]
        ),
        "/zwgk/": layout(
            "政府信息公开",
            "<div class='left'><ul>"
            "<li><a href='/zwgk/zn/'>政府信息公开指南</a></li>"
            "<li><a href='/zwgk/zd/'>政府信息公开制度</a></li>"
            "<li><a href='/zwgk/fdzdgknr/'>法定主动公开内容</a></li>"
            "<li><a href='/zwgk/nb/'>政府信息公开年报</a></li>"
            "<li><a href='/zwgk/zdly/'>重点领域信息公开</a></li>"
            "<li><a href='/zwgk/gzcy/'>公众参与</a></li>"
            "<li><a href='/zwgk/jyta/'>建议提案办理</a></li>"
            "<li><a href='/zwgk/hygk/'>会议公开</a></li>"
            "<li><a href='/zwgk/yjzj/'>意见征集</a></li>"
            "<li><a href='/zwgk/czyjs/'>财政预决算</a></li>"
            "<li><a href='/zcwj/'>政策文件</a></li>"
            "</ul></div>",
            meta='<meta name="ColumnName" content="政府信息公开">',
            crumbs="政府信息公开",
        ),
        "/zwgk/zn/": article(
            "政府信息公开指南",
            None,
            f"<p>{GUIDE_TEXT}</p><p>更新日期：二〇二六年十月九日</p>",
            "政府信息公开指南",
        ),
        "/zwgk/zd/": column_list(
            "政府信息公开制度", [("/zwgk/zd/1.html", "政府信息公开工作制度", "2024-05-06")]
        ),
        "/zwgk/fdzdgknr/": column_list(
            "法定主动公开内容", [("/zwgk/fdzdgknr/1.html", "机构职能介绍", ago(20))]
        ),
        "/zwgk/nb/": column_list(
            "政府信息公开年报",
            [("/zwgk/nb/2025.html", "2025年政府信息公开工作年度报告", "2026-01-20")],
        ),
        "/zwgk/zdly/": column_list(
            "重点领域信息公开", [("/zwgk/zdly/1.html", "建设项目用地批准信息", ago(5))]
        ),
        "/zwgk/gzcy/": column_list(
            "公众参与", [("/zwgk/gzcy/1.html", "政府开放日活动公告", ago(30))]
        ),
        "/zwgk/jyta/": column_list(
            "建议提案办理", [("/zwgk/jyta/1.html", "对市政协提案第12号的答复", ago(100))]
        ),
        "/zwgk/hygk/": column_list(
            "会议公开", [("/zwgk/hygk/1.html", "局长办公会议题公开", ago(12))]
        ),
        "/zwgk/yjzj/": column_list(
            "意见征集",
            [
                ("/zwgk/yjzj/2.html", f"{CONSULT}意见采纳情况反馈", "2026-10-20"),
                ("/zwgk/yjzj/1.html", f"关于公开征求{CONSULT}意见的公告", "2026-09-01"),
            ],
        ),
        "/zwgk/yjzj/1.html": article(
            f"关于公开征求{CONSULT}意见的公告",
            "2026-09-01",
            "<p>为广泛听取社会各界意见，现将条例草案公开征求意见。"
            "征求意见时间为2026年9月1日至9月30日。</p>",
            "意见征集",
        ),
        "/zwgk/yjzj/2.html": article(
            f"{CONSULT}意见采纳情况反馈",
            "2026-10-20",
            "<p>共收到意见12条，采纳8条。</p>",
            "意见征集",
        ),
        "/zcwj/": column_list("政策文件", [("/zcwj/1.html", "临沂市不动产登记办法", ago(12))]),
        "/zcwj/1.html": article(
            "临沂市不动产登记办法",
            ago(12),
            "<p>第一条 为规范不动产登记……</p><p>起草单位：确权登记组</p>"
            "<p><a href='/zcjd/1.html'>相关解读</a></p>",
            "政策文件",
        ),
        "/zcjd/1.html": article(
            "《临沂市不动产登记办法》政策解读", ago(10), "<p>一、出台背景……</p>", "政策解读"
        ),
        "/zwgk/czyjs/": column_list(
            "财政预决算", [("/zwgk/czyjs/1.html", "2026年部门预算公开", ago(200))]
        ),
        "/zcjd/": column_list(
            "政策解读", [("/zcjd/1.html", "《临沂市不动产登记办法》政策解读", ago(10))]
        ),
        "/hdjl/": layout(
            "互动交流",
            "<ul class='sub'><li><a href='/hdjl/jzxx/'>局长信箱</a></li></ul>",
            nav=NAV_ITEMS + [("/hdjl/jzxx/", "局长信箱")],
            crumbs="互动交流",
        ),
        "/hdjl/jzxx/": column_list(
            "局长信箱", [("/hdjl/jzxx/1.html", "关于不动产证办理的咨询", ago(2))]
        ),
        "/xwdt/1.html": article("局领导调研国土空间规划工作1", ago(1), "<p>正文</p>", "新闻动态"),
    }
    return pages
