"""Notebook parameters are declared, not guessed, and checked before anything is rendered.

The names a notebook accepts are the names its cell tagged ``parameters`` assigns, read with
``ast`` (never executed); each must be assigned a string literal, since parameters are strings end
to end. A caller's parameters are then checked in three steps, all before a kernel or a file is
touched:

1. keys: a plain Python identifier (not a keyword) that the notebook declares; otherwise a
   :class:`ParameterError` lists the valid names and suggests the nearest one ("did you mean");
2. values: strings of at most ``MAX_VALUE_LENGTH`` characters without control characters;
3. domains, for the names that have one (:data:`DOMAINS`): ``source`` is a registered source name
   (never a path), ``kommune_nr`` is a code in that source's ``kommune`` table (else
   :class:`UnknownMunicipality`, so a batch can fail just that report), ``year`` and ``*_year``
   are years the source's tables cover (and ``first_year <= last_year``), counts have bounds, and a
   parameter declared with an integer default takes an integer.

Values are then injected by :func:`inject` as ``name = 'value'`` (``repr`` of a str) in a cell
tagged ``injected-parameters`` after the parameters cell. :func:`verify_injected` re-reads that
cell and refuses anything else than such assignments to declared names; the in-process engine
calls it before the first cell runs, so no path into the engine (the CLI, ``run_notebook``,
``run_batch``, the worker pool, or papermill's own API) can run a parameter as code.
"""

from __future__ import annotations

import ast
import difflib
import keyword
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from settlement_research.errors import InputError

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"
MAX_VALUE_LENGTH = 200
# re.ASCII: without it \d also matches '０３０１' and '٠٣٠١', which int() silently accepts.
INTEGER = re.compile(r"-?\d{1,9}", re.ASCII)
YEAR = re.compile(r"\d{4}", re.ASCII)
KOMMUNE_NR = re.compile(r"\d{4}", re.ASCII)


class ParameterError(InputError, ValueError):
    """A parameter the notebook does not declare, or a value outside its domain (exit code 2)."""


class UnknownMunicipality(ParameterError):
    """A well-formed kommune_nr that the source's kommune table does not have."""


# ------------------------------------------------------------------------------------ declaration


def parameters_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode | None:
    """The first code cell tagged ``parameters`` (as papermill finds it), or None."""
    for cell in nb.cells:
        if cell.cell_type == "code" and PARAMETERS_TAG in cell.metadata.get("tags", []):
            return cell
    return None


def _assignments(source: str, where: str) -> dict[str, ast.expr]:
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ParameterError(f"{where}: not plain Python assignments ({exc.msg}, line {exc.lineno})") from None
    out: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, value = node.targets[0].id, node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            name, value = node.target.id, node.value
        else:
            raise ParameterError(f"{where}: line {node.lineno} is not an assignment of a value to one name")
        out[name] = value
    return out


def declared(nb: nbformat.NotebookNode, where: str = "notebook") -> dict[str, str]:
    """Name -> default of every parameter the notebook declares (its parameters cell, by ``ast``).

    Raises ``ParameterError`` if there is no parameters cell or it does more than assign string
    literals to names: a template declares its parameters, it does not compute them.
    """
    cell = parameters_cell(nb)
    if cell is None:
        raise ParameterError(f"{where}: no cell tagged 'parameters' (# %% tags=[\"parameters\"])")
    out: dict[str, str] = {}
    for name, value in _assignments(cell.source, f"{where}, parameters cell").items():
        if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
            raise ParameterError(f"{where}, parameters cell: {name} must be assigned a string literal "
                                 "(parameters are strings end to end)")
        out[name] = value.value
    return out


# ------------------------------------------------------------------------------------------ checks


