"""Throughput of ``executor = "celery"``: N small sites on loopback, one worker versus two.

    .venv/bin/python bench/workers_bench.py                 # 60 sites × 200 pages
    .venv/bin/python bench/workers_bench.py --sites 8 --pages 100

Each site is the generated bureau site (bench/gen_site.py) on its own loopback port; every
run audits it with the links and columns plugins. The scheduler (``govaudit serve``) idles
while the bench sends one run per site straight to the queue (the same message a schedule
sends), then waits until every run row has ended. Prints runs per hour, the peak RSS of each
worker (its process and the audit children), the scheduler's CPU while idle, and how
throughput scales from one worker to two (each worker runs one audit at a time).
Real Redis and PostgreSQL servers on loopback (tests/dbservers.py), no network.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from gen_site import generate  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from core.config import load_config  # noqa: E402
from pipeline.celery_app import TASK, make_app  # noqa: E402
from pipeline.executors import RunRequest  # noqa: E402
from reports.store import Store, runs  # noqa: E402
from tests.dbservers import PostgresServer, RedisServer, free_port  # noqa: E402

SITES_SERVER = """
import sys, threading, functools
from http.server import ThreadingHTTPServer, SimpleHTTPRequestHandler
class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
root, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
for port in ports:
    srv = ThreadingHTTPServer(("127.0.0.1", port), functools.partial(Quiet, directory=root))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
"""


def toml_value(v: object) -> str:
    return json.dumps(v, ensure_ascii=False)


def write_config(path: Path, data: Path, db: str, broker: str, ports: list[int]) -> None:
    lines = [
        f"data_dir = {toml_value(str(data))}",
        f"database_url = {toml_value(db)}",
        'executor = "celery"',
        "[crawl]\nobey_robots = false\ncheck_external = false\ntimeout = 30\nretries = 0",
        '[plugins]\nenabled = ["links", "columns"]',
        "[availability]\nenabled = false",
        f"[serve]\nport = {free_port()}\nrun_timeout = 1800",
        f"[workers]\nbroker_url = {toml_value(broker)}",
    ]
    for i, port in enumerate(ports):
        lines.append(
            f'[[sites]]\nname = "s{i:02d}"\nurls = ["http://127.0.0.1:{port}/"]\n'
            '[[sites.schedule]]\nname = "weekly"\ncron = "0 2 * * 1"'
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def tree_rss(proc: psutil.Process) -> int:
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def measure(n_workers: int, cfg: Path, store: Store, n_sites: int, tag: str) -> dict:
    config = load_config(cfg)
    env = {**os.environ, "GOVAUDIT_TODAY": "2026-11-25"}
    logs = cfg.parent / "logs"
    logs.mkdir(exist_ok=True)
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "govaudit.cli", "worker", "--config", str(cfg)]
            + ["--concurrency", "1"],
            stdout=open(logs / f"{tag}-worker{i}.log", "wb"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
            env=env,
        )
        for i in range(n_workers)
    ]
    peaks = [0] * n_workers
    stop = threading.Event()

    def sample() -> None:
        handles = [psutil.Process(w.pid) for w in workers]
        while not stop.wait(0.5):
            for i, h in enumerate(handles):
                peaks[i] = max(peaks[i], tree_rss(h))

    time.sleep(8)  # workers connect
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    app = make_app(config)
    with store.engine.connect() as conn:
        before = int(conn.execute(select(func.max(runs.c.id))).scalar() or 0)
    started = time.monotonic()
    for i in range(n_sites):
        req = RunRequest(schedule=f"s{i:02d}/weekly", run_key=f"{tag}-{i}", site=f"s{i:02d}")
        app.send_task(TASK, kwargs=asdict(req), queue=config.workers.queue)
    while True:
        with store.engine.connect() as conn:
            done = conn.execute(
                select(func.count()).where(runs.c.id > before, runs.c.status != "running")
            ).scalar()
        if done >= n_sites:
            break
        time.sleep(1)
    elapsed = time.monotonic() - started
    stop.set()
    with store.engine.connect() as conn:
        statuses = dict(
            conn.execute(
                select(runs.c.status, func.count())
                .where(runs.c.id > before)
                .group_by(runs.c.status)
            ).all()
        )
    for w in workers:
        w.terminate()
    for w in workers:
        w.wait(60)
    app.close()
    return {
        "workers": n_workers,
        "runs": n_sites,
        "statuses": statuses,
        "seconds": round(elapsed, 1),
        "runs_per_hour": round(n_sites / elapsed * 3600, 1),
        "peak_rss_mb": [round(p / 2**20) for p in peaks],
    }


def scheduler_idle_cpu(cfg: Path, seconds: float = 30) -> float:
    """CPU seconds per minute of an idle 'govaudit serve' (celery executor, N schedules)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "govaudit.cli", "serve", "--config", str(cfg)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(15)  # start-up
        p = psutil.Process(proc.pid)
        t0 = sum(p.cpu_times()[:2])
        time.sleep(seconds)
        t1 = sum(p.cpu_times()[:2])
        return (t1 - t0) / seconds * 60
    finally:
        proc.terminate()
        proc.wait(60)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sites", type=int, default=60)
    ap.add_argument("--pages", type=int, default=200)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="govaudit-workers-bench-"))
    generate(tmp / "site", n=args.pages)
    ports = [free_port() for _ in range(args.sites)]
    sites = subprocess.Popen(
        [sys.executable, "-c", SITES_SERVER, str(tmp / "site"), *map(str, ports)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert sites.stdout is not None and sites.stdout.readline().strip() == "ready"
    pg, redis = PostgresServer().start(), RedisServer().start()
    try:
        results = []
        for n in (1, 2):
            db = pg.create_database()
            cfg = tmp / f"bench{n}.toml"
            write_config(cfg, tmp / f"data{n}", db, redis.url, ports)
            store = Store.in_dir(tmp / f"data{n}", db)
            results.append(measure(n, cfg, store, args.sites, f"w{n}"))
            print(json.dumps(results[-1], ensure_ascii=False), flush=True)
        idle = scheduler_idle_cpu(tmp / "bench1.toml")
        one, two = results
        print(f"\n{args.sites} sites × {args.pages} pages, links + columns, {os.cpu_count()} cores")
        for r in results:
            print(
                f"  {r['workers']} worker(s): {r['runs_per_hour']:.0f} runs/hour "
                f"({r['seconds']:.0f} s), peak RSS per worker {r['peak_rss_mb']} MB"
            )
        print(f"  scaling 1 → 2 workers: {two['runs_per_hour'] / one['runs_per_hour']:.2f}×")
        print(f"  idle scheduler ({args.sites} schedules): {idle:.2f} CPU s per minute")
    finally:
        sites.kill()
        pg.stop()
        redis.stop()


if __name__ == "__main__":
    main()
