"""What the crawler follows: URL normalisation and the site's scope.

A URL is normalised once, when it is extracted: scheme and host lower-cased, default
port and fragment dropped, raw (Chinese) characters percent-encoded as browsers do
(path in UTF-8, query in the page's encoding), percent-escapes upper-cased. Two links
that a browser would fetch the same way normalise to the same string, so each target
is checked once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from w3lib.url import safe_url_string

from core.config import Config

_PCT_RE = re.compile(r"%[0-9a-fA-F]{2}")
_DEFAULT_PORTS = {"http": 80, "https": 443}

#: Targets that are not fetched over HTTP and never checked.
SKIPPED_SCHEMES = ("mailto:", "tel:", "javascript:", "data:", "sms:", "about:", "file:", "ftp:")


#: Other hosts followed through their entrance links, at most.
MAX_ENTRANCE_HOSTS = 4

_WS = re.compile(r"[\s\u3000\xa0]+")


def _compact(text: str) -> str:
    return _WS.sub("", text or "")


#: The authority of an http(s) URL as urlsplit finds it (up to the first / ? or #).
_AUTHORITY = re.compile(r"https?://([^/?#]*)")

#: URLs made only of these characters need no percent-encoding (the common case).
_PLAIN_URL = re.compile(r"[A-Za-z0-9\-._~:/?\[\]@!$&'()*+,;=%]*")


@lru_cache(maxsize=16384)
def normalize_url(url: str, encoding: str = "utf-8") -> str | None:
    """The canonical form of an absolute http(s) URL, or None if it is not one."""
    url = url.strip()
    try:
        if _PLAIN_URL.fullmatch(url) and "%" not in url:
            safe = url
        else:
            safe = safe_url_string(url, encoding=encoding or "utf-8")
        parts = urlsplit(safe)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            return None
        host = parts.hostname.lower().rstrip(".")
        port = parts.port
    except ValueError:
        return None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    path = parts.path or "/"
    if "/." in path:  # dot segments: /a/../b → /b
        path = remove_dot_segments(path)
    path = _PCT_RE.sub(lambda m: m.group(0).upper(), path)
    query = _PCT_RE.sub(lambda m: m.group(0).upper(), parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4 on an absolute path: /a/./b → /a/b, /a/b/../c → /a/c, /.. → /.

    Done on the path alone: a path such as //a/./b stays a path (joining it to a base
    URL would read "a" as a host name, and a bracket in it would raise).
    """
    segments = path.split("/")
    out: list[str] = []
    last = len(segments) - 1
    for i, seg in enumerate(segments):
        if seg in (".", ".."):
            if seg == ".." and len(out) > 1:
                out.pop()
            if i == last:
                out.append("")  # /a/. and /a/b/.. end with a slash
            continue
        out.append(seg)
    return "/".join(out) or "/"


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def netloc_of(url: str) -> str:
    try:
        return urlsplit(url).netloc.lower().rsplit("@", 1)[-1]
    except ValueError:
        return ""


class Scope:
    """Decides which URLs are internal, which are crawled, and ends query-string traps."""

    def __init__(self, config: Config, start_urls: list[str]) -> None:
        # host[:port] as in the normalised URL; extra_hosts match with or without a port.
        self.hosts = {netloc_of(u) for u in start_urls} | {
            h.lower().strip() for h in config.site.extra_hosts
        }
        self.hosts.discard("")
        self.extra_names = {h.lower().strip() for h in config.site.extra_hosts}
        self.prefixes = [
            p if p.startswith("/") else urlsplit(p).path or "/"
            for p in config.site.include_prefixes
        ]
        self.exclude = [re.compile(p) for p in config.site.exclude]
        self.max_query_variants = config.crawl.max_query_variants
        self._queries: dict[str, int] = {}  # path → distinct query strings seen
        self._internal: dict[str, bool] = {}  # raw authority → is_internal
        # Entrances followed to other hosts: link text → that host crawled to a depth.
        self.entrance_texts = [_compact(t) for t in config.crawl.follow_entrances if t.strip()]
        self.entrance_depth = config.crawl.entrance_depth
        self.entrances: dict[str, int] = {}  # host[:port] → deepest depth crawled there

    def is_internal(self, url: str) -> bool:
        # The answer depends on the URL's authority only: remember it per authority
        # (every link on every page is asked about; they name few hosts).
        m = _AUTHORITY.match(url)
        if m is None:
            return self._is_internal(url)
        key = m.group(1)
        internal = self._internal.get(key)
        if internal is None:
            if len(self._internal) >= 4096:
                self._internal.clear()
            internal = self._internal[key] = self._is_internal(url)
        return internal

    def _is_internal(self, url: str) -> bool:
        return netloc_of(url) in self.hosts or host_of(url) in self.extra_names

    def note_entrances(self, page_url: str, links: Iterable[Any], depth: int) -> None:
        """The entrances among the links (``target``, ``text``) of a site page, noted before
        the links are queued so that this page's links to an entrance's host are crawled."""
        if self.entrance_texts and self.is_internal(page_url):
            for link in links:
                self.note_entrance(link.target, link.text, depth)

    def note_entrance(self, url: str, text: str, depth: int) -> bool:
        """A link from a site page to another host whose text names an entrance (政府信息公开,
        政府信息公开平台 …): that host is crawled ``entrance_depth`` clicks deep from here.

        True when the link is such an entrance. At most MAX_ENTRANCE_HOSTS hosts are taken.
        """
        if not self.entrance_texts or self.is_internal(url):
            return False
        name = _compact(text)
        if not any(
            name == t or (name.startswith(t) and len(name) <= len(t) + 4)
            for t in self.entrance_texts
        ):
            return False
        netloc = netloc_of(url)
        if not netloc or (
            netloc not in self.entrances and len(self.entrances) >= MAX_ENTRANCE_HOSTS
        ):
            return False
        limit = depth + self.entrance_depth
        self.entrances[netloc] = min(self.entrances.get(netloc, limit), limit)
        return True

    def entrance_limit(self, url: str) -> int | None:
        """The deepest depth crawled on ``url``'s host if it is an entrance host, else None."""
        return self.entrances.get(netloc_of(url)) if self.entrances else None

    def may_crawl(self, url: str) -> bool:
        """Internal, or on an entrance host."""
        return self.is_internal(url) or self.entrance_limit(url) is not None

    def is_excluded(self, url: str) -> bool:
        return any(p.search(url) for p in self.exclude)

    def in_prefixes(self, url: str) -> bool:
        if not self.prefixes:
            return True
        path = urlsplit(url).path
        return any(path.startswith(p) for p in self.prefixes)

    def admit_query(self, url: str) -> bool:
        """False once a path has had ``max_query_variants`` distinct query strings.

        Call once per new URL (the caller deduplicates URLs first).
        """
        parts = urlsplit(url)
        if not parts.query:
            return True
        key = f"{parts.netloc}{parts.path}"
        n = self._queries.get(key, 0)
        if n >= self.max_query_variants:
            return False
        self._queries[key] = n + 1
        return True
