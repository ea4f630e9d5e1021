"""Link resolution through the shared cache gives exactly ``urljoin`` + normalisation."""

from __future__ import annotations

import random
from urllib.parse import urljoin

import pytest

from crawler.extract import _Resolver
from crawler.scope import normalize_url

_BASES = [
    "http://h.cn/",
    "http://h.cn/a/b/c.html",
    "https://h.cn:8443/a/b/",
    "http://h.cn/a;p/b;q?x=/y#f",
    "http://u@h.cn/a/b",
    "http://h.cn",
    "http://h.cn/a/b/c.html?q=1",
    "ftp://x/y/",
    "about:blank",
    "http://[::1]:8080/x/y",
    "http://h.cn/a//b/c",
    "HTTP://H.CN/A/b.html",
]
_PIECES = [
    *"ab/.:?#;%@-_~+=&\t\n\r \x01\\[]1",
    "//",
    "..",
    "./",
    "../",
    "http:",
    "https:",
    "HTTP://",
    "//h2",
    "文",
    ":80",
    "mailto:",
    "x:",
    "a+b:",
]


def _expected(base: str, value: str, encoding: str) -> str | None | type[Exception]:
    """What parse_html did before the cache: urljoin (errors: no link), then normalise."""
    try:
        absolute = urljoin(base, value)
    except ValueError:
        return None
    try:
        return normalize_url(absolute, encoding)
    except ValueError:
        return ValueError


def _got(base: str, value: str, encoding: str) -> str | None | type[Exception]:
    try:
        return _Resolver(base, encoding).resolve(value)
    except ValueError:
        return ValueError


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_cached_resolution_matches_urljoin(encoding: str) -> None:
    rng = random.Random(7)
    for _ in range(20_000):
        base = rng.choice(_BASES)
        value = "".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 8))).strip()
        if not value:
            continue
        assert _got(base, value, encoding) == _expected(base, value, encoding), (base, value)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://h.cn/a/../b", "http://h.cn/b"),
        ("http://h.cn/a/b/./../c/", "http://h.cn/a/c/"),
        ("http://h.cn/a/b/..", "http://h.cn/a/"),
        ("http://h.cn/..", "http://h.cn/"),
        # A path that starts with // stays a path: "a" is not a host, and a bracket in
        # it neither raises (which made the whole page an error) nor drops the link.
        ("http://h.cn//a/./b", "http://h.cn//a/b"),
        ("http://h.cn//[x/./y", "http://h.cn//[x/y"),
    ],
)
def test_dot_segments_are_removed_from_the_path_alone(url: str, expected: str) -> None:
    assert normalize_url(url) == expected
