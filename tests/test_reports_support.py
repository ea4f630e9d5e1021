"""Helpers shared by the report tests (no tests here): real SQLite stores via the Store API."""

from __future__ import annotations

import hashlib
import struct
import zlib
from datetime import date
from pathlib import Path
from typing import Any

from core.config import Config, config_from_dict
from core.snapshot import Page
from reports.output import Written, write_run_outputs
from reports.store import Store

SITE = "http://www.demo-zrzy.gov.cn/"
HOSTILE = "<script>alert(1)</script>"


def png_bytes(width: int = 4, height: int = 3, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A real PNG image (so Chromium can decode it)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def make_config(data_dir: Path, **extra: Any) -> Config:
    data = {
        "site": {"urls": [SITE], "name": "示例市自然资源和规划局"},
        "data_dir": str(data_dir),
        "units": {
            "default": "信息中心",
            "unit": [{"name": "综合组", "emails": ["zhzu@example.gov.cn"]}],
            "map": [{"prefix": "/zwgk/", "unit": "综合组"}],
        },
    }
    data.update(extra)
    return config_from_dict(data)


def finding(
    rule: str,
    url: str | None,
    page: str | None,
    unit: str,
    severity: str = "error",
    message: str | None = None,
    evidence: dict[str, Any] | None = None,
) -> dict[str, Any]:
    fp = hashlib.sha1(f"{rule}|{url}|{page}".encode()).hexdigest()[:16]
    return {
        "plugin": rule.split(".")[0],
        "rule": rule,
        "severity": severity,
        "url": url,
        "page": page,
        "message": message or f"链接无法访问：{url}",
        "evidence": evidence if evidence is not None else {"status": "HTTP错误 404"},
        "unit": unit,
        "fingerprint": fp,
    }


def add_run(
    store: Store,
    config: Config,
    findings: list[dict[str, Any]],
    today: date,
    site_data: dict[str, Any] | None = None,
    plugins: tuple[str, ...] = ("links", "columns"),
    homepage_status: int = 200,
    out_dir: Path | None = None,
    screenshot: str | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> tuple[int, Written]:
    """One finished run: homepage page, findings, site data, then its report files."""
    run_id = store.create_run(SITE, config.model_dump(mode="json"), [SITE])
    store.add_pages(
        run_id,
        [Page(url=SITE, final_url=SITE, status_code=homepage_status, title=f"首页{HOSTILE}")],
    )
    if screenshot:
        shot = store.run_dir(run_id) / screenshot
        shot.parent.mkdir(parents=True, exist_ok=True)
        shot.write_bytes(png_bytes(40, 24))
    store.replace_findings(run_id, findings)
    for err in errors or []:
        store.add_run_error(run_id, err)
    store.update_run(run_id, plugins=list(plugins), site_data=site_data or {})
    written = write_run_outputs(store, run_id, config, out_dir, today=today)
    store.finish_run(run_id, "succeeded")
    return run_id, written


def chromium_args() -> list[str]:
    return [
        "--headless",
        "--no-sandbox",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-gpu",
    ]
