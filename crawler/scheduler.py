"""Scrapy's scheduler reduced to what the spider needs.

The spider keeps its own frontier and deduplicates every target itself, and only a
bounded number of its requests are inside Scrapy at any time (see
:mod:`crawler.spider`). So the scheduler is two small in-memory stacks: no duplicate
filter, no disk queue, no per-slot bookkeeping, no stats. Order is Scrapy's default:
higher ``priority`` first (pages before checks), last in first out within a priority.
"""

from __future__ import annotations

from typing import Any

from scrapy.core.scheduler import BaseScheduler
from scrapy.http import Request


class FrontierScheduler(BaseScheduler):
    def __init__(self) -> None:
        self._stacks: dict[int, list[Request]] = {}  # priority → requests (LIFO)
        self._top: int | None = None  # highest priority with requests waiting
        self._size = 0

    @classmethod
    def from_crawler(cls, crawler: Any) -> FrontierScheduler:
        return cls()

    def has_pending_requests(self) -> bool:
        return self._size > 0

    def __len__(self) -> int:
        return self._size

    def enqueue_request(self, request: Request) -> bool:
        priority = request.priority
        stack = self._stacks.get(priority)
        if stack is None:
            stack = self._stacks[priority] = []
        stack.append(request)
        if self._top is None or priority > self._top:
            self._top = priority
        self._size += 1
        return True

    def next_request(self) -> Request | None:
        if self._top is None:
            return None
        stack = self._stacks[self._top]
        request = stack.pop()
        self._size -= 1
        if not stack:
            del self._stacks[self._top]
            self._top = max(self._stacks) if self._stacks else None
        return request
