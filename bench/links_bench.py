"""Benchmark: a links-only `govaudit audit` against LinkChecker on the same static site.

    .venv/bin/python bench/links_bench.py [--pages 5000] [--shipped-pages 300] [--flat 50000]
                                         [--repeat 3]

Generates an N-page site (bench/gen_site.py), serves it with nginx on loopback (a
server that is not the bottleneck), then times, under /usr/bin/time -v:
  * govaudit (links plugin only; obey_robots off, no AutoThrottle, higher concurrency),
  * LinkChecker with ``maxrequestspersecond`` raised (the site sends the ``LinkChecker``
    header LinkChecker requires before it lifts its per-host 0.1-0.6 s wait),
  * LinkChecker as shipped (on a smaller site: it sleeps 0.1-0.6 s between requests to
    one host, so 5,000 pages would take half an hour),
and prints wall time, pages/s, CPU seconds per page, peak RSS and the ratios. The two tools
run ``--repeat`` times each on the same site, interleaved, and the median run is reported. With
``--flat N`` it also runs govaudit on an N-page site to show memory stays flat.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.gen_site import generate  # noqa: E402

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
TIME = "/usr/bin/time"
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Nginx:
    def __init__(self, root: Path, work: Path) -> None:
        self.port = free_port()
        self.work = work
        conf = work / "nginx.conf"
        conf.write_text(
            f"""
worker_processes 2;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    types {{ text/html html; image/png png; application/pdf pdf; }}
    default_type application/octet-stream;
    client_body_temp_path {work}/nginx-tmp;
    proxy_temp_path {work}/nginx-tmp;
    fastcgi_temp_path {work}/nginx-tmp;
    uwsgi_temp_path {work}/nginx-tmp;
    scgi_temp_path {work}/nginx-tmp;
    server {{
        listen 127.0.0.1:{self.port};
        root {root};
        index index.html;
        add_header LinkChecker govaudit-bench;
    }}
}}
"""
        )
        (work / "nginx-tmp").mkdir(exist_ok=True)
        self.proc = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(work)])
        for _ in range(50):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("nginx did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> dict:
    """Run under /usr/bin/time -v; wall, CPU (user+sys) and peak RSS of the process tree."""
    start = time.perf_counter()
    proc = subprocess.run(
        [TIME, "-v", *cmd],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    wall = time.perf_counter() - start
    err = proc.stderr

    def field(name: str) -> float:
        m = re.search(rf"{re.escape(name)}: ([0-9.:]+)", err)
        return float(m.group(1)) if m else 0.0

    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(field("User time (seconds)") + field("System time (seconds)"), 2),
        "peak_rss_mb": round(field("Maximum resident set size (kbytes)") / 1024, 1),
        "returncode": proc.returncode,
        "stdout": proc.stdout,
        "stderr": err,
    }


def run_govaudit(url: str, pages: int, work: Path, concurrency: int) -> dict:
    cfg = work / "govaudit-bench.toml"
    cfg.write_text(
        f"""
