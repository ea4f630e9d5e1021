"""Overhead of the availability monitor in the idle service (``govaudit serve``).

Starts a static homepage on loopback (python -m http.server, its own process), then runs the
real service twice for ``--seconds`` each: with probes every ``--interval`` seconds, and with
``availability.enabled = false``. CPU time and resident memory of the service process are read
with psutil; the difference per probe, scaled to 10 sites probed every 10 minutes (60 probes
an hour), is the monitor's cost.

    .venv/bin/python bench/availability_bench.py [--seconds 60] [--interval 1]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_service(tmp: Path, home: str, enabled: bool, interval: float, seconds: float) -> dict:
    data = tmp / ("on" if enabled else "off")
    cfg = tmp / f"{data.name}.toml"
    cfg.write_text(
        f"data_dir = {json.dumps(str(data))}\n[site]\nurls = [{json.dumps(home)}]\n"
        f"[availability]\nenabled = {'true' if enabled else 'false'}\n"
        f"interval_seconds = {interval}\njitter_seconds = 0\n"
        f"[serve]\nport = {free_port()}\n",
        encoding="utf-8",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "govaudit.cli", "serve", "--config", str(cfg)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    p = psutil.Process(proc.pid)
    time.sleep(5)  # imports and start-up are not the monitor's cost
    cpu0 = sum(p.cpu_times()[:2])
    t0 = time.monotonic()
    time.sleep(seconds)
    cpu = sum(p.cpu_times()[:2]) - cpu0
    elapsed = time.monotonic() - t0
    rss = p.memory_info().rss
    proc.terminate()
    proc.wait(30)
    probes = 0
    db = data / "govaudit.sqlite"
    if enabled and db.exists():
        with sqlite3.connect(db) as conn:
            probes = conn.execute("select count(*) from probes").fetchone()[0]
    return {"cpu_s": cpu, "elapsed_s": elapsed, "rss_mb": rss / 2**20, "probes": probes}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--interval", type=float, default=1.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        (tmp / "www").mkdir()
        (tmp / "www" / "index.html").write_text(
            "<html><head><title>首页</title></head><body>" + "新闻 " * 4000 + "</body></html>",
            encoding="utf-8",
        )
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
            cwd=tmp / "www",
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(1)
            home = f"http://127.0.0.1:{port}/"
            on = run_service(tmp, home, True, args.interval, args.seconds)
            off = run_service(tmp, home, False, args.interval, args.seconds)
        finally:
            server.terminate()
    per_probe_ms = max(0.0, on["cpu_s"] - off["cpu_s"]) / max(on["probes"], 1) * 1000
    per_hour = 10 * 6  # 10 sites, every 10 minutes
    print(f"machine: {os.cpu_count()} cores; {args.seconds:g} s per measurement")
    print(
        f"service without probes: {off['cpu_s']:.2f} CPU s in {off['elapsed_s']:.0f} s "
        f"({off['cpu_s'] / off['elapsed_s'] * 100:.2f}% of a core), RSS {off['rss_mb']:.0f} MB"
    )
    print(
        f"service probing every {args.interval:g} s: {on['probes']} probes, {on['cpu_s']:.2f} CPU s "
        f"({on['cpu_s'] / on['elapsed_s'] * 100:.2f}% of a core), RSS {on['rss_mb']:.0f} MB"
    )
    print(f"CPU per probe (stored, alert state checked): {per_probe_ms:.1f} ms")
    print(
        f"10 sites every 10 minutes = {per_hour} probes/hour: "
        f"{per_probe_ms * per_hour / 1000:.2f} CPU s per hour "
        f"({per_probe_ms * per_hour / 3600 / 10:.4f}% of a core) on top of the idle service; "
        f"memory: {on['rss_mb'] - off['rss_mb']:+.0f} MB"
    )


if __name__ == "__main__":
    main()
