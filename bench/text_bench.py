"""Benchmark: the text layer and the wording and privacy audits.

    .venv/bin/python bench/text_bench.py [--files 1000] [--megabytes 20] [--pages 5000]

1. Attachments: ``--files`` attachments in mixed formats (pdf, docx, xlsx, xls, doc; about
   ``--megabytes`` in all; a 公示 table and a seeded error in each), linked from ten list
   pages, served by nginx on loopback; ``govaudit audit --plugins wording,privacy`` under
   /usr/bin/time -v. Prints files/s for the text stage (download + extraction), the plugins'
   time, and peak RSS (attachments are streamed to disk and bounded, so it stays flat).
2. Page text: the ``make bench`` site (bench/gen_site.py, ``--pages``) audited with
   ``--plugins links`` and with ``--plugins links,wording,privacy`` (attachments off, so
   only the page-text scan is added), ``--repeat`` times interleaved; prints the added wall
   time of each pair and the median (target: at most 20%).
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.links_bench import TIME, Nginx, site  # noqa: E402
from tests import docgen  # noqa: E402
from tests.text_corpus import clean_lines, make_id, make_mobile  # noqa: E402

FORMATS = ("pdf", "docx", "xlsx", "xls", "doc")


def make_attachments(out: Path, n: int, megabytes: float, seed: int = 5) -> dict:
    """``n`` attachments of about ``megabytes`` in all, under ``out/files``."""
    rng = random.Random(seed)
    clean = clean_lines()
    files = out / "files"
    files.mkdir(parents=True, exist_ok=True)
    per_file = megabytes * 1_000_000 / n
    total = 0
    for i in range(n):
        fmt = FORMATS[i % len(FORMATS)]
        rows = [["序号", "姓名", "身份证号码", "联系电话"]]
        rows += [[str(k), f"张{k}", make_id(rng), make_mobile(rng)] for k in range(1, 6)]
        lines = [clean[(i * 7 + k) % len(clean)] for k in range(40)]
        lines.append("深入学习贯彻习近平近新时代中国特色社会主义思想。")
        # Grow the text until the file reaches its share of the total (compressed formats
        # need more text for the same bytes).
        body = b""
        for _ in range(6):
            if fmt == "pdf":
                body = docgen.make_pdf(
                    ["\n".join(lines[j : j + 30]) for j in range(0, len(lines), 30)]
                )
            elif fmt == "docx":
                body = docgen.make_docx(lines, rows)
            elif fmt == "xlsx":
                body = docgen.make_xlsx({"名单": rows, "说明": [[x] for x in lines]})
            elif fmt == "xls":
                body = docgen.make_xls({"名单": rows, "说明": [[x] for x in lines]})
            else:
                body = docgen.make_doc("\n".join(lines + ["\t".join(r) for r in rows]))
            if len(body) >= per_file * 0.8:
                break
            grow = max(1, int(len(lines) * (per_file / max(len(body), 1) - 1)))
            lines += [clean[rng.randrange(len(clean))] for _ in range(min(grow, 4000))]
        (files / f"{i}.{fmt}").write_bytes(body)
        total += len(body)
    for page in range(0, n, 100):
        items = "".join(
            f'<li><a href="/files/{i}.{FORMATS[i % len(FORMATS)]}">附件{i}</a></li>'
            for i in range(page, min(n, page + 100))
        )
        nxt = f'<a href="/list{page + 100}.html">下一页</a>' if page + 100 < n else ""
        (out / f"list{page}.html").write_text(
            f"<html><head><meta charset='utf-8'><title>公示{page}</title></head><body>"
            f"<ul>{items}</ul>{nxt}</body></html>",
            encoding="utf-8",
        )
    (out / "index.html").write_text(
        "<html><head><meta charset='utf-8'><title>附件</title></head><body>"
        "<a href='/list0.html'>公示公告</a></body></html>",
        encoding="utf-8",
    )
    return {"files": n, "bytes": total}


def audit(url: str, work: Path, plugins: str, extra: str = "") -> dict:
    """One ``govaudit audit`` under /usr/bin/time -v; stderr lines get their arrival times."""
    cfg = work / f"cfg-{plugins.replace(',', '-')}.toml"
    cfg.write_text(
        f'[site]\nurls = ["{url}"]\n[crawl]\nmax_pages = 20000\nmax_depth = 100\n'
        "obey_robots = false\nautothrottle = false\nconcurrency = 32\n"
        f"concurrency_per_host = 32\n{extra}",
        encoding="utf-8",
    )
    data = work / f"data-{plugins.replace(',', '-')}"
    shutil.rmtree(data, ignore_errors=True)
    cmd = [TIME, "-v", sys.executable, "-m", "govaudit.cli", "audit", "--config", str(cfg)]
    cmd += ["--plugins", plugins, "--data-dir", str(data), "--out", str(work / "out")]
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=work, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    lines: list[tuple[float, str]] = []
    assert proc.stderr is not None
    for line in proc.stderr:
        lines.append((time.perf_counter() - start, line.rstrip()))
    proc.wait()
    wall = time.perf_counter() - start
    err = "\n".join(text for _, text in lines)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)

    def at(pattern: str) -> float | None:
        return next((t for t, text in lines if re.search(pattern, text)), None)

    return {
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(int(rss.group(1)) / 1024, 1) if rss else 0.0,
        "texts_start": at(r"reading \d+ attachment"),
        "texts_end": at(r"attachments: \d+ read"),
        "done": at(r"run \d+ done"),
        "summary": next((text for _, text in lines if "attachments:" in text), ""),
        "returncode": proc.returncode,
        "tail": err[-1500:],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--megabytes", type=float, default=20)
    ap.add_argument("--pages", type=int, default=5000)
    ap.add_argument("--skip-pages", action="store_true", help="only the attachment benchmark")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved page-text runs")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="govaudit-textbench-"))
    try:
        root = work / "att-site"
        info = make_attachments(root, args.files, args.megabytes)
        print(f"attachments: {info['files']} files, {info['bytes'] / 1e6:.1f} MB")
        for dirpath in [work, *[p for p in root.rglob("*") if p.is_dir()], root]:
            dirpath.chmod(0o755)
        (work / "n1").mkdir()
        nginx = Nginx(root, work / "n1")
        try:
            r = audit(nginx.url, work, "wording,privacy")
        finally:
            nginx.stop()
        if r["returncode"] not in (0, 1):
            print(r["tail"])
            raise SystemExit("govaudit failed")
        stage = (r["texts_end"] or 0) - (r["texts_start"] or 0)
        plugins = (r["done"] or 0) - (r["texts_end"] or 0)
        print(f"  {r['summary']}")
        print(
            f"  text stage {stage:.1f} s = {info['files'] / stage:.1f} files/s; plugins and "
            f"reports {plugins:.1f} s; whole run {r['wall_s']} s; peak RSS {r['peak_rss_mb']} MB"
        )
        if args.skip_pages:
            return
        (work / "n2").mkdir()
        root2, info2 = site(work, "bench-site", args.pages)
        nginx = Nginx(root2, work / "n2")
        off = "[attachments]\nenabled = false\n"
        added: list[float] = []
        try:
            for rep in range(args.repeat):  # interleaved: the machine drifts
                base = audit(nginx.url, work, "links", off)
                text = audit(nginx.url, work, "links,wording,privacy", off)
                added.append(100 * (text["wall_s"] - base["wall_s"]) / base["wall_s"])
                print(
                    f"page text on the {info2['pages']}-page bench site, run {rep + 1}: links "
                    f"only {base['wall_s']} s, with wording,privacy {text['wall_s']} s: "
                    f"{added[-1]:+.0f}%; peak RSS {base['peak_rss_mb']} → "
                    f"{text['peak_rss_mb']} MB",
                    flush=True,
                )
        finally:
            nginx.stop()
        print(
            f"page-text scan overhead, median of {len(added)}: {statistics.median(added):+.1f}% "
            f"(runs: {', '.join(f'{a:+.0f}%' for a in added)}; target at most +20%)"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