[site]
urls = ["{url}"]
[crawl]
max_pages = {2 * pages + 1000}
max_depth = 100
obey_robots = false
autothrottle = false
concurrency = {concurrency}
concurrency_per_host = {concurrency}
timeout = 15
[plugins]
enabled = ["links"]
"""
    )
    data = work / "ga-data"
    shutil.rmtree(data, ignore_errors=True)
    r = timed(
        [
            sys.executable,
            "-m",
            "govaudit.cli",
            "audit",
            "--config",
            str(cfg),
            "--plugins",
            "links",
            "--data-dir",
            str(data),
            "--out",
            str(work / "ga-out"),
        ],
        cwd=work,
    )
    findings = json.loads((work / "ga-out" / "findings.json").read_text(encoding="utf-8"))
    r["pages"] = findings["run"]["pages_crawled"]
    r["links_checked"] = findings["run"]["links_checked"]
    r["broken_findings"] = sum(1 for f in findings["findings"] if f["rule"] == "links.broken")
    crawl = re.findall(r"crawl: .*", r["stderr"])
    r["last_progress"] = crawl[-1] if crawl else ""
    return r


def run_linkchecker(url: str, work: Path, raised: bool) -> dict:
    cfg = work / ("lc-raised.rc" if raised else "lc-shipped.rc")
    cfg.write_text("[checking]\n" + ("maxrequestspersecond=1000\n" if raised else ""))
    os.chmod(cfg, 0o644)
    exe = VENV_BIN / "linkchecker"
    r = timed([str(exe), "--no-status", "-f", str(cfg), url], cwd=work)
    m = re.search(r"(\d+) links? in (\d+) URLs? checked", r["stdout"])
    r["links"] = int(m.group(1)) if m else 0
    r["urls"] = int(m.group(2)) if m else 0
    m = re.search(r"(\d+) errors? found", r["stdout"])
    r["errors"] = int(m.group(1)) if m else 0
    return r


def median_run(runs: list[dict]) -> dict:
    """The run with the median wall time (the slower middle one for an even count)."""
    ordered = sorted(runs, key=lambda r: r["wall_s"])
    return ordered[len(ordered) // 2]


def summarize(name: str, r: dict, pages: int) -> dict:
    return {
        "tool": name,
        "pages": pages,
        "wall_s": r["wall_s"],
        "pages_per_s": round(pages / r["wall_s"], 1) if r["wall_s"] else 0,
        "cpu_s_per_page_ms": round(1000 * r["cpu_s"] / pages, 2) if pages else 0,
        "peak_rss_mb": r["peak_rss_mb"],
    }


def site(work: Path, name: str, pages: int) -> tuple[Path, dict]:
    root = work / name
    info = generate(root, pages)
    os.chmod(work, 0o755)
    for dirpath, _dirs, _files in os.walk(root):
        os.chmod(dirpath, 0o755)
    return root, info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--pages", type=int, default=5000)
    ap.add_argument("--shipped-pages", type=int, default=300, help="0 skips LinkChecker as shipped")
    ap.add_argument("--flat", type=int, default=0, help="also run govaudit on an N-page site")
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--no-linkchecker", action="store_true")
    ap.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of each tool on the 5,000-page site, interleaved; the median run is reported",
    )
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="govaudit-bench-"))
    results: list[dict] = []
    try:
        root, info = site(work, "site", args.pages)
        print(f"site: {json.dumps(info)}", flush=True)
        os.sync()  # the generated files' writeback must not land in the first timed run
        server = Nginx(root, work)
        try:
            # Interleaved repeats, median reported: this shared machine's speed drifts by
            # tens of percent from one minute to the next.
            ga_runs, lc_runs = [], []
            for i in range(max(1, args.repeat)):
                ga = run_govaudit(server.url, args.pages, work, args.concurrency)
                print(
                    f"govaudit #{i + 1}: rc={ga['returncode']} {ga['last_progress']} "
                    f"broken findings={ga['broken_findings']} wall {ga['wall_s']} s",
                    flush=True,
                )
                ga_runs.append(ga)
                if not args.no_linkchecker:
                    lc = run_linkchecker(server.url, work, raised=True)
                    print(
                        f"linkchecker raised #{i + 1}: {lc['urls']} URLs, {lc['errors']} errors, "
                        f"wall {lc['wall_s']} s",
                        flush=True,
                    )
                    lc_runs.append(lc)
            ga = median_run(ga_runs)
            results.append(summarize("govaudit", ga, ga["pages"]))
            if lc_runs:
                results.append(
                    summarize(
                        "linkchecker (maxrequestspersecond raised)", median_run(lc_runs), args.pages
                    )
                )
        finally:
            server.stop()
        if args.shipped_pages and not args.no_linkchecker:
            small, _ = site(work, "small", args.shipped_pages)
            server = Nginx(small, work)
            try:
                lc = run_linkchecker(server.url, work, raised=False)
                print(f"linkchecker shipped: {lc['urls']} URLs", flush=True)
                results.append(summarize("linkchecker (as shipped)", lc, args.shipped_pages))
            finally:
                server.stop()
        if args.flat:
            big, _ = site(work, "flat", args.flat)
            server = Nginx(big, work)
            try:
                gb = run_govaudit(server.url, args.flat, work, args.concurrency)
                print(f"govaudit {args.flat}: {gb['last_progress']}", flush=True)
                results.append(summarize(f"govaudit ({args.flat} pages)", gb, gb["pages"]))
            finally:
                server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print()
    print(
        f"{'tool':<44}{'pages':>7}{'wall s':>9}{'pages/s':>9}{'CPU ms/page':>13}{'peak RSS MB':>13}"
    )
    for r in results:
        print(
            f"{r['tool']:<44}{r['pages']:>7}{r['wall_s']:>9}{r['pages_per_s']:>9}"
            f"{r['cpu_s_per_page_ms']:>13}{r['peak_rss_mb']:>13}"
        )
    by = {r["tool"]: r for r in results}
    ga_r = by.get("govaudit")
    for other in ("linkchecker (maxrequestspersecond raised)", "linkchecker (as shipped)"):
        if ga_r and other in by and by[other]["pages_per_s"]:
            o = by[other]
            print(
                f"govaudit vs {other}: {ga_r['pages_per_s'] / o['pages_per_s']:.1f}x pages/s, "
                f"{o['cpu_s_per_page_ms'] / max(ga_r['cpu_s_per_page_ms'], 1e-9):.1f}x less CPU/page, "
                f"RSS {ga_r['peak_rss_mb']} vs {o['peak_rss_mb']} MB"
            )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
