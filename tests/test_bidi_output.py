"""Right-to-left override characters from a page never reverse text in what we write
(issue 17, item 10): a link text carrying U+202E reaches report.html, the workbook and the
unit's mail (a real `govaudit audit` and `govaudit mail --dry-run`) as a visible mark.
"""

from __future__ import annotations

import email
import email.policy
import zipfile
from pathlib import Path

from tests.loopback import LoopbackServer, run_govaudit

RLO = "\u202e"


def test_bidi_controls_are_shown_not_obeyed(tmp_path: Path) -> None:
    with LoopbackServer() as srv:
        srv.route(
            "/",
            html=f'<html><head><title>首页</title></head><body><a href="/gone">{RLO}gpj.exe 年度报告</a></body></html>',
        )
        data = tmp_path / "data"
        out = tmp_path / "out"
        cfg = tmp_path / "govaudit.toml"
        cfg.write_text(
            f'data_dir = "{data}"\n[[units.unit]]\nname = "信息中心"\nemails = ["xxzx@example.gov.cn"]\n',
            encoding="utf-8",
        )
        proc = run_govaudit(
            "audit",
            srv.url("/"),
            "--plugins",
            "links",
            "--config",
            str(cfg),
            "--out",
            str(out),
            "-q",
        )
        assert proc.returncode == 1, proc.stderr
        mail = run_govaudit("mail", "--dry-run", "--config", str(cfg))
        assert mail.returncode == 0, mail.stderr

    html = (out / "report.html").read_text(encoding="utf-8")
    assert "gpj.exe" in html and RLO not in html and "‹U+202E›gpj.exe" in html
    with zipfile.ZipFile(out / "整改清单.xlsx") as z:
        sheets = "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))
    assert "gpj.exe" in sheets and RLO not in sheets
    emls = list(data.glob("runs/*/mail/*.eml"))
    assert emls
    for eml in emls:
        msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        for part in msg.walk():
            if part.get_content_maintype() == "text":
                assert RLO not in part.get_content()
    bodies = "".join(
        part.get_content()
        for eml in emls
        for part in email.message_from_bytes(eml.read_bytes(), policy=email.policy.default).walk()
        if part.get_content_maintype() == "text"
    )
    assert "‹U+202E›gpj.exe" in bodies
