"""The house's floors: dependencies run one way, and no two files import each other in a circle.

Floors, top to bottom: entry (govaudit/) → service (scheduler.py) → pipeline (pipeline/) →
work (crawler/, audits/, reports/) → ground (core/). A module imports only its own floor
or the floors below. Inside the work floor: crawler/ knows no audit, audits/ knows no Scrapy
or crawler, reports/ knows no crawler. Every import counts, also one inside a function or
under ``TYPE_CHECKING``: the graph is read with ``ast`` from the source files.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("govaudit", "scheduler", "pipeline", "crawler", "audits", "reports", "core")
FLOOR = {
    "govaudit": 5,
    "scheduler": 4,
    "pipeline": 3,
    "crawler": 2,
    "audits": 2,
    "reports": 2,
    "core": 1,
}
FORBIDDEN = {  # lateral imports on the work floor that would tangle it
    "crawler": ("audits",),
    "audits": ("crawler", "scrapy", "twisted"),
    "reports": ("crawler", "scrapy", "twisted"),
    "core": ("scrapy", "twisted"),
}
MAX_LINES = 620
LONG_MODULES_ALLOWED: set[str] = set()  # data, not logic, may be listed here with a reason


def source_files(root: Path = ROOT) -> list[Path]:
    files = [root / "scheduler.py"]
    for pkg in PACKAGES:
        if (root / pkg).is_dir():
            files += sorted((root / pkg).rglob("*.py"))
    return files


def module_name(path: Path, root: Path = ROOT) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    """(line, imported module) for every import in the file, resolved to absolute names."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    me = module_name(path, root)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join([*base, node.module] if node.module else base)
            else:
                mod = node.module or ""
            out.append((node.lineno, mod))
            # "from pkg import module" names a module too
            for a in node.names:
                out.append((node.lineno, f"{mod}.{a.name}"))
    return out


def violations(root: Path = ROOT) -> list[str]:
    """Every import that runs up a floor or across a forbidden wall, as 'file:line: a -> b'."""
    found = []
    for path in source_files(root):
        me = module_name(path, root).split(".")[0]
        for line, target in imports_of(path, root):
            top = target.split(".")[0]
            rel = path.relative_to(root)
            if top in FLOOR and FLOOR[top] > FLOOR[me]:
                found.append(f"{rel}:{line}: {me} (floor {FLOOR[me]}) imports {target}")
            if top in FORBIDDEN.get(me, ()):
                found.append(f"{rel}:{line}: {me} must not import {target}")
    return found


def file_graph(root: Path = ROOT) -> dict[str, set[str]]:
    modules = {module_name(p, root): p for p in source_files(root)}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for _line, target in imports_of(path, root):
            # the longest known module the import names (a name inside a module maps to it)
            parts = target.split(".")
            while parts and ".".join(parts) not in modules:
                parts.pop()
            dep = ".".join(parts)
            if dep and dep != name and not (name.startswith(dep + ".") and dep in modules):
                graph[name].add(dep)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_runs_up_a_floor() -> None:
    assert violations() == []


def test_no_import_cycle_between_files() -> None:
    assert cycles(file_graph()) == []


def test_the_checks_catch_an_upward_import_and_a_cycle(tmp_path: Path) -> None:
    """Added by hand to a copy of the tree, an upward import and a circle are reported."""
    for pkg in ("core", "reports", "govaudit"):
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "__init__.py").write_text("")
    (tmp_path / "scheduler.py").write_text("")
    (tmp_path / "govaudit" / "cli.py").write_text("def build_config():\n    pass\n")
    (tmp_path / "reports" / "tracking.py").write_text(
        "def f():\n    from govaudit.cli import build_config\n    from reports import xlsx\n"
    )
    (tmp_path / "reports" / "xlsx.py").write_text("from reports.tracking import f\n")
    (tmp_path / "core" / "dns.py").write_text("import scrapy\n")
    found = violations(tmp_path)
    assert any("reports/tracking.py:2" in v and "govaudit.cli" in v for v in found)
    assert any("core/dns.py:1" in v and "scrapy" in v for v in found)
    assert cycles(file_graph(tmp_path)) == [["reports.tracking", "reports.xlsx"]]


def test_every_module_says_what_it_is_for() -> None:
    missing = [
        str(p.relative_to(ROOT))
        for p in source_files()
        if p.stat().st_size and not ast.get_docstring(ast.parse(p.read_text(encoding="utf-8")))
    ]
    assert missing == []


def test_modules_stay_readable_in_one_sitting() -> None:
    long = {}
    for path in source_files():
        rel = str(path.relative_to(ROOT))
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES and rel not in LONG_MODULES_ALLOWED:
            long[rel] = lines
    assert long == {}, "cut these along a seam"
