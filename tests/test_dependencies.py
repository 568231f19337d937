"""Declared dependencies are the used ones, and the core installs (validate, load) need no extras."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import textwrap
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]

# declared but never imported by name: why each is needed all the same
RUNTIME_ONLY = {
    "pyarrow": "polars <-> pandas conversion (to_pandas/from_pandas) and Parquet interop",
    "fastexcel": "the engine of polars.read_excel (FHI change tables in harmonize)",
    "ipykernel": "the settlement_research kernel notebooks and papermill run in",
    "ruff": "the linter (`make lint`), a command, not a module",
}
CORE_MUST_NOT_NEED = {"jupyterlab", "matplotlib", "seaborn", "statsmodels", "pyfixest", "papermill",
                      "nbconvert", "jupytext", "ipykernel"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> dict[str, str]:
    """distribution -> where it is declared (core or the extra's name)."""
    out = {_norm(Requirement(r).name): "core" for r in PYPROJECT["dependencies"]}
    for extra, reqs in PYPROJECT["optional-dependencies"].items():
        for r in reqs:
            name = _norm(Requirement(r).name)
            if name != "settlement-research":
                out.setdefault(name, extra)
    # test-only tools installed with --no-deps by the Makefile (their metadata pins clash; see the file)
    for line in (ROOT / "requirements-nodeps.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            out.setdefault(_norm(Requirement(line.strip()).name), "nodeps")
    return out


def _imported_modules() -> set[str]:
    found: set[str] = set()
    for folder in ("src", "notebooks", "tests", "benchmarks"):
        for file in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(file.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    found.update(a.name.split(".")[0] for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    found.add(node.module.split(".")[0])
                elif (isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ("importorskip", "import_module")
                      and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                    found.add(node.args[0].value.split(".")[0])
    return found


def _third_party() -> dict[str, set[str]]:
    """distribution -> the top-level modules of it the project imports."""
    by_module = packages_distributions()
    out: dict[str, set[str]] = {}
    for module in _imported_modules():
        if module in sys.stdlib_module_names or module in ("settlement_research", "conftest"):
            continue
        for dist in by_module.get(module, []):
            out.setdefault(_norm(dist), set()).add(module)
    return out


def test_every_imported_distribution_is_declared() -> None:
    declared = _declared()
    undeclared = {d: m for d, m in _third_party().items() if d not in declared and d != "settlement-research"}
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"


def test_every_declared_distribution_is_used() -> None:
    used = set(_third_party())
    unused = sorted(d for d in _declared() if d not in used and d not in RUNTIME_ONLY)
    assert not unused, f"declared but never imported (drop, or say why in RUNTIME_ONLY): {unused}"


def test_core_dependencies_leave_out_jupyter_and_modelling() -> None:
    core = {_norm(Requirement(r).name) for r in PYPROJECT["dependencies"]}
    assert not core & CORE_MUST_NOT_NEED
    assert {"notebooks", "reports", "analysis", "dev"} <= set(PYPROJECT["optional-dependencies"])


def test_license_and_citation_are_shipped() -> None:
    license_text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert license_text.startswith("MIT License") and PYPROJECT["license"] == {"text": "MIT"}
    citation = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert "cff-version: 1.2.0" in citation and f'version: "{PYPROJECT["version"]}"' in citation
    assert "license: MIT" in citation


BLOCKER = textwrap.dedent('''
    import importlib.abc, importlib.machinery, sys
    BLOCK = set(sys.argv[1].split(","))

    class _Missing(importlib.abc.Loader):
        def create_module(self, spec):
            raise ModuleNotFoundError(f"No module named {spec.name!r} (not installed in a core install)")

        def exec_module(self, module):
            raise ModuleNotFoundError(module.__name__)

    class _Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name.split(".")[0] in BLOCK:
                return importlib.machinery.ModuleSpec(name, _Missing())
            return None

    sys.meta_path.insert(0, _Block())
    sys.argv = sys.argv[1:]
    import settlement_research as sr
    from settlement_research.cli import main
    assert sr.describe("kommune_settlement_year").columns.height > 0
    code = main(["validate", sys.argv[1], "--format", "md"])
    print("exit", code)
''')


def test_validate_runs_without_any_extra(tmp_path: Path, good_frame) -> None:
    core = {_norm(Requirement(r).name) for r in PYPROJECT["dependencies"]}
    extras = {_norm(Requirement(r).name) for reqs in PYPROJECT["optional-dependencies"].values() for r in reqs}
    extras -= core | {"settlement-research", "packaging"}  # packaging: pandera needs it
    by_module = packages_distributions()
    blocked = {m for m, dists in by_module.items() if any(_norm(d) in extras for d in dists)}
    blocked |= {"IPython", "jupyter_server", "jupyterlab", "matplotlib", "notebook"}
    assert "jupyterlab" in blocked and "polars" not in blocked and "pandera" not in blocked
    file = tmp_path / "kommune_settlement_year.csv"
    good_frame.write_csv(file)
    script = tmp_path / "core_only.py"
    script.write_text(BLOCKER, encoding="utf-8")
    run = subprocess.run([sys.executable, str(script), ",".join(sorted(blocked)), str(file)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "exit 0" in run.stdout
    assert (tmp_path / "kommune_settlement_year.csv.validation.md").is_file()


@pytest.fixture
def good_frame():
    from settlement_research.testing import make_aggregates

    return make_aggregates(n_kommuner=5, seed=2)["kommune_settlement_year"]
