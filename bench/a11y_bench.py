"""Benchmark: govaudit's accessibility plugin against pa11y-ci (runner axe) on the same pages.

    .venv/bin/python bench/a11y_bench.py [--pages 57] [--repeat 3] [--skip-pa11y] [--runs ...]

Generates N government-style pages (header, navigation, news lists, an article, a form;
a few planted defects), serves them from a separate process on loopback, then runs,
each as a child process whose whole tree (Chromium included) is sampled for memory
every 0.2 s:

  * govaudit: the accessibility plugin over a stored snapshot of the N pages, with its
    defaults (Debian's headless shell driven over DevTools from Python, one tab per core
    left after the browser's own — 1 on 2 cores —, fonts and media blocked, load event, a
    tab's heap collected past 24 MB); "govaudit tabs=2" two tabs at once, "govaudit
    playwright" through Playwright's driver, "govaudit chromium" on /usr/bin/chromium
    (GOVAUDIT_CHROMIUM), the binary pa11y-ci uses;
    axe tags wcag2a/wcag21a/wcag2aa/wcag21aa/best-practice so that both tools run the
    same rules;
  * pa11y-ci (npm, installed into bench/ with PUPPETEER_SKIP_DOWNLOAD=1) on Debian's
    Chromium with the same flags, runner axe, standard WCAG2AA, at concurrency 1, 2 and 4;
    "pa11y-ci shell concurrency=N" runs it on the headless shell (at N > 1 pa11y-ci fails
    pages there: "Target.closeTarget: No target with given id found").

pa11y-ci's best setting is the fastest among those that tested every page: a run whose
pages failed ("Failed to run", counted in failed_to_run) was faster for not testing them.

``--repeat 3`` runs the set three times, interleaved (A B C D, A B C D, …), because the
machine drifts; the table shows each tool's median. Other variants (``--runs``) measure
one direction each: "govaudit 2 browsers" (one Chromium per page at once, as before),
"govaudit tabs=3", "govaudit no blocking", "govaudit block images",
"govaudit axe per tab" / "govaudit axe per page" (axe_on_new_document on / off),
"govaudit settle=2s" (waits for network idle, as pa11y does).

Prints pages per minute (wall clock of the whole process, browser start included), peak
memory of the process tree (PSS, so Chromium's shared pages are not counted twice), the
cores the tree used (CPU seconds over wall seconds; ``--breakdown``: memory by process kind
at the peak),
govaudit's speed against pa11y-ci's best setting and its memory against that setting's;
writes bench/results/a11y.json.
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
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))

from core.browser import CHROMIUM, CHROMIUM_ARGS, CHROMIUM_SHELL  # noqa: E402

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


def process_kind(p: psutil.Process) -> str:
    """'python', 'node', 'chromium browser', 'chromium renderer', … (for --breakdown)."""
    cmd = p.cmdline()
    name = os.path.basename(cmd[0]) if cmd else p.name()
    if "chrom" in name or "headless" in name:
        kind = next((a.split("=", 1)[1] for a in cmd if a.startswith("--type=")), "browser")
        return f"chromium {kind}"
    return "python" if name.startswith("python") else name


class TreeSampler:
    """Peak memory (PSS, else RSS) of a process and all its descendants."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self.peak_procs = 0
        self.peak_parts: dict[str, int] = {}  # process kind → PSS at the peak
        self.cpu: dict[int, float] = {}  # pid → CPU seconds last seen (the tree's CPU use)
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
            parts: dict[str, int] = {}
            for p in procs:
                try:
                    info = p.memory_full_info()
                    mem = getattr(info, "pss", 0) or info.rss
                    total += mem
                    self.cpu[p.pid] = sum(p.cpu_times()[:2])
                    kind = process_kind(p)
                    parts[kind] = parts.get(kind, 0) + mem
                except psutil.Error:
                    pass
            if total > self.peak:
                self.peak, self.peak_procs, self.peak_parts = total, len(procs), parts
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
        "cpu_seconds": sum(sampler.cpu.values()),
        "peak_mib": sampler.peak / 2**20,
        "peak_procs": sampler.peak_procs,
        "peak_parts_mib": {k: round(v / 2**20, 1) for k, v in sampler.peak_parts.items()},
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
    options = dict(options)
    env = dict(os.environ, **options.pop("_env", {}))
    spec = json.dumps({"base": base, "paths": paths, "data": str(data), "options": options})
    r = timed([sys.executable, __file__, "--child", spec], env=env)
    if r["returncode"] != 0:
        raise SystemExit(f"govaudit child failed:\n{r['stderr'][-3000:]}")
    r["child"] = json.loads(r["stdout"].strip().splitlines()[-1])
    return r


