"""How alike two answers to one URL are: per-request noise stripped, HTML similarity, page
sketches, same final place. Pure functions of text and URLs for the ipv6 plugin: they know
nothing of sockets, DNS, the snapshot or findings.
"""

from __future__ import annotations

import difflib
import heapq
import re
from typing import Any
from urllib.parse import urlsplit


# ---- per-request noise, stripped before pages are compared ------------------------------
def _token_repl(m: re.Match[str]) -> str:
    value = m.group(0)
    has_digit = any(c.isdigit() for c in value)
    return "<token>" if has_digit and any(c.isalpha() for c in value) else value


_NOISE: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"<!--.*?-->", re.S), ""),
    (re.compile(r"""\snonce\s*=\s*(["']).*?\1""", re.I), ""),
    (
        re.compile(
            r"<input\b[^>]*\bname\s*=\s*[\"']?(?:__VIEWSTATE\w*|__EVENTVALIDATION|__EVENTTARGET|"
            r"__EVENTARGUMENT|__RequestVerificationToken|csrf\w*|_csrf\w*|xsrf\w*|_xsrf|"
            r"csrfmiddlewaretoken|_token|authenticity_token|token|formhash)\b[^>]*>",
            re.I,
        ),
        "",
    ),
    (
        re.compile(
            r"<meta\b[^>]*\bname\s*=\s*[\"']?(?:csrf[-_]?token|csrf[-_]?param|_csrf\w*|xsrf\w*)"
            r"[^>]*>",
            re.I,
        ),
        "",
    ),
    (  # token = "…", csrfToken: '…', ?sid=…, timestamp=… in scripts and URLs
        re.compile(
            r"""\b((?:csrf|xsrf|nonce|token|timestamp|sessionid|jsessionid|sid|_t)\w*["']?\s*[:=]\s*["']?)"""
            r"""[^"'\s;,&<>]+""",
            re.I,
        ),
        r"\1~",
    ),
    (
        re.compile(
            r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?[\sT]*\d{1,2}:\d{2}(?::\d{2})?"
            r"(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
        ),
        "<datetime>",
    ),
    (re.compile(r"\b\d{1,2}:\d{2}:\d{2}(?:\.\d+)?\b"), "<time>"),  # a clock with seconds
    (re.compile(r"\b1[4-9]\d{8}(?:\d{3})?\b"), "<ts>"),  # Unix time, s or ms
    (re.compile(r"\b[0-9a-f]{16,}\b", re.I), "<hex>"),  # hashes, UUID parts, session ids
    (re.compile(r"(?<![\w/.-])[A-Za-z0-9+_-]{24,}={0,2}"), _token_repl),  # base64 tokens
]
_LINES = re.compile(r"(?<=>)|(?=<)|(?<=[。；！？])")
MAX_LINES = 20_000


def strip_noise(html: str) -> str:
    """HTML with per-request values (nonces, CSRF tokens, clocks, session ids) neutralised.

    internet.nl strips script/style nonces and ASP.NET view state before comparing; this
    also neutralises CSRF tokens, clocks, Unix timestamps, long hex and base64 tokens.
    """
    for pattern, repl in _NOISE:
        html = pattern.sub(repl, html)
    return html


def _lines(html: str) -> list[str]:
    """Tags and sentences, one per item: the units the comparison aligns."""
    return [x for x in (part.strip() for part in _LINES.split(html)) if x][:MAX_LINES]


def similarity(a: str, b: str) -> float:
    """Similarity (0–1) of two HTML documents after noise stripping.

    difflib aligns tags and sentences; the score is the share of characters in aligned
    parts (as SequenceMatcher.ratio, weighted by length). Bounded: difflib's autojunk
    keeps repetitive pages linear-ish, and at most MAX_LINES parts are compared.
    """
    a, b = strip_noise(a), strip_noise(b)
    if a == b:
        return 1.0
    la, lb = _lines(a), _lines(b)
    total = sum(map(len, la)) + sum(map(len, lb))
    if not total:
        return 1.0
    matcher = difflib.SequenceMatcher(None, la, lb)
    matched = sum(
        sum(len(x) for x in la[blk.a : blk.a + blk.size]) for blk in matcher.get_matching_blocks()
    )
    return round(2 * matched / total, 4)


SKETCH_SIZE = 64
_CHEAP_NOISE = re.compile(r"<!--.*?-->|[A-Za-z0-9+/_=-]{16,}|\d+", re.S)
_PARTS = re.compile(r"<[^>]*>|[^<]+")


def page_sketch(html: str) -> tuple[int, ...]:
    """A bottom-k sketch of a page's lines (digits and long tokens blurred): a few hundred
    bytes that estimate how alike two pages are without keeping either (links are many)."""
    hashes = {hash(part) for part in _PARTS.findall(_CHEAP_NOISE.sub("0", html))}
    return tuple(sorted(heapq.nsmallest(SKETCH_SIZE, hashes)))


def sketch_similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Estimated Jaccard similarity of the two pages' line sets."""
    sa, sb = set(a), set(b)
    union = heapq.nsmallest(SKETCH_SIZE, sa | sb)
    if not union:
        return 1.0
    return sum(1 for x in union if x in sa and x in sb) / len(union)


# ---- URLs -------------------------------------------------------------------------------
def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _same_place(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme.lower(), (pa.netloc or "").lower(), pa.path or "/", pa.query) == (
        pb.scheme.lower(),
        (pb.netloc or "").lower(),
        pb.path or "/",
        pb.query,
    )
