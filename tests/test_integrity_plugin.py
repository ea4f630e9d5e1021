"""Integrity (暗链、挂马、篡改) in real Chromium against a loopback site audited three times:
every hiding technique planted once, a hover menu and a closed tab as traps; a homepage whose
news list changes (normal), then gains a foreign script and an injected iframe and a new
网站标识码; a friendly link whose domain turns into a gambling page between runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.loopback import LoopbackServer

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Chromium")

STYLE = """
<style>
 body { background: #fff; color: #333; }
 .menu li { display: inline-block; position: relative; }
 .menu .sub { display: none; position: absolute; }
 .menu li.drop:hover .sub { display: block; }
</style>
<script>
function show(n) {
  for (var i = 1; i <= 2; i++) document.getElementById('tab' + i).style.display = i == n ? 'block' : 'none';
}
</script>
"""

HIDDEN = {
    "http://a1.spam.invalid/": "<div style='display:none'><a href='http://a1.spam.invalid/'>澳门一</a></div>",
    "http://a2.spam.invalid/": "<a style='visibility:hidden' href='http://a2.spam.invalid/'>二</a>",
    "http://a3.spam.invalid/": "<div style='position:absolute;left:-9999px;top:0'>"
    "<a href='http://a3.spam.invalid/'>三</a></div>",
    "http://a4.spam.invalid/": "<a style='display:inline-block;width:0;height:0;overflow:hidden'"
    " href='http://a4.spam.invalid/'>四</a>",
    "http://a5.spam.invalid/": "<span style='font-size:0'><a href='http://a5.spam.invalid/'>五</a></span>",
    "http://a6.spam.invalid/": "<p style='background:#ffffff'>正文<a style='color:#fefefe'"
    " href='http://a6.spam.invalid/'>六</a></p>",
    "http://a7.spam.invalid/": "<div style='height:0;overflow:hidden'>"
    "<a href='http://a7.spam.invalid/'>七</a></div>",
    "http://a8.spam.invalid/": "<marquee scrollamount='10000' width='1' height='1'>"
    "<a href='http://a8.spam.invalid/'>八</a></marquee>",
}
HOW = {
    "http://a1.spam.invalid/": "display:none",
    "http://a2.spam.invalid/": "visibility:hidden",
    "http://a3.spam.invalid/": "off screen",
    "http://a4.spam.invalid/": "zero size",
    "http://a5.spam.invalid/": "font-size:0",
    "http://a6.spam.invalid/": "text colour of its background",
    "http://a7.spam.invalid/": "clipped by overflow",
    "http://a8.spam.invalid/": "marquee",
}


def homepage(
    friend: str,
    news: list[str],
    title: str = "临川市自然资源和规划局",
    code: str = "3610000001",
    injected: str = "",
) -> str:
    items = "".join(
        f"<li><a href='/xw/{i}.html'>{t}</a><span>2026-11-{20 - i:02d}</span></li>"
        for i, t in enumerate(news)
    )
    return f"""<html><head><meta charset="utf-8"><title>{title}</title>
<meta name="SiteIDCode" content="{code}">{STYLE}
<script src="https://hm.baidu.com/hm.js?abc"></script>{injected}</head><body>
<div id="header"><h1>临川市自然资源和规划局</h1><span>今天是2026年11月25日 星期三</span></div>
<ul class="menu" id="nav"><li><a href="/">首页</a></li>
 <li class="drop"><a href="/zwgk/">政务公开</a><ul class="sub">
   <li><a href="http://www.jxzrzyt.gov.cn/">省自然资源厅</a></li></ul></li></ul>
<div class="tabbox"><ul class="tabs"><li onmouseover="show(1)">要闻</li>
 <li onmouseover="show(2)">兄弟单位</li></ul>
 <div id="tab1"><ul class="news">{items}</ul></div>
 <div id="tab2" style="display:none"><a href="http://www.lcgt.gov.cn/">市国土局</a></div></div>
<div class="links">友情链接：<a href="{friend}">临川地情网</a></div>
{"".join(HIDDEN.values())}
<div id="footer">主办：临川市自然资源和规划局 网站标识码：{code} 赣ICP备12345678号</div>
</body></html>"""


def audit(tmp_path: Path, home_url: str, resolve: str, n: int) -> dict:
    cfg = tmp_path / "govaudit.toml"
    cfg.write_text(
        f"""data_dir = {json.dumps(str(tmp_path / "data"))}
[site]
urls = [{json.dumps(home_url)}]
[crawl]
obey_robots = false
check_external = false
retries = 0
max_pages = 5
[dns]
resolve = [{json.dumps(resolve)}]
[plugins]
enabled = ["integrity"]
""",
        encoding="utf-8",
    )
    out = tmp_path / f"out{n}"
    proc = subprocess.run(
        [sys.executable, "-m", "govaudit.cli", "audit", "--config", str(cfg), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    doc = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert not doc["run"].get("errors"), doc["run"]["errors"]
    return doc


def rules(doc: dict, rule: str) -> list[dict]:
    return [f for f in doc["findings"] if f["rule"] == rule]


def test_hidden_links_injection_tampering_and_hijacked_outbound(tmp_path):
    with LoopbackServer() as site, LoopbackServer() as friend:
        friend_url = f"http://www.lcdqw.cn:{friend.port}/"
        resolve = f"www.lcdqw.cn:{friend.port}:127.0.0.1"
        friend.route(
            "/", html="<html><head><title>临川地情网</title></head><body>地方志</body></html>"
        )
        site.route("/", html=homepage(friend_url, ["通知一", "通知二"]))

        # Run 1: the baseline. Every hiding technique is found; the traps are not.
        doc = audit(tmp_path, site.url("/"), resolve, 1)
        hidden = {f["url"]: f["evidence"]["how"] for f in rules(doc, "integrity.hidden_link")}
        assert hidden == HOW
        assert rules(doc, "integrity.outbound_hijacked") == []
        assert rules(doc, "integrity.homepage_changed") == []
        assert rules(doc, "integrity.injected_code") == []  # analytics is allow-listed
        row = next(i for i in doc["scorecard"]["items"] if i["title"].startswith("网站被攻击篡改"))
        assert row["status"] == "不通过" and row["value"].startswith("8 处")

        # Run 2: only the dated news changed, and the friendly link's domain now gambles.
        site.route("/", html=homepage(friend_url, ["通知三", "通知四", "通知五"]))
        friend.route(
            "/",
            html="<html><head><title>澳门娱乐城</title></head><body>百家乐 真人娱乐 注册送彩金</body></html>",
        )
        doc = audit(tmp_path, site.url("/"), resolve, 2)
        assert rules(doc, "integrity.homepage_changed") == []
        assert rules(doc, "integrity.injected_code") == []
        (hijacked,) = rules(doc, "integrity.outbound_hijacked")
        assert hijacked["url"] == friend_url and hijacked["page"] == site.url("/")
        assert (
            "百家乐" in hijacked["evidence"]["terms"] and hijacked["evidence"]["before"] == "clean"
        )

        # Run 3: a foreign script, an injected iframe, a new title and 网站标识码.
        injected = (
            '<script src="http://cdn.evil-stat.example.net/s.js"></script>'
            '<script>document.write(\'<iframe src="http://www.xpj-bocai.example.org/" '
            "width=0 height=0></iframe>');</script>"
        )
        site.route(
            "/",
            html=homepage(
                friend_url,
                ["通知六"],
                title="临川市自然资源和规划局-澳门新葡京",
                code="3610009999",
                injected=injected,
            ),
        )
        doc = audit(tmp_path, site.url("/"), resolve, 3)
    injected_found = {
        f["evidence"].get("host") or f["evidence"].get("pattern")
        for f in rules(doc, "integrity.injected_code")
    }
    assert injected_found == {
        "cdn.evil-stat.example.net",
        "www.xpj-bocai.example.org",
        "document.write of a frame or script",
    }
    assert all(f["severity"] == "error" for f in rules(doc, "integrity.injected_code"))
    (changed,) = rules(doc, "integrity.homepage_changed")
    ev = changed["evidence"]
    assert set(ev["changed"]) >= {"标题", "网站标识码"} and "页头" not in ev["changed"]
    assert "3610009999" in ev["sitecode_after"] and "3610000001" in ev["sitecode_before"]
    run_dir = tmp_path / "data" / "runs" / str(doc["run"]["id"])
    assert (run_dir / ev["screenshot"]).is_file() and (run_dir / ev["screenshot_before"]).is_file()
