"""Config validation: errors name the key, the bad value and the fix; exit code 2."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest

from core.config import ConfigError, config_from_dict, load_config
from govaudit.example_config import EXAMPLE_CONFIG


def test_example_config_is_valid_and_complete():
    config = config_from_dict(tomllib.loads(EXAMPLE_CONFIG))
    assert config.homepage == "https://www.example.gov.cn/"
    assert [u.name for u in config.units.unit] == ["综合组", "信息中心"]
    assert config.schedule[1].plugins == ["links"]


@pytest.mark.parametrize(
    ("data", "key", "fragment"),
    [
        ({"crawl": {"max_pages": "many"}}, "crawl.max_pages", "'many'"),
        ({"crawl": {"max_pages": 0}}, "crawl.max_pages", "greater than or equal to 1"),
        ({"crawl": {"timout": 3}}, "crawl.timout", "did you mean 'timeout'"),
        ({"site": {"urls": ["ftp://x"]}}, "site.urls", "is not an http(s) URL"),
        ({"site": {"exclude": ["("]}}, "site.exclude", "not a valid regular expression"),
        ({"dns": {"resolve": ["host-only"]}}, "dns.resolve", "HOST:PORT:ADDR"),
        ({"dns": {"server": "dns.example"}}, "dns.server", "IP[:PORT]"),
        ({"mail": {"security": "tls"}}, "mail.security", "'starttls'"),
    ],
)
def test_config_errors_name_key_and_fix(data, key, fragment):
    with pytest.raises(ConfigError) as info:
        config_from_dict(data, "site.toml")
    text = str(info.value)
    assert "site.toml" in text
    assert key in text
    assert fragment in text


def test_missing_and_broken_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist.*govaudit init"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[site\nurls = 1", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


def _govaudit(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "govaudit.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_cli_bad_config_exits_2_with_one_line_reason(tmp_path):
    cfg = tmp_path / "site.toml"
    cfg.write_text(
        '[site]\nurls = ["http://127.0.0.1:9/"]\n[crawl]\nmax_depth = -1\n', encoding="utf-8"
    )
    result = _govaudit("audit", "--config", str(cfg), "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 2
    assert "crawl.max_depth" in result.stderr
    assert "Traceback" not in result.stderr
    # nothing ran, so nothing was stored
    assert not (tmp_path / "data").exists()


def test_cli_bad_flag_values_exit_2(tmp_path):
    result = _govaudit(
        "audit", "http://127.0.0.1:9/", "--resolve", "nonsense", "--data-dir", str(tmp_path)
    )
    assert result.returncode == 2
    assert "--resolve" in result.stderr and "HOST:PORT:ADDR" in result.stderr
    result = _govaudit(
        "audit", "http://127.0.0.1:9/", "--plugins", "nosuch", "--data-dir", str(tmp_path)
    )
    assert result.returncode == 2
    assert "nosuch" in result.stderr and "govaudit plugins" in result.stderr


def test_cli_init_writes_loadable_config(tmp_path):
    result = _govaudit("init", str(tmp_path / "g.toml"))
    assert result.returncode == 0, result.stderr
    assert load_config(tmp_path / "g.toml").site.name == "某市自然资源和规划局"
    again = _govaudit("init", str(tmp_path / "g.toml"))
    assert again.returncode == 2 and "--force" in again.stderr
