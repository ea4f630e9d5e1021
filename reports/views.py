"""Lazy, re-iterable views of a run's findings in the store.

Reports, spreadsheets and findings.json are written by walking these views: each walk
streams rows from SQLite in report order, a batch at a time, so a run with tens of
thousands of findings renders in the same memory as a run with ten. ``len()`` is a
``COUNT`` query (cached); ``bool()``, indexing and ``list()`` work as on a list.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, overload

from sqlalchemy import func, select

from reports.store import FINDING_COLUMNS, FINDING_ORDER, TRACKING_COLUMNS, Store, findings

ALL_COLUMNS = [*FINDING_COLUMNS, *TRACKING_COLUMNS]


class FindingSet:
    """Findings of one run matching ``where`` (SQLAlchemy conditions), in report order.

    ``transform`` may rewrite each row on the way out (used for fixed findings, whose
    tracking fields are computed rather than stored).
    """

    def __init__(
        self,
        store: Store,
        run_id: int | None,
        where: tuple[Any, ...] = (),
        transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        order: tuple[Any, ...] | None = None,
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.where = where
        self.transform = transform
        self.order = order
        self._len: int | None = None

    def filter(self, *where: Any, order: tuple[Any, ...] | None = None) -> FindingSet:
        return FindingSet(
            self.store, self.run_id, (*self.where, *where), self.transform, order or self.order
        )

    def for_rule(self, rule: str) -> FindingSet:
        """Findings of one rule, or of every rule under a prefix ending in '.'."""
        if rule.endswith("."):
            return self.filter(findings.c.rule.startswith(rule, autoescape=True))
        return self.filter(findings.c.rule == rule)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if self.run_id is None:
            return
        rows = self.store.iter_findings(
            self.run_id, *self.where, columns=ALL_COLUMNS, order=self.order or FINDING_ORDER
        )
        if self.transform is None:
            yield from rows
        else:
            for row in rows:
                yield self.transform(row)

    def __len__(self) -> int:
        if self._len is None:
            if self.run_id is None:
                self._len = 0
            else:
                q = (
                    select(func.count())
                    .select_from(findings)
                    .where(findings.c.run_id == self.run_id, *self.where)
                )
                with self.store.engine.connect() as conn:
                    self._len = int(conn.execute(q).scalar_one())
        return self._len

    def __bool__(self) -> bool:
        return len(self) > 0

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, int) and index >= 0:
            for i, row in enumerate(self):
                if i == index:
                    return row
            raise IndexError(index)
        return list(self)[index]

    def first(self) -> dict[str, Any] | None:
        return next(iter(self), None)

    def count_by(self, *columns: str) -> Counter[Any]:
        """Counts per value (or tuple of values) of stored columns, by SQL."""
        if self.run_id is None:
            return Counter()
        cols = [findings.c[c] for c in columns]
        q = (
            select(*cols, func.count())
            .where(findings.c.run_id == self.run_id, *self.where)
            .group_by(*cols)
        )
        out: Counter[Any] = Counter()
        with self.store.engine.connect() as conn:
            for row in conn.execute(q):
                key = row[0] if len(columns) == 1 else tuple(row[: len(columns)])
                out[key] += int(row[-1])
        return out

    def __repr__(self) -> str:
        return f"<FindingSet run={self.run_id} n={len(self)}>"
