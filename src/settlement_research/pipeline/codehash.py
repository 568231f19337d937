"""A hash of the package code a result depends on, so caches notice a code change.

Why: the build's up-to-date check and the report cache used to key on data and parameters only,
so editing a constant in ``derive.py`` left old tables in data_clean and old pages in reports/.
The hash covers the modules a root module imports, followed statically (every ``import`` and
``from ... import`` of ``settlement_research`` in the source, including imports inside functions)
and found through ``sys.path``, so a scratch copy of the package first on the path is the code
that is hashed. Package data files (code lists) are included: they change results like code does.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

PACKAGE = "settlement_research"
# Modules whose code decides what a built table holds (besides the source module itself).
BUILD_ROOTS = (
    f"{PACKAGE}.build", f"{PACKAGE}.derive", f"{PACKAGE}.model", f"{PACKAGE}.validation",
    f"{PACKAGE}.relations",
)
# Modules that render a report whatever the template imports.
REPORT_ROOTS = (f"{PACKAGE}.reports.runner", f"{PACKAGE}.reports.engine")


def _find(module: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def imported_modules(source: str, module: str, is_package: bool) -> set[str]:
    """Names of the ``settlement_research`` modules ``source`` (the code of ``module``) imports."""
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == PACKAGE)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.split(".")[0] != PACKAGE:
                continue
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names if a.name != "*")
    # a parent package's __init__ runs first on any import of its submodules
    for name in list(found):
        parts = name.split(".")
        found.update(".".join(parts[:i]) for i in range(1, len(parts)))
    return found


def module_files(roots: Iterable[str]) -> dict[str, Path]:
    """Every module the roots import, transitively: module name -> source file."""
    files: dict[str, Path] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in files:
            continue
        path = _find(name)
        if path is None:  # an attribute imported with `from x import name`, not a module
            continue
        files[name] = path
        todo.extend(imported_modules(path.read_text("utf-8"), name, _is_package(path)) - set(files))
    return files


def _data_files() -> list[tuple[str, Path]]:
    """Every file in a ``data/`` folder of the package (code lists, change tables) and every .toml (the analysis plan)."""
    pkg = _find(PACKAGE)
    if pkg is None:
        return []
    root = pkg.parent
    return [
        (f"{PACKAGE}/{p.relative_to(root).as_posix()}", p)
        for p in sorted({*root.rglob("data/*"), *root.rglob("*.toml")})
        if p.is_file() and "__pycache__" not in p.parts
    ]


def code_hash(roots: Iterable[str], extra_files: Iterable[Path] = ()) -> str:
    """sha256 over the source of every module the roots import (and the package data files)."""
    return _code_hash(tuple(sorted(set(roots))), tuple(sorted(Path(p) for p in extra_files)))


@lru_cache(maxsize=64)
def _code_hash(roots: tuple[str, ...], extra: tuple[Path, ...]) -> str:
    items = [(name, path) for name, path in module_files(roots).items()]
    items += _data_files()
    items += [(f"file:{p.name}", p) for p in extra]
    digest = hashlib.sha256()
    for name, path in sorted(items, key=lambda item: item[0]):
        digest.update(name.encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def build_code_hash(source_module: str) -> str:
    """The code that produces a source's tables: the source module, derive, models, validation."""
    return code_hash((source_module, *BUILD_ROOTS))


def template_imports(text: str) -> set[str]:
    """The ``settlement_research`` modules a notebook template (py:percent) imports."""
    try:
        return imported_modules(text, "__template__", False)
    except SyntaxError:  # a template that does not parse fails when rendered; hash it whole
        return set()


def report_code_hash(template: str | Path) -> str:
    """The code a rendered report depends on: the modules the template imports and the renderer."""
    path = Path(template)
    return code_hash((*template_imports(path.read_text("utf-8")), *REPORT_ROOTS), extra_files=(path,))


def clear_cache() -> None:
    """Forget computed hashes (tests that edit code in place)."""
    _code_hash.cache_clear()


__all__ = [
    "BUILD_ROOTS", "REPORT_ROOTS", "build_code_hash", "clear_cache", "code_hash", "imported_modules",
    "module_files", "report_code_hash", "template_imports",
]
