"""``[[sites]]``: entries over the top-level defaults, their schedules, ``runs --site``, the
executor keys' validation, and the dashboard's rows from the store."""

from __future__ import annotations

import pytest

from core.config import ConfigError, config_from_dict
from reports.dashboard import render_sites
from reports.store import Store
from scheduler import schedule_entries

BASE = {
    "mail": {"host": "smtp.example.org", "info_centre": ["xxzx@example.org"]},
    "units": {"default": "信息中心"},
    "crawl": {"max_pages": 300},
    "sites": [
        {
            "name": "a",
            "title": "甲局",
            "urls": ["http://a.example.gov.cn/"],
            "mail": {"info_centre": ["a@example.org"]},
            "crawl": {"max_depth": 3},
            "schedule": [{"name": "weekly", "cron": "0 2 * * 1"}],
        },
        {
            "name": "b",
            "urls": ["http://b.example.gov.cn/"],
            "schedule": [{"name": "weekly", "cron": "0 3 * * 1"}, {"cron": "0 4 * * *"}],
        },
    ],
}


def test_a_site_takes_the_top_level_and_its_own_tables_over_it():
    config = config_from_dict(BASE)
    a, b = config.for_site("a"), config.for_site("b")
    assert a.homepage == "http://a.example.gov.cn/" and a.site.name == "甲局"
    assert a.mail.host == "smtp.example.org" and a.mail.info_centre == ["a@example.org"]
    assert (a.crawl.max_pages, a.crawl.max_depth) == (300, 3)
    assert b.mail.info_centre == ["xxzx@example.org"] and b.site.name == "b"
    assert list(schedule_entries(config)) == ["a/weekly", "b/weekly", "b/schedule-2"]
    with pytest.raises(ConfigError, match="no such"):
        config.for_site("c")


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"sites": [{"name": "a"}, {"name": "a"}]}, "used twice"),
        ({"sites": [{"name": "a", "crawl": {"max_pagez": 1}}]}, "max_pagez"),
        ({"serve": {"run_timeout": 100}, "workers": {"visibility_timeout": 50}}, "must exceed"),
        ({"executor": "kubernetes"}, "executor"),
    ],
)
def test_bad_sites_and_executor_settings_are_config_errors(change, fragment):
    with pytest.raises(ConfigError, match=fragment):
        config_from_dict({**BASE, **change})


def test_runs_and_the_dashboard_know_the_sites(tmp_path, capsys):
    from govaudit.cli import main

    data = tmp_path / "data"
    store = Store.in_dir(data)
    for site in ("http://a.example.gov.cn/", "http://b.example.gov.cn/"):
        run = store.create_run(site, {}, [site])
        store.finish_run(
            run,
            "succeeded",
            summary={
                "score": 55.0,
                "verdict": "不合格",
                "veto": ["首页不更新"],
                "counts": {"error": 4},
                "overdue": 2,
            },
        )
    cfg = tmp_path / "sites.toml"
    cfg.write_text(
        f'data_dir = "{data}"\n'
        '[[sites]]\nname = "a"\ntitle = "甲局"\nurls = ["http://a.example.gov.cn/"]\n'
        '[[sites]]\nname = "b"\nurls = ["http://b.example.gov.cn/"]\n',
        encoding="utf-8",
    )
    assert main(["runs", "--config", str(cfg), "--site", "a"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "http://a.example.gov.cn/" in out[0] and "[a]" in out[0]
    html = render_sites(store, config_from_dict({"sites": BASE["sites"]}).site_configs())
    assert html.count("<tr class='site'>") == 2
    assert "甲局" in html and "不合格" in html and "首页不更新" in html
    assert "/runs/1/report.html" in html and "/runs/2/report.html" in html
