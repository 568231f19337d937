"""A hash of the package code a result depends on, so caches notice a code change.

Why: the build's up-to-date check and the report cache used to key on data and parameters only,
so editing a constant in ``derive.py`` left old tables in data_clean and old pages in reports/.
The hash covers the modules a root module imports, followed statically (every ``import`` and
``from ... import`` of ``settlement_research`` in the source, including imports inside functions)
and found through ``sys.path``, so a scratch copy of the package first on the path is the code
that is hashed. Package data files (code lists) are included: they change results like code does.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
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
    """The source file of ``module`` without importing it (nor its parent packages)."""
    parts = module.split(".")
    if parts[0] == PACKAGE and len(parts) > 1:
        root = _package_dir()
        if root is None:
            return None
        base = root.joinpath(*parts[1:])
        for candidate in (base / "__init__.py", base.with_suffix(".py")):
            if candidate.is_file():
                return candidate
        return None
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def _package_dir() -> Path | None:
    """The folder of the ``settlement_research`` package first on the path (found, not imported)."""
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        return None
    return Path(spec.origin).parent if spec is not None and spec.origin else None


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


_FROM = re.compile(r"^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)", re.MULTILINE)
_IMPORT = re.compile(r"^[ \t]*import[ \t]+([^\n]*)", re.MULTILINE)


def _names(clause: str) -> list[str]:
    clause = re.sub(r"#[^\n]*", "", clause).strip("() \t\n\\")
    return [part.split()[0] for part in re.split(r"[,\n]", clause) if part.split()]


def imported_modules(source: str, module: str, is_package: bool) -> set[str]:
    """Names of the ``settlement_research`` modules ``source`` (the code of ``module``) imports.

    A line scan, not a parse (an ``ast`` walk costs a second for the package): every ``import``
    and ``from ... import`` statement at the start of a line, at any indentation. A match inside
    a docstring only widens the hash, never narrows it.
    """
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for target, clause in _FROM.findall(source):
        if target.startswith("."):
            level = len(target) - len(target.lstrip("."))
            base = package.split(".")
            base = base[: len(base) - (level - 1)] if level > 1 else base
            rest = target[level:]
            target = ".".join([*base, rest] if rest else base)
        if target.split(".")[0] != PACKAGE:
            continue
        found.add(target)
        found.update(f"{target}.{name}" for name in _names(clause) if name != "*")
    for clause in _IMPORT.findall(source):
        found.update(n for n in _names(clause) if n.split(".")[0] == PACKAGE)
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
    root = _package_dir()
    if root is None:
        return []
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
    return imported_modules(text, "__template__", False)


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
