"""互动交流: a loopback site with 留言 lists in a table layout and a list layout, each over
two pager pages, and a 在线咨询 column behind a login; crawled for real, so the pager pages
are reached the way the crawler reaches them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from core.config import config_from_dict
from tests.disclosure_site import HOME, build_run
from tests.loopback import LoopbackServer

ROOT = Path(__file__).resolve().parent.parent
TODAY = "2026-11-25"


def page(title: str, body: str) -> str:
    return (
        f"<html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body><h1>{title}</h1>{body}</body></html>"
    )


def table(rows: list[tuple[str, str, str, str]], pager: str) -> str:
    head = (
        "<tr><th>序号</th><th>留言标题</th><th>留言时间</th><th>办理状态</th><th>回复时间</th></tr>"
    )
    body = "".join(
        f"<tr><td>{i}</td><td><a href='/hdjl/jzxx/{i}.html'>{t}</a></td><td>{d}</td>"
        f"<td>{s}</td><td>{r}</td></tr>"
        for i, (t, d, s, r) in enumerate(rows, 1)
    )
    return f"<table class='list'>{head}{body}</table><div class='page'>{pager}</div>"


def items(rows: list[tuple[str, str, str, str]], pager: str) -> str:
    lis = "".join(
        f"<li><a href='/hdjl/zxzx/{abs(hash(t)) % 1000}.html'>{t}</a>"
        f"<span>留言时间：{d}</span><span>状态：{s}</span>"
        + (f"<span>回复时间：{r}</span>" if r else "")
        + "</li>"
        for t, d, s, r in rows
    )
    return f"<ul class='msg-list'>{lis}</ul><div class='pager'>{pager}</div>"


SITE = {
    "/": page(
        "临川市自然资源和规划局",
        "<a href='/hdjl/jzxx/index.html'>局长信箱</a> <a href='/hdjl/zxzx/index.html'>在线咨询</a>"
        " <a href='/hdjl/login.html'>网上咨询（需登录）</a>",
    ),
    "/hdjl/jzxx/index.html": page(
        "局长信箱",
        table(
            [
                ("关于不动产登记办理时限的咨询", "2026-11-01", "已回复", "2026-11-05"),
                ("关于规划公示期限的建议", "2026-06-01", "未回复", ""),
                ("关于土地复垦资金的问题", "2026-09-01", "已回复", "2026-10-20"),
            ],
            "<a href='index.html'>首页</a> <a href='index_1.html'>下一页</a>",
        ),
    ),
    "/hdjl/jzxx/index_1.html": page(
        "局长信箱",
        table(
            [
                ("关于小区日照遮挡的投诉", "2026-05-10", "办理中", ""),
                ("关于宅基地审批的咨询", "2026-10-01", "未回复", ""),
                ("关于矿山修复的旧留言", "2024-01-03", "未回复", ""),
            ],
            "<a href='index.html'>上一页</a>",
        ),
    ),
    "/hdjl/zxzx/index.html": page(
        "在线咨询",
        items(
            [
                ("询问测绘资质延续", "2026-07-01", "未回复", ""),
                ("询问规划许可证查询", "2026-08-03", "已办结", "2026-08-05"),
            ],
            "<a href='index_2.html'>下一页</a>",
        ),
    ),
    "/hdjl/zxzx/index_2.html": page(
        "在线咨询",
        items(
            [("询问征地补偿标准", "2026-04-01", "已回复", "2026-06-01")],
            "<a href='index.html'>上一页</a>",
        ),
    ),
    "/hdjl/login.html": page(
        "网上咨询",
        "<form action='/login' method='post'>用户登录：<input name='u'>"
        "<input type='password' name='p'><button>登录</button></form>",
    ),
}


def test_lists_in_both_layouts_over_pager_pages(tmp_path):
    with LoopbackServer() as srv:
        for path, html in SITE.items():
            srv.route(path, html=html)
        out = tmp_path / "out"
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "govaudit.cli",
                "audit",
                srv.url("/"),
                "--plugins",
                "interaction",
                "--today",
                TODAY,
                "--data-dir",
                str(tmp_path / "data"),
                "--out",
                str(out),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=180,
        )
    assert proc.returncode == 1, proc.stderr
    doc = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    got: dict[str, set[str]] = {}
    for f in doc["findings"]:
        got.setdefault(f["rule"], set()).add(f["evidence"].get("title") or f["url"])
    assert got["interaction.unanswered"] == {
        "关于规划公示期限的建议",  # 177 days, 未回复
        "关于小区日照遮挡的投诉",  # 199 days, 办理中, on the table's second page
        "询问测绘资质延续",  # list layout, 147 days
    }
    assert got["interaction.reply_late"] == {
        "关于土地复垦资金的问题",  # 2026-09-01 → 10-20: past the 国庆 holiday, > 10 working days
        "询问征地补偿标准",  # list layout, second pager page
    }
    assert got["interaction.not_checked"] == {srv.url("/hdjl/login.html")}
    late = next(f for f in doc["findings"] if f["rule"] == "interaction.reply_late")
    assert late["evidence"]["working_days"] > 10 and late["evidence"]["list_page"]
    unanswered = next(
        f for f in doc["findings"] if f["evidence"].get("title") == "关于小区日照遮挡的投诉"
    )
    ev = unanswered["evidence"]
    assert ev["date"] == "2026-05-10" and ev["status"] == "办理中"
    assert ev["list_page"] == srv.url("/hdjl/jzxx/index_1.html")
    assert unanswered["severity"] == "error"
    row = next(i for i in doc["scorecard"]["items"] if i["title"].startswith("政务咨询类留言"))
    assert row["status"] == "不通过" and row["value"].startswith("3 处")


def test_reply_limit_is_configurable_and_a_site_without_lists_is_not_checked(tmp_path):
    from audits.runner import run_audits

    store, run_id = build_run(
        None,
        {
            "/": SITE["/"].replace("/hdjl/login.html", "/hdjl/jzxx/index.html"),
            "/hdjl/jzxx/index.html": SITE["/hdjl/jzxx/index.html"],
        },
    )
    config = config_from_dict(
        {"site": {"urls": [HOME]}, "plugins": {"interaction": {"reply_working_days": 40}}}
    )
    from datetime import date

    result = run_audits(store, run_id, config, ["interaction"], today=date(2026, 11, 25))
    rules = [f["rule"] for f in result.findings]
    assert "interaction.reply_late" not in rules and rules.count("interaction.unanswered") == 1

    store2, run2 = build_run(
        None,
        {
            "/": page("首页", "<a href='/hdjl/'>局长信箱</a>"),
            "/hdjl/": page("局长信箱", "<p>欢迎来信。</p><a href='/write'>我要写信</a>"),
        },
    )
    result = run_audits(store2, run2, config, ["interaction"], today=date(2026, 11, 25))
    assert [f["rule"] for f in result.findings] == ["interaction.not_checked"]
    assert result.site_data["interaction.lists_read"] == 0
