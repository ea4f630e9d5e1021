"""Scrapy's log formatter without the per-response "Crawled (200) <GET …>" record.

Used when Scrapy's log is off (without -v): the record was built for every response
(with the request's Referer looked up) only to be dropped by the logger.
"""

from __future__ import annotations

from typing import Any

from scrapy.logformatter import LogFormatter


class QuietLogFormatter(LogFormatter):
    def crawled(self, request: Any, response: Any, spider: Any) -> None:  # type: ignore[override]
        return None
