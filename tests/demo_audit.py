"""`govaudit audit` of the running demo bureau, as a user runs it, for the end-to-end tests:
the demo's date, a set of plugins, findings.json read back."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from govaudit.demo.server import DemoSite
from tests.loopback import run_govaudit

#: The day the demo's dates are written for (every demo test audits "as of" it).
ANCHOR = date(2026, 11, 26)


def audit_demo(
    demo: DemoSite,
    data: Path,
    plugins: str,
    *extra: str,
    codes: tuple[int, ...] = (1,),
    timeout: float = 240,
    config_extra: str = "",
) -> dict:
    """Write the demo's config into ``data`` (``config_extra`` appended: more TOML),
    audit it with ``plugins`` (and ``extra`` flags), check the exit code is one of
    ``codes``; returns findings.json as a dict."""
    config = demo.write_config(data)
    if config_extra:
        with open(config, "a", encoding="utf-8") as fh:
            fh.write("\n" + config_extra)
    proc = run_govaudit(
        "audit",
        "--config",
        str(config),
        "--today",
        ANCHOR.isoformat(),
        "--plugins",
        plugins,
        "--out",
        str(data / "out"),
        *extra,
        timeout=timeout,
    )
    assert proc.returncode in codes, proc.stderr[-3000:]
    return json.loads((data / "out" / "findings.json").read_text(encoding="utf-8"))
