"""Benchmark of the columns, disclosure_dates and identity plugins over a stored snapshot.

Builds a synthetic bureau site (a few thousand list and article pages) into a real SQLite
store, runs the three plugins with ``audits.runner.run_audits`` and prints pages/s (CPU
and wall) and peak memory. Run: ``.venv/bin/python bench/disclosure_bench.py [COLUMNS]``.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audits.runner import run_audits  # noqa: E402
from core.config import config_from_dict  # noqa: E402
from tests.disclosure_site import HOME, ago, article, build_run, column_list, good_site  # noqa: E402


def site(columns: int, per_column: int = 40) -> dict[str, str]:
    pages = good_site()
    body = "<p>" + "国土空间规划管理工作正文内容。" * 150 + "</p>"
    for c in range(columns):
        items = [
            (f"/c{c}/{i}.html", f"第{c}栏目第{i}条信息的标题比较长一些", ago(i * 7 % 400))
            for i in range(per_column)
        ]
        pages[f"/c{c}/"] = column_list(f"栏目{c}工作动态", items)
        for href, title, when in items:
            pages[href] = article(title, when, body, f"栏目{c}工作动态")
    return pages


def main() -> None:
    columns = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    pages = site(columns)
    store, run_id = build_run(Path(tempfile.mkdtemp(prefix="govaudit-bench-")), pages)
    config = config_from_dict({"site": {"urls": [HOME]}})
    wall, cpu = time.perf_counter(), time.process_time()
    result = run_audits(
        store, run_id, config, ["columns", "disclosure_dates", "identity"], today=date(2026, 11, 26)
    )
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"disclosure plugins: {len(pages)} pages, {len(result.findings)} findings; "
        f"{len(pages) / cpu:.0f} pages/s CPU, {len(pages) / wall:.0f} pages/s wall, "
        f"peak RSS {peak:.0f} MB"
    )


if __name__ == "__main__":
    main()
