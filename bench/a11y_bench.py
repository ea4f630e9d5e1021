"""Benchmark: govaudit's accessibility plugin against pa11y-ci (runner axe) on the same pages.

    .venv/bin/python bench/a11y_bench.py [--pages 100] [--skip-pa11y]

Generates N government-style pages (header, navigation, news lists, an article, a form;
a few planted defects), serves them from a separate process on loopback, then runs in
turn, each as a child process whose whole tree (Chromium included) is sampled for memory:

  * govaudit: the accessibility plugin over a stored snapshot of the N pages (defaults:
    2 browsers, load event, axe tags wcag2a/wcag21a/wcag2aa/wcag21aa/best-practice so that
    both tools run the same rules);
  * govaudit with ``settle_timeout = 2`` (waits for network idle, as pa11y does);
  * pa11y-ci (npm, installed into bench/ with PUPPETEER_SKIP_DOWNLOAD=1) on Debian's
    Chromium with the same flags, runner axe, standard WCAG2AA; with its default
    concurrency 1 and with concurrency 2.

Prints pages per minute (wall clock of the whole process, browser start included), peak
memory of the process tree (PSS, so Chromium's shared pages are not counted twice) and
the ratios; writes bench/results/a11y.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))

from core.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

TAGS = ["wcag2a", "wcag21a", "wcag2aa", "wcag21aa", "best-practice"]  # pa11y's WCAG2AA set

CSS = """body{font-family:sans-serif;margin:0;color:#333}header{background:#0b4ea2;color:#fff;
padding:10px}nav ul{list-style:none;display:flex;gap:12px;padding:0}nav a{color:#fff}
.list li{display:flex;justify-content:space-between;border-bottom:1px dashed #ccc}
.muted{color:#aaa}footer{background:#eee;padding:10px;font-size:13px}"""


def page_html(i: int, n: int) -> str:
    nav = "".join(f'<li><a href="/p{j}.html">栏目{j}</a></li>' for j in range(0, min(n, 12)))
    items = "".join(
        f'<li><a href="/p{(i + k) % n}.html">关于做好第{k}批自然资源工作的通知（第{i}期）</a>'
        f"<span>2026-11-{(k % 28) + 1:02d}</span></li>"
        for k in range(25)
    )
    para = "".join(
        f"<p>为贯彻落实国土空间规划工作部署，第{k}项任务按要求推进，各单位结合实际认真组织实施。"
        "</p>"
        for k in range(12)
    )
    defects = ""
    if i % 3 == 0:
        defects += '<p><img src="/logo.png" width="40" height="40"></p>'
    if i % 4 == 0:
        defects += '<p class="muted">（本文由办公室负责解释）</p>'
    if i % 5 == 0:
        defects += '<form><input type="text" name="q"><button type="submit"></button></form>'
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f'<title>第{i}页 - 某市自然资源和规划局</title><link rel="stylesheet" href="/site.css">'
        '<script src="/site.js"></script></head><body>'
        f'<header><img src="/logo.png" alt="某市自然资源和规划局" width="40" height="40">'
        f"<nav><ul>{nav}</ul></nav></header>"
        f'<main><h1>第{i}页</h1><ul class="list">{items}</ul><article>{para}</article>'
        f"{defects}</main>"
        "<footer><p>主办单位：某市自然资源和规划局 网站标识码：3600000001</p></footer>"
        "</body></html>"
    )


def generate(root: Path, n: int) -> list[str]:
    root.mkdir(parents=True, exist_ok=True)
    (root / "site.css").write_text(CSS, encoding="utf-8")
    (root / "site.js").write_text(
        "document.addEventListener('DOMContentLoaded',()=>{document.body.dataset.ready=1});",
        encoding="utf-8",
    )
    (root / "logo.png").write_bytes(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
            "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
        )
    )
    for i in range(n):
        (root / f"p{i}.html").write_text(page_html(i, n), encoding="utf-8")
    return [f"/p{i}.html" for i in range(n)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TreeSampler:
    """Peak memory (PSS, else RSS) of a process and all its descendants."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self.peak_procs = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                root = psutil.Process(self.pid)
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                break
            total = 0
            for p in procs:
                try:
                    info = p.memory_full_info()
                    total += getattr(info, "pss", 0) or info.rss
                except psutil.Error:
                    pass
            if total > self.peak:
                self.peak, self.peak_procs = total, len(procs)
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def timed(cmd: list[str], cwd: Path | None = None, env: dict | None = None) -> dict:
    start = time.monotonic()
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    sampler = TreeSampler(proc.pid)
    out, err = proc.communicate(timeout=3600)
    sampler.stop()
    return {
        "seconds": time.monotonic() - start,
        "peak_mib": sampler.peak / 2**20,
        "peak_procs": sampler.peak_procs,
        "returncode": proc.returncode,
        "stdout": out,
        "stderr": err,
    }


# ---- govaudit child ---------------------------------------------------------------------
def govaudit_child(base: str, paths: list[str], data: Path, options: dict) -> None:
    """Runs in a child process: store a snapshot of the pages, run the plugin over it."""
    from audits.runner import run_audits
    from core.config import config_from_dict
    from core.snapshot import Page
    from reports.store import Store

    config = config_from_dict(
        {
            "site": {"urls": [base + paths[0]]},
            "data_dir": str(data),
            "plugins": {"accessibility": {"max_pages": len(paths), **options}},
        }
    )
    store = Store.in_dir(data)
    run_id = store.create_run(site=base, config={}, start_urls=[base + paths[0]])
    store.add_pages(
        run_id, [Page(base + p, base + p, 200, "text/html; charset=utf-8") for p in paths]
    )
    start = time.monotonic()
    result = run_audits(store, run_id, config, ["accessibility"])
    elapsed = time.monotonic() - start
    data_ = result.site_data
    print(
        json.dumps(
            {
                "audit_seconds": elapsed,
                "findings": len(result.findings),
                "audited": data_.get("accessibility.pages_audited"),
                "not_tested": data_.get("accessibility.pages_not_tested"),
                "errors": result.errors,
                "rules": sorted({f["rule"] for f in result.findings}),
            }
        )
    )


def run_govaudit(base: str, paths: list[str], work: Path, options: dict, label: str) -> dict:
    data = work / f"data-{label}"
    spec = json.dumps({"base": base, "paths": paths, "data": str(data), "options": options})
    r = timed([sys.executable, __file__, "--child", spec])
    if r["returncode"] != 0:
        raise SystemExit(f"govaudit child failed:\n{r['stderr'][-3000:]}")
    r["child"] = json.loads(r["stdout"].strip().splitlines()[-1])
    return r


# ---- pa11y-ci -------------------------------------------------------------------------------
def run_pa11y(base: str, paths: list[str], work: Path, concurrency: int) -> dict:
    exe = BENCH / "node_modules" / ".bin" / "pa11y-ci"
    cfg = {
        "defaults": {
            "chromeLaunchConfig": {
                "executablePath": CHROMIUM,
                "args": [a for a in CHROMIUM_ARGS if a != "--headless"],
                "headless": True,
            },
            "runners": ["axe"],
            "standard": "WCAG2AA",
            "timeout": 60000,
            "concurrency": concurrency,
        },
        "urls": [base + p for p in paths],
    }
    path = work / f"pa11yci-{concurrency}.json"
    path.write_text(json.dumps(cfg), encoding="utf-8")
    env = dict(os.environ, PUPPETEER_SKIP_DOWNLOAD="1")
    r = timed([str(exe), "--config", str(path), "--json"], cwd=BENCH, env=env)
    try:
        doc = json.loads(r["stdout"])
        r["child"] = {
            "passes": doc.get("passes"),
            "errors": doc.get("errors"),
            "total": doc.get("total"),
        }
    except (json.JSONDecodeError, ValueError):
        r["child"] = {"unparsed": r["stdout"][-500:], "stderr": r["stderr"][-1500:]}
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=100)
    ap.add_argument("--skip-pa11y", action="store_true")
    ap.add_argument(
        "--runs",
        default="govaudit,govaudit settle=2s,pa11y-ci,pa11y-ci concurrency=2",
        help="comma-separated subset of the runs, in order",
    )
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        spec = json.loads(args.child)
        govaudit_child(spec["base"], spec["paths"], Path(spec["data"]), spec["options"])
        return

    work = Path(tempfile.mkdtemp(prefix="govaudit-a11y-bench-"))
    site = work / "site"
    paths = generate(site, args.pages)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "-d", str(site)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    results: dict[str, dict] = {}
    try:
        common = {"tags": TAGS, "screenshots": True, "check_entry": True}
        runs = [
            ("govaudit", lambda: run_govaudit(base, paths, work, dict(common), "default")),
            (
                "govaudit settle=2s",
                lambda: run_govaudit(base, paths, work, dict(common, settle_timeout=2.0), "settle"),
            ),
        ]
        if not args.skip_pa11y:
            if not (BENCH / "node_modules" / ".bin" / "pa11y-ci").exists():
                raise SystemExit(
                    "pa11y-ci missing: cd bench && PUPPETEER_SKIP_DOWNLOAD=1 npm install"
                )
            runs += [
                ("pa11y-ci", lambda: run_pa11y(base, paths, work, 1)),
                ("pa11y-ci concurrency=2", lambda: run_pa11y(base, paths, work, 2)),
            ]
        wanted = [x.strip() for x in args.runs.split(",")]
        for label, fn in sorted(
            (r for r in runs if r[0] in wanted), key=lambda r: wanted.index(r[0])
        ):
            print(f"running {label} …", file=sys.stderr, flush=True)
            r = results[label] = fn()
            print(
                f"  {label}: {r['seconds']:.1f} s, {args.pages / r['seconds'] * 60:.1f} pages/min, "
                f"peak {r['peak_mib']:.0f} MiB; {json.dumps(r['child'])[:200]}",
                file=sys.stderr,
                flush=True,
            )
    finally:
        server.terminate()
        server.wait()
    n = args.pages
    print(f"\n{n} pages, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"{'tool':<26}{'seconds':>9}{'pages/min':>11}{'peak MiB':>10}{'procs':>7}  result")
    for label, r in results.items():
        r["pages_per_minute"] = n / r["seconds"] * 60
        print(
            f"{label:<26}{r['seconds']:>9.1f}{r['pages_per_minute']:>11.1f}"
            f"{r['peak_mib']:>10.0f}{r['peak_procs']:>7}  "
            + json.dumps({k: v for k, v in r["child"].items() if k != "rules"})[:120]
        )
    for mine in ("govaudit", "govaudit settle=2s"):
        for theirs in ("pa11y-ci", "pa11y-ci concurrency=2"):
            if mine in results and theirs in results:
                ratio = results[mine]["pages_per_minute"] / results[theirs]["pages_per_minute"]
                print(f"{mine} / {theirs}: {ratio:.2f}×")
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    slim = {
        k: {x: y for x, y in v.items() if x not in ("stdout", "stderr")} for k, v in results.items()
    }
    (out / "a11y.json").write_text(json.dumps(slim, indent=2, ensure_ascii=False))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
