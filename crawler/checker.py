"""A link target's outcome as a typed :class:`LinkStatus`.

Maps what Scrapy/Twisted hand back (a response or a failure) to one status kind.
Also the rules of checking itself: which HEAD answers are not to be believed (so the
target is fetched again with GET, stopping after the first chunk), which answers
mean "a firewall stopped us" (blocked: could not test, never broken), and which 200
pages are really "not found" pages (soft 404).
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from twisted.internet import error as terror
from twisted.python.failure import Failure

from core.snapshot import LinkStatus, StatusKind
from crawler.scope import normalize_url

#: HEAD answers that a server may give while GET works: try GET before believing them.
HEAD_UNTRUSTED = frozenset({400, 401, 403, 404, 405, 406, 409, 410, 429, 500, 501, 502, 503})

#: Titles of firewall / anti-bot interstitials (WAF, captcha): the site blocked the check.
_WAF_TITLE = re.compile(
    r"安全狗|云盾|云锁|防火墙|访问被拦截|访问拦截|拦截|人机验证|安全验证|验证码|请求过于频繁|"
    r"access denied|attention required|captcha|just a moment|request rejected|web application firewall",
    re.IGNORECASE,
)
_SOFT_404 = re.compile(
    r"页面不存在|页面未找到|找不到|无法找到|未找到该页面|页面已删除|已被删除|不存在或已|"
    r"^\W*404(?![0-9])|404\s*(?:错误|error|not|页面|page)|(?:错误|error)\W*404(?![0-9])|"
    r"not\s+found|page\s+(?:does\s+not|doesn't)\s+exist|no\s+longer\s+available",
    re.IGNORECASE,
)


def status_for_code(code: int) -> LinkStatus:
    if 200 <= code < 400:
        return LinkStatus(StatusKind.OK, code)
    if code in (403, 429):
        return LinkStatus(
            StatusKind.BLOCKED, code, "the server refused the check (firewall/rate limit)"
        )
    return LinkStatus(StatusKind.HTTP_ERROR, code)


def redirect_outcome(
    url: str, code: int, location: str, origin: str, hops: list[tuple[int, str]], max_hops: int
) -> tuple[str | None, list[tuple[int, str]], LinkStatus | None]:
    """A redirect from ``url``: (next target, the hops so far, or the status ending the chain)."""
    target = normalize_url(urljoin(url, location.strip()))
    new_hops = [*hops, (code, target or location)]
    if target is None:
        return None, new_hops, LinkStatus(StatusKind.ERROR, code, "bad Location")
    if target == url or target == origin or target in {u for _, u in hops}:
        return None, new_hops, LinkStatus(StatusKind.REDIRECT_LOOP, code)
    if len(new_hops) > max_hops:
        return None, new_hops, LinkStatus(StatusKind.TOO_MANY_REDIRECTS, code)
    return target, new_hops, None


def looks_blocked(title: str) -> bool:
    """A firewall/captcha interstitial, judged by its title."""
    return bool(title) and bool(_WAF_TITLE.search(title))


def looks_soft_404(title: str, h1: str, short_text: str, text_len: int) -> bool:
    """A 200 page that says the page does not exist."""
    if _SOFT_404.search(title) or _SOFT_404.search(h1):
        return True
    # A short page body whose text says 'not found' (no title or a generic one).
    return text_len < 300 and bool(_SOFT_404.search(short_text))


def _ssl_error(exc: BaseException) -> bool:
    mod = type(exc).__module__ or ""
    return (
        mod.startswith("OpenSSL") or isinstance(exc, terror.SSLError) or "SSL" in type(exc).__name__
    )


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception, its causes, and the reasons a ResponseFailed carries."""
    out: list[BaseException] = []
    todo = [exc]
    while todo and len(out) < 12:
        e = todo.pop(0)
        if e in out:
            continue
        out.append(e)
        if e.__cause__ is not None:
            todo.append(e.__cause__)
        elif e.__context__ is not None:
            todo.append(e.__context__)
        for r in getattr(e, "reasons", None) or []:
            if isinstance(r, Failure):
                todo.append(r.value)
    return out


def status_for_failure(failure: Failure) -> LinkStatus:
    """The status kind of a network failure (DNS, timeout, refused, reset, TLS …)."""
    exc = failure.value
    detail = f"{type(exc).__name__}: {exc}"[:500]
    chain = _chain(exc)
    names = {type(e).__name__ for e in chain}
    if "PrivateAddressError" in names:  # crawler.guard: refused before connecting
        private = next(e for e in chain if type(e).__name__ == "PrivateAddressError")
        return LinkStatus(StatusKind.PRIVATE_ADDRESS, None, str(private)[:500])
    if any(_ssl_error(e) for e in chain):
        return LinkStatus(StatusKind.TLS_ERROR, None, detail)
    if names & {"CannotResolveHostError", "DNSLookupError"}:
        return LinkStatus(StatusKind.DNS_FAILURE, None, detail)
    if names & {
        "DownloadTimeoutError",
        "TimeoutError",
        "TCPTimedOutError",
        "CancelledError",
        "DownloadCancelledError",
    }:
        return LinkStatus(StatusKind.TIMEOUT, None, detail)
    if names & {"DownloadConnectionRefusedError", "ConnectionRefusedError"}:
        return LinkStatus(StatusKind.CONNECTION_REFUSED, None, detail)
    if names & {
        "DownloadFailedError",
        "ResponseFailed",
        "ResponseNeverReceived",
        "ConnectionLost",
        "ConnectionDone",
        "ConnectionAborted",
        "_DataLoss",
        "PotentialDataLoss",
        "ResponseDataLossError",
        "ConnectionResetError",
    }:
        return LinkStatus(StatusKind.CONNECTION_RESET, None, detail)
    if any(isinstance(e, terror.NoRouteError | terror.ConnectError) for e in chain):
        return LinkStatus(StatusKind.CONNECTION_REFUSED, None, detail)
    return LinkStatus(StatusKind.ERROR, None, detail)
