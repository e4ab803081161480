"""The house rules of the source tree, checked by tests/test_layout.py (and usable on any tree).

Every `import` and `from ... import` in crawler/ and db/ is read (at module level or inside a
function: a lazy import is still a dependency), and checked against:

- the layers, in the order data flows: a package may import its own modules and those of lower
  layers, never a higher layer's (`LAYERS`);
- the forbidden imports (`FORBIDDEN`): the pure `crawler.text` imports nothing that does I/O,
  `db` nothing of the fetching or watching code, and only `crawler.cli` prints (click, rich);
- no import circle between modules;
- no module over `MAX_MODULE_LINES` lines and no function over `MAX_FUNCTION_LINES` lines, but
  for shipped migrations (never edited) and a function whose docstring says "hot loop" and
  gives the figure that keeps it whole.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 100

# Lower numbers are lower layers. A module belongs to the longest prefix listed.
LAYERS = {
    "crawler": 0,  # crawler/__init__.py: the version
    "crawler.errors": 0,
    "crawler.config": 1,
    "crawler.text": 2,
    "crawler.archive": 3,
    "crawler.live": 3,
    "crawler.http": 3,
    "db": 4,
    "crawler.pipeline": 5,
    "crawler.demo": 5,
    "crawler.cite": 5,
    "crawler.watch": 6,
    "crawler.web": 7,
    "crawler.cli": 8,
}
# (importer prefix, imported prefix, why): never allowed, whatever the layers say.
FORBIDDEN = [
    ("crawler.text", "db", "text is pure: it never touches the database"),
    ("crawler.text", "httpx", "text is pure: it never fetches"),
    ("crawler.text", "sqlite3", "text is pure: it never touches a database"),
    ("crawler.text", "sqlite_utils", "text is pure: it never touches a database"),
    ("crawler.text", "socket", "text is pure: no network"),
    ("crawler.text", "subprocess", "text is pure: no processes"),
    ("crawler.text", "crawler.config", "text is pure: it reads no config file"),
    ("crawler.config", "crawler.", "config imports nothing of ours but errors"),
    ("db", "crawler.pipeline", "db never calls back into the pipeline"),
    ("db", "crawler.archive", "db never fetches"),
    ("db", "httpx", "db never fetches"),
    ("crawler.archive", "sqlite_utils", "the archive client never touches the database"),
]
# Only the command line prints: these may be imported under `crawler.cli` alone.
PRINTERS = ("click", "rich")
ALLOWED_IN_CONFIG = ("crawler.errors", "crawler.config")


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    tree: ast.Module
    lines: int


@dataclass(frozen=True)
class Violation:
    where: str
    rule: str

    def __str__(self) -> str:
        return f"{self.where}: {self.rule}"


def modules(root: Path, packages: tuple[str, ...] = ("crawler", "db")) -> dict[str, Module]:
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            source = path.read_text(encoding="utf-8")
            name = ".".join(parts)
            found[name] = Module(name, path, ast.parse(source), len(source.splitlines()))
    return found


def imports(module: Module) -> Iterator[tuple[str, int]]:
    """(imported module or name, line) for every import in the module, lazy ones included."""
    package = module.name if module.path.name == "__init__.py" else module.name.rpartition(".")[0]
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base == "__future__":
                continue
            yield base, node.lineno
            for alias in node.names:  # `from crawler.cli import archive` imports a module
                yield f"{base}.{alias.name}", node.lineno


def _layer(name: str) -> tuple[str, int] | None:
    best = None
    for prefix, layer in LAYERS.items():
        if (name == prefix or name.startswith(prefix + ".")) and (
            best is None or len(prefix) > len(best[0])
        ):
            best = (prefix, layer)
    return best


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix if prefix.endswith(".") else prefix + ".")


def check(root: Path) -> list[Violation]:
    found = modules(root)
    violations: list[Violation] = []
    graph: dict[str, set[str]] = {name: set() for name in found}
    for module in found.values():
        own = _layer(module.name)
        for target, line in imports(module):
            where = f"{module.path.relative_to(root)}:{line} imports {target}"
            if target in found and target != module.name:  # a package naming its own modules
                graph[module.name].add(target)
            for importer, imported, why in FORBIDDEN:
                if _under(module.name, importer) and _under(target, imported):
                    if importer == "crawler.config" and any(
                        _under(target, ok) for ok in ALLOWED_IN_CONFIG
                    ):
                        continue
                    violations.append(Violation(where, why))
            if any(_under(target, p) for p in PRINTERS) and not _under(module.name, "crawler.cli"):
                violations.append(Violation(where, "only crawler.cli prints (click, rich)"))
            theirs = _layer(target)
            if own and theirs and target in found and theirs[1] > own[1]:
                violations.append(
                    Violation(
                        where, f"{own[0]} (layer {own[1]}) imports a higher layer, {theirs[0]}"
                    )
                )
    violations += [Violation(" -> ".join(c), "an import circle") for c in cycles(graph)]
    violations += sizes(found, root)
    return violations


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each as a circle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component) + [sorted(component)[0]])

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def sizes(found: dict[str, Module], root: Path) -> list[Violation]:
    violations = []
    for module in found.values():
        shipped_migrations = module.name == "db.migrations"
        where = str(module.path.relative_to(root))
        if module.lines > MAX_MODULE_LINES and not shipped_migrations:
            violations.append(
                Violation(where, f"{module.lines} lines (at most {MAX_MODULE_LINES})")
            )
        for node in ast.walk(module.tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            hot_loop = "hot loop" in (ast.get_docstring(node) or "")
            if length > MAX_FUNCTION_LINES and not (shipped_migrations or hot_loop):
                violations.append(
                    Violation(
                        f"{where}:{node.lineno} {node.name}",
                        f"{length} lines (at most {MAX_FUNCTION_LINES})",
                    )
                )
    return violations
