"""Benchmark, "hostile" scenario: what each hostile probe costs a links-only audit.

    .venv/bin/python bench/hostile_bench.py

Each probe is a real server on loopback and a real `govaudit audit --plugins links` in a
child process; the script prints the child's wall time and peak RSS (getrusage of the
child) and what the run recorded. Probes: a 1 GiB gzip bomb, a page with 300,000 links,
a page nested 100,000 levels deep, a slow site of 30 pages (each 0.3 s) full of broken
internal links with --max-pages 30, and a page linking into private networks (a loopback
DNS server answers 10.255.255.1, which the crawler refuses without connecting).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.loopback import LoopbackServer  # noqa: E402
from tests.test_crawler_hostile import gzip_bomb  # noqa: E402

WRAPPER = (
    "import resource, subprocess, sys; "
    "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def audit(url: str, work: Path, *extra: str) -> tuple[float, float, dict]:
    """(wall s, peak RSS MB of the child, findings.json) of one links-only audit."""
    work.mkdir(parents=True)
    started = time.monotonic()
    # A wrapper process per probe: its RUSAGE_CHILDREN peak is this audit's alone.
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            WRAPPER,
            sys.executable,
            "-m",
            "govaudit.cli",
            "audit",
            url,
            "--plugins",
            "links",
            "--data-dir",
            str(work / "data"),
            "--out",
            str(work / "out"),
            "-q",
            *extra,
        ],
        stdout=subprocess.PIPE,
        timeout=900,
    )
    wall = time.monotonic() - started
    peak_kb = int(proc.stdout.decode().strip().splitlines()[-1])
    doc = json.loads((work / "out" / "findings.json").read_text(encoding="utf-8"))
    return wall, peak_kb / 1024, doc


def rules(doc: dict) -> str:
    counts: dict[str, int] = {}
    for f in doc["findings"]:
        counts[f["rule"]] = counts.get(f["rule"], 0) + 1
    return ", ".join(f"{r} {n}" for r, n in sorted(counts.items()))


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="govaudit-hostile-"))
    rows = []
    with LoopbackServer() as srv:
        # private networks: direct links and a redirect
        srv.route(
            "/private",
            html='<html><body><a href="http://10.255.255.1/">内网</a>'
            '<a href="http://169.254.169.254/latest/meta-data/">元数据</a>'
            '<a href="/hop">跳转</a></body></html>',
        )
        srv.route("/hop", status=302, headers={"Location": "http://169.254.169.254/"})
        # slow chain of pages with broken internal links
        for n in range(40):
            nxt = "".join(f'<a href="/p{m}">第{m}页</a>' for m in range(n + 1, n + 6))
            broken = "".join(f'<a href="/gone/{n}/{k}">失效</a>' for k in range(50))
            srv.route(f"/p{n}", html=f"<html><body>{nxt}{broken}</body></html>", delay=0.3)
        # deep nesting
        deep = "<div>" * 100_000 + '<a href="/deep-end">底部链接</a>' + "</div>" * 100_000
        srv.route("/deep", html=f"<html><body>{deep}</body></html>")
        # a million-link page (300,000 here: 8 MB)
        many = "".join(f'<a href="/m/{i}">{i}</a>' for i in range(300_000))
        srv.route("/many", html=f"<html><body>{many}</body></html>")
        # the gzip bomb
        srv.route(
            "/bomb",
            body=gzip_bomb(),
            headers={"Content-Encoding": "gzip"},
            content_type="text/html; charset=utf-8",
        )
        probes = [
            ("private addresses", "/private", ()),
            ("slow site, --max-pages 30", "/p0", ("--max-pages", "30")),
            ("100,000 nested divs", "/deep", ()),
            ("300,000 links on a page", "/many", ()),
            ("1 GiB gzip bomb", "/bomb", ("--max-pages", "1")),
        ]
        for name, path, extra in probes:
            wall, rss, doc = audit(srv.url(path), tmp / path.strip("/"), *extra)
            run = doc["run"]
            rows.append((name, wall, rss, run["pages_crawled"], run["links_checked"], rules(doc)))
    print(f"{'probe':<28} {'wall s':>7} {'peak MB':>8} {'pages':>6} {'checks':>7}  findings")
    for name, wall, rss, pages, checks, found in rows:
        print(f"{name:<28} {wall:>7.1f} {rss:>8.0f} {pages:>6} {checks:>7}  {found}")


if __name__ == "__main__":
    main()