def _suggest(key: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_keys(parameters: Mapping[Any, Any], valid: Mapping[str, str], template: str) -> None:
    """Every key a plain identifier the template declares; one error naming all that are not."""
    names = sorted(valid)
    problems: list[str] = []
    for key in parameters:
        if not isinstance(key, str) or not key.isidentifier() or keyword.iskeyword(key):
            problems.append(f"parameter name {key!r} is not a plain Python identifier")
        elif key not in valid:
            problems.append(f"unknown parameter {key!r}{_suggest(key, names)}")
    if problems:
        raise ParameterError(f"{template}: " + "; ".join(problems)
                             + f". Valid parameters: {', '.join(names) or 'none'}")


def check_value(key: str, value: Any) -> str:
    """A string of bounded length without control characters (values are never parsed as code)."""
    if not isinstance(value, str):
        raise TypeError(f"notebook parameters must be strings, got {key}={type(value).__name__}")
    if len(value) > MAX_VALUE_LENGTH:
        raise ParameterError(f"parameter {key}: longer than {MAX_VALUE_LENGTH} characters")
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise ParameterError(f"parameter {key}: control characters (line breaks, escapes) are not allowed")
    return value


@dataclass
class DataDomains:
    """What the data allow: registered sources, kommune codes and covered years, cached per file
    version (a worker checks hundreds of reports against the same tables)."""

    _codes: dict[tuple[str, str], frozenset[str]]
    _years: dict[tuple[str, str], tuple[int, int] | None]

    @staticmethod
    def _version(folder: Path) -> str:
        files = sorted(folder.glob("*.parquet"))
        return "|".join(f"{f.name}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in files)

    def source(self, source: str) -> str:
        from settlement_research.catalog import CatalogError, check_source

        try:
            return check_source(source)
        except CatalogError as exc:
            raise ParameterError(f"parameter source: {exc}") from None

    def kommune_codes(self, source: str) -> frozenset[str]:
        import polars as pl

        from settlement_research.catalog import CatalogError, path

        try:
            file = path("kommune", self.source(source))
        except CatalogError as exc:
            raise ParameterError(f"parameter kommune_nr cannot be checked: {exc}") from None
        key = (source, f"{file.stat().st_size}:{file.stat().st_mtime_ns}")
        if key not in self._codes:
            codes = pl.read_parquet(file, columns=["kommune_nr"]).get_column("kommune_nr").cast(pl.String)
            self._codes = {key: frozenset(codes.drop_nulls().to_list())}
        return self._codes[key]

    def years(self, source: str) -> tuple[int, int] | None:
        """The first and last ``year`` over the source's tables (None if no table has years)."""
        import polars as pl

        from settlement_research.catalog import source_dir

        folder = source_dir(self.source(source))
        key = (source, self._version(folder))
        if key not in self._years:
            lows, highs = [], []
            for file in sorted(folder.glob("*.parquet")):
                if "year" not in pl.read_parquet_schema(file):
                    continue
                lo, hi = pl.scan_parquet(file).select(
                    pl.col("year").min().alias("lo"), pl.col("year").max().alias("hi")).collect().row(0)
                if lo is not None:
                    lows.append(int(lo))
                    highs.append(int(hi))
            self._years = {key: (min(lows), max(highs)) if lows else None}
        return self._years[key]


_DOMAINS = DataDomains({}, {})


def _integer(lo: int, hi: int) -> Callable[[str, str, str], None]:
    def check(key: str, value: str, _source: str) -> None:
        if not INTEGER.fullmatch(value) or not lo <= int(value) <= hi:
            raise ParameterError(f"parameter {key}={value!r}: must be an integer from {lo} to {hi}")
    return check


def _integer_list(lo: int, hi: int, most: int = 10) -> Callable[[str, str, str], None]:
    def check(key: str, value: str, _source: str) -> None:
        parts = [p.strip() for p in value.split(",")] if value.strip() else []
        if len(parts) > most or not all(INTEGER.fullmatch(p) and lo <= int(p) <= hi for p in parts):
            raise ParameterError(f"parameter {key}={value!r}: must be up to {most} comma-separated "
                                 f"integers from {lo} to {hi}")
    return check


def _choice(*allowed: str) -> Callable[[str, str, str], None]:
    def check(key: str, value: str, _source: str) -> None:
        if value not in allowed:
            raise ParameterError(f"parameter {key}={value!r}: must be one of {', '.join(allowed)}")
    return check


def _source(key: str, value: str, _source: str) -> None:
    _DOMAINS.source(value)


def _kommune_nr(key: str, value: str, source: str) -> None:
    if not KOMMUNE_NR.fullmatch(value):
        raise ParameterError(f"parameter {key}={value!r}: a municipality code is 4 digits, such as '0301'")
    if value not in _DOMAINS.kommune_codes(source):
        raise UnknownMunicipality(f"unknown municipality {key}={value!r}: not in the kommune table of source {source!r}")


def _year(key: str, value: str, source: str) -> None:
    if not YEAR.fullmatch(value):
        raise ParameterError(f"parameter {key}={value!r}: a year is 4 digits, such as '2014'")
    bounds = _DOMAINS.years(source)
    if bounds is None:
        raise ParameterError(f"parameter {key}={value!r}: source {source!r} has no table with years")
    if not bounds[0] <= int(value) <= bounds[1]:
        raise ParameterError(f"parameter {key}={value!r}: source {source!r} has data for {bounds[0]}–{bounds[1]} only")


# name -> check(key, value, source). Names not listed get the generic checks (and, when their
# declared default is an integer, must be one).
DOMAINS: dict[str, Callable[[str, str, str], None]] = {
    "source": _source,
    "kommune_nr": _kommune_nr,
    "n_permutations": _integer(1, 100_000),
    "window_months": _integer(1, 120),
    "migration_years": _integer(1, 30),
    "alternative_windows": _integer_list(1, 120),
    "lang": _choice("en", "nb"),
}


def is_year_parameter(name: str) -> bool:
    """``year`` and ``*_year`` hold a year (checked against the data; a report's span of years)."""
    return name == "year" or name.endswith("_year")


def _domain(name: str, default: str) -> Callable[[str, str, str], None] | None:
    if name in DOMAINS:
        return DOMAINS[name]
    if is_year_parameter(name):
        return _year
    if INTEGER.fullmatch(default):
        return _integer(-(10**9) + 1, 10**9 - 1)
    return None


def effective_source(parameters: Mapping[str, str], valid: Mapping[str, str]) -> str:
    """The source a run will read: the parameter, else the template's default, else the catalog's."""
    if "source" in parameters:
        return parameters["source"]
    if "source" in valid:
        return valid["source"]
    from settlement_research.catalog import CatalogError, default_source

    try:
        return default_source()
    except CatalogError as exc:
        raise ParameterError(str(exc)) from None


def check(parameters: Mapping[str, Any], valid: Mapping[str, str], template: str) -> dict[str, str]:
    """The checked parameters (a plain dict of strings), or ``ParameterError``/``TypeError``.

    ``valid`` is :func:`declared` of the template. ``UnknownMunicipality`` is raised last, after
    every other check passed, so a batch may fail that one report and render the rest.
    """
    check_keys(parameters, valid, template)
    checked = {key: check_value(key, value) for key, value in parameters.items()}
    domains = {k: d for k in checked if (d := _domain(k, valid[k])) is not None}
    if not domains:
        return checked
    needs_data = [k for k, d in domains.items() if d in (_kommune_nr, _year)]
    source = effective_source(checked, valid) if needs_data or "source" in domains else ""
    if needs_data:
        _DOMAINS.source(source)
    later: list[tuple[str, Callable[[str, str, str], None]]] = []
    for key, domain in domains.items():
        if domain is _kommune_nr:
            later.append((key, domain))
        else:
            domain(key, checked[key], source)
    first = checked.get("first_year", valid.get("first_year"))
    last = checked.get("last_year", valid.get("last_year"))
    if first and last and YEAR.fullmatch(first) and YEAR.fullmatch(last) and int(first) > int(last):
        raise ParameterError(f"first_year={first!r} is after last_year={last!r}")
    for key, domain in later:
        domain(key, checked[key], source)
    return checked


# ---------------------------------------------------------------------------------------- injection


def inject(nb: nbformat.NotebookNode, parameters: Mapping[str, str]) -> nbformat.NotebookNode:
    """Put the (checked) parameters into ``nb`` as ``name = 'value'`` after the parameters cell.

    The value is the ``repr`` of a str, so it is a string literal whatever it holds. Replaces an
    earlier injected cell; records the parameters in the notebook's papermill metadata.
    """
    source = "# Parameters\n" + "".join(f"{name} = {value!r}\n" for name, value in parameters.items())
    cell = nbformat.v4.new_code_cell(source=source)
    cell.metadata["tags"] = [INJECTED_TAG]
    cells = [c for c in nb.cells if INJECTED_TAG not in c.metadata.get("tags", [])]
    anchor = parameters_cell(nb)
    index = next((i for i, c in enumerate(cells) if c is anchor), -1) + 1
    nb.cells = [*cells[:index], cell, *cells[index:]]
    nb.metadata.setdefault("papermill", {})["parameters"] = dict(parameters)
    return nb


def verify_injected(nb: nbformat.NotebookNode, transform: Callable[[str], str] | None = None) -> None:
    """Refuse to run a notebook whose injected-parameters cell is anything but string assignments
    to declared names. ``transform``: IPython's ``transform_cell``, to refuse what IPython would
    rewrite (``!cmd``, ``%magic``) even where plain Python would parse it."""
    injected = [c for c in nb.cells if c.cell_type == "code" and INJECTED_TAG in c.metadata.get("tags", [])]
    if not injected:
        return
    valid = declared(nb, "notebook")
    for cell in injected:
        assignments = _assignments(cell.source, "injected parameters")
        check_keys(assignments, valid, "injected parameters")
        for name, value in assignments.items():
            if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
                raise ParameterError(f"injected parameters: {name} is not assigned a string literal")
        if transform is not None and ast.dump(ast.parse(transform(cell.source))) != ast.dump(ast.parse(cell.source)):
            raise ParameterError("injected parameters: the cell holds IPython syntax (magics, shell escapes)")


__all__ = [
    "DOMAINS", "INJECTED_TAG", "MAX_VALUE_LENGTH", "ParameterError", "UnknownMunicipality", "check",
    "check_keys", "check_value", "declared", "effective_source", "inject", "is_year_parameter", "parameters_cell", "verify_injected",
]
