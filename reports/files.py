"""Writing files safely: temp-and-rename writers and streamed JSON.

Readers see the old file or the whole new one, never half. Knows nothing of findings,
bundles or any report format.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


def atomic_write(path: Path, data: bytes | str) -> None:
    with atomic_writer(path, binary=True) as fh:
        fh.write(data.encode("utf-8") if isinstance(data, str) else data)


@contextmanager
def atomic_writer(path: Path, binary: bool = False) -> Iterator[IO[Any]]:
    """A file opened for writing under a temporary name, renamed over ``path`` only when
    the block finishes: readers see the old file or the whole new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_json_stream(
    path: Path, head: dict[str, Any], lists: dict[str, Iterable[dict[str, Any]]]
) -> None:
    """Write ``head`` with ``lists`` spliced in after "run"/"unit" (one item in memory at a time);
    the result is the same JSON document as ``dump_json(head | lists)``."""
    keys = list(head)
    anchors = [keys.index(k) + 1 for k in ("run", "unit") if k in keys]
    at = max(anchors) if anchors else len(keys)
    order = [*keys[:at], *lists, *keys[at:]]
    with atomic_writer(path) as fh:
        fh.write("{")
        for n, key in enumerate(order):
            fh.write(",\n  " if n else "\n  ")
            fh.write(json.dumps(key, ensure_ascii=False) + ": ")
            if key in lists:
                fh.write("[")
                empty = True
                for item in lists[key]:
                    fh.write("\n    " if empty else ",\n    ")
                    fh.write(_indent(dump_json(item), "    "))
                    empty = False
                fh.write("]" if empty else "\n  ]")
            else:
                fh.write(_indent(dump_json(head[key]), "  "))
        fh.write("\n}\n")


def _indent(text: str, prefix: str) -> str:
    return text.replace("\n", "\n" + prefix)


def dump_json(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2, default=str)