# ---- pa11y-ci -------------------------------------------------------------------------------
def run_pa11y(
    base: str, paths: list[str], work: Path, concurrency: int, chromium: str = CHROMIUM
) -> dict:
    exe = BENCH / "node_modules" / ".bin" / "pa11y-ci"
    cfg = {
        "defaults": {
            "chromeLaunchConfig": {
                "executablePath": chromium,
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
    path = work / f"pa11yci-{concurrency}-{Path(chromium).name}.json"
    path.write_text(json.dumps(cfg), encoding="utf-8")
    env = dict(os.environ, PUPPETEER_SKIP_DOWNLOAD="1")
    r = timed([str(exe), "--config", str(path), "--json"], cwd=BENCH, env=env)
    try:
        doc = json.loads(r["stdout"])
        # A URL pa11y could not run has one result without an issue code ("Failed to run").
        failed = [
            url
            for url, issues in (doc.get("results") or {}).items()
            if any(isinstance(i, dict) and "code" not in i for i in issues)
        ]
        r["child"] = {
            "passes": doc.get("passes"),
            "errors": doc.get("errors"),
            "total": doc.get("total"),
            "failed_to_run": len(failed),
            "failure": next(iter(doc["results"][failed[0]]), {}).get("message") if failed else "",
        }
    except (json.JSONDecodeError, ValueError):
        r["child"] = {"unparsed": r["stdout"][-500:], "stderr": r["stderr"][-1500:]}
    return r


IMAGES = ["*.png", "*.gif", "*.jpg", "*.jpeg", "*.webp", "*.svg", "*.ico", "*.bmp"]


def variants(common: dict) -> dict[str, dict]:
    """govaudit's runs: label → plugin options."""
    from audits.accessibility import BLOCKED_URLS

    return {
        "govaudit": dict(common),
        "govaudit chromium": dict(common, _env={"GOVAUDIT_CHROMIUM": CHROMIUM}),
        "govaudit playwright": dict(common, driver="playwright"),
        "govaudit tabs=1": dict(common, concurrency=1),
        "govaudit tabs=2": dict(common, concurrency=2),
        "govaudit no heap trim": dict(common, tab_heap_mb=0),
        "govaudit 2 browsers": dict(common, concurrency=2, pages_per_browser=1),
        "govaudit tabs=3": dict(common, concurrency=3),
        "govaudit tabs=4": dict(common, concurrency=4),
        "govaudit no blocking": dict(common, blocked_urls=[]),
        "govaudit block images": dict(common, blocked_urls=[*BLOCKED_URLS, *IMAGES]),
        "govaudit settle=2s": dict(common, settle_timeout=2.0),
        "govaudit axe per tab": dict(common, axe_on_new_document=True),
        "govaudit axe per page": dict(common, axe_on_new_document=False),
    }


def median(values: list[float]) -> float:
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=57)
    ap.add_argument("--repeat", type=int, default=3, help="interleaved runs of each tool")
    ap.add_argument("--skip-pa11y", action="store_true")
    ap.add_argument(
        "--runs",
        default="govaudit,pa11y-ci concurrency=1,pa11y-ci concurrency=2,pa11y-ci concurrency=4",
        help="comma-separated subset of the runs, in order",
    )
    ap.add_argument(
        "--breakdown", action="store_true", help="print each run's memory by process kind"
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
    n = args.pages
    wanted = [x.strip() for x in args.runs.split(",")]
    runs: dict[str, Any] = {}
    common = {"tags": TAGS, "screenshots": True, "check_entry": True}
    for label, options in variants(common).items():
        runs[label] = lambda o=options, lb=label: run_govaudit(
            base, paths, work, o, lb.replace(" ", "-").replace("=", "")
        )
    if not args.skip_pa11y:
        if not (BENCH / "node_modules" / ".bin" / "pa11y-ci").exists():
            raise SystemExit("pa11y-ci missing: cd bench && PUPPETEER_SKIP_DOWNLOAD=1 npm ci")
        for c in (1, 2, 4):
            runs[f"pa11y-ci concurrency={c}"] = lambda c=c: run_pa11y(base, paths, work, c)
            runs[f"pa11y-ci shell concurrency={c}"] = lambda c=c: run_pa11y(
                base, paths, work, c, CHROMIUM_SHELL
            )
    order = [label for label in wanted if label in runs]
    results: dict[str, list[dict]] = {label: [] for label in order}
    loads: list[float] = []
    try:
        for rep in range(args.repeat):
            for label in order:
                print(f"run {rep + 1}/{args.repeat}: {label} …", file=sys.stderr, flush=True)
                r = runs[label]()
                r["load_average"] = os.getloadavg()[0]
                loads.append(r["load_average"])
                results[label].append(r)
                print(
                    f"  {r['seconds']:.1f} s, {n / r['seconds'] * 60:.1f} pages/min, "
                    f"peak {r['peak_mib']:.0f} MiB, {r['cpu_seconds'] / r['seconds']:.2f} cores, "
                    f"load {r['load_average']:.1f}; "
                    f"{json.dumps(r['child'])[:200]}",
                    file=sys.stderr,
                    flush=True,
                )
                if args.breakdown:
                    parts = sorted(r["peak_parts_mib"].items(), key=lambda kv: -kv[1])
                    print("    at the peak: " + ", ".join(f"{k} {v:.0f}" for k, v in parts))
    finally:
        server.terminate()
        server.wait()
    summary = {}
    for label, rs in results.items():
        summary[label] = {
            "pages_per_minute": median([n / r["seconds"] * 60 for r in rs]),
            "peak_mib": median([r["peak_mib"] for r in rs]),
            "runs": [{k: v for k, v in r.items() if k not in ("stdout", "stderr")} for r in rs],
        }
    print(
        f"\n{n} pages, {os.cpu_count()} CPUs, median of {args.repeat} interleaved runs; "
        f"load average during the runs {min(loads, default=0):.1f}–{max(loads, default=0):.1f}"
    )
    print("| tool | pages/min | peak PSS | runs (pages/min) |")
    print("|---|---:|---:|---|")
    for label, v in summary.items():
        each = ", ".join(f"{n / r['seconds'] * 60:.1f}" for r in results[label])
        print(f"| {label} | {v['pages_per_minute']:.1f} | {v['peak_mib']:.0f} MB | {each} |")
    # pa11y's best setting among those that tested every page (on the headless shell its
    # concurrent runs fail pages: "Target.closeTarget: No target found", which is faster).
    theirs = [
        k
        for k in summary
        if k.startswith("pa11y-ci") and all(not r["child"].get("failed_to_run") for r in results[k])
    ]
    if theirs:
        best = max(theirs, key=lambda k: summary[k]["pages_per_minute"])
        for mine in (k for k in summary if k.startswith("govaudit")):
            speed = summary[mine]["pages_per_minute"] / summary[best]["pages_per_minute"]
            memory = summary[mine]["peak_mib"] / summary[best]["peak_mib"]
            print(
                f"{mine} against {best} (pa11y-ci's best): {speed:.2f}× speed, {memory:.2f}× memory"
            )
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    (out / "a11y.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
