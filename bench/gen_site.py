"""Generate a static N-page bureau-like site for benchmarks (``python bench/gen_site.py DIR``).

Every page is reachable from the homepage (page i links to 2i+1, 2i+2 and i+1, so the
depth is about log2(N)); each page has ~20 links: navigation, related pages, an image,
an attachment; about 1% of links point to pages that do not exist. Deterministic for a
given N and seed. Prints a JSON summary (pages, links, broken links).
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

NAV = [
    ("/", "首页"),
    ("/p/1.html", "政府信息公开"),
    ("/p/2.html", "政策解读"),
    ("/p/3.html", "通知公告"),
    ("/p/4.html", "互动交流"),
]
FILLER = "国土空间规划和自然资源管理工作稳步推进，" * 12


def page_url(i: int) -> str:
    return "/" if i == 0 else f"/p/{i}.html"


def generate(
    out: Path, n: int = 5000, links: int = 20, broken: float = 0.01, seed: int = 7
) -> dict:
    rnd = random.Random(seed)
    (out / "p").mkdir(parents=True, exist_ok=True)
    (out / "img").mkdir(exist_ok=True)
    (out / "files").mkdir(exist_ok=True)
    (out / "img" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 200)
    n_files = max(1, n // 50)
    for k in range(n_files):
        (out / "files" / f"{k}.pdf").write_bytes(b"%PDF-1.4\n" + b"0" * 2000)
    total = broken_count = 0
    broken_targets: set[str] = set()
    for i in range(n):
        items: list[tuple[str, str]] = list(NAV)
        for child in (2 * i + 1, 2 * i + 2, i + 1):
            if child < n:
                items.append((page_url(child), f"第{child}号文件"))
        items.append(("/img/logo.png", "标识"))
        items.append((f"/files/{rnd.randrange(n_files)}.pdf", "附件下载"))
        while len(items) < links:
            items.append((page_url(rnd.randrange(n)), f"相关信息{rnd.randrange(10**6)}"))
        body = []
        for href, text in items:
            if rnd.random() < broken:
                href = f"/gone/{rnd.randrange(max(1, n // 10))}.html"
                broken_targets.add(href)
                broken_count += 1
            tag = (
                f'<img src="{href}" alt="{text}">'
                if href.endswith(".png")
                else (f'<a href="{href}">{text}</a>')
            )
            body.append(f"<li>{tag}</li>")
        total += len(items)
        html = (
            f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>第{i}号页面 - 某市自然资源和规划局'
            f"</title></head><body><h1>第{i}号页面</h1><p>{FILLER}</p><ul>{''.join(body)}</ul>"
            f"<p>发布日期：2024-0{1 + i % 9}-1{i % 10}</p></body></html>"
        )
        target = out / "index.html" if i == 0 else out / "p" / f"{i}.html"
        target.write_text(html, encoding="utf-8")
    return {
        "pages": n,
        "links": total,
        "broken_links": broken_count,
        "broken_targets": len(broken_targets),
        "attachments": n_files,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out")
    ap.add_argument("--pages", type=int, default=5000)
    ap.add_argument("--links", type=int, default=20)
    ap.add_argument("--broken", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    print(json.dumps(generate(Path(args.out), args.pages, args.links, args.broken, args.seed)))


if __name__ == "__main__":
    main()
