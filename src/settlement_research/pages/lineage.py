"""Cell-level lineage on pages: every number a table shows says where it came from.

A page keeps one :class:`PageLineage`. Each table goes through :meth:`PageLineage.table` with a
spec per shown column (:class:`Cells`: which clean table, key and column a shown cell is, or how it
was computed from several); the rendered HTML gets a hover (``title``) on every number naming
source, edition and origin (file + record, or "derived from N person-level rows"), and the page's
``NAME.lineage.json`` lists every number with its origin (``settlement-research trace`` reads it).
Suppressed cells keep their reason as hover, never their origin.

A page states what is the cell's own (source, edition, file, record or wide cell, raw text, clean
row, harmonisation part): :data:`PAGE_FIELDS`. The raw file's sha256 and the transformation steps
are not on the page: the sha is the whole file's, so one edited row would change every page that
reads the file and the report cache (which hashes each lookup's answer) would re-render them all;
``trace`` resolves both from data_clean's lineage and the build manifest.

Privacy: no person id is ever read here (person tables have no key in their lineage), and a count
of person-level rows is written only when it is the number the cell itself shows (a published count),
never as a range or a bound, so lineage publishes no register count the page does not.
"""

from __future__ import annotations

import html as html_lib
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from settlement_research.io import write_text_atomic
from settlement_research.pipeline.lineage import format_key, lineage_path

LINEAGE_SUFFIX = ".lineage.json"
VERSION = 1
_TD = re.compile(r"<td(?P<attrs>[^>]*)>(?P<text>.*?)</td>", re.S)
_TR = re.compile(r"<tr>(?P<cells>.*?)</tr>", re.S)
_TITLE = re.compile(r'\btitle="(?P<title>[^"]*)"')
ROW_KEY_SEP = " | "
SOURCE_NAMES = {"imdi": "IMDi integreringsdata", "synthetic": "synthetic register extract", "ssb": "SSB"}


@dataclass(frozen=True)
class Cells:
    """How the shown cells of one column map to clean data.

    ``table``/``column``: the clean table and column (``table=None``: not from a clean table, e.g.
    a published constant; say where from in ``how``). ``fixed``: key values common to the table
    (the page's municipality); ``by``: shown column -> key column whose value the row gives;
    ``over``: key column -> values the shown number pools (a window total is one cell over years);
    ``how``: the computation when the number is not a clean value itself.
    """

    table: str | None
    column: str | None = None
    fixed: Mapping[str, Any] = field(default_factory=dict)
    by: Mapping[str, str] = field(default_factory=dict)
    over: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    how: str = ""
    pool: Mapping[str, str] = field(default_factory=dict)  # key column -> code prefix pooled ('' = all)
    computed: Computed | None = None  # a number computed from many rows (a sum, a mean, a model estimate)

    def keys(self, row: Mapping[str, Any], key_columns: Sequence[str]) -> list[dict[str, Any]]:
        """The clean keys (in the table's primary-key order) this shown row's cell comes from."""
        base = {**self.fixed, **{k: row.get(shown) for shown, k in self.by.items()}}
        combos = itertools.product(*self.over.values()) if self.over else [()]
        out = []
        for combo in combos:
            values = {**base, **dict(zip(self.over, combo, strict=True))}
            out.append({k: values.get(k) for k in key_columns})
        return out


def rows(table: str, columns: Mapping[str, str], *, fixed: Mapping[str, Any] | None = None,
         by: Mapping[str, str] | None = None, over: Mapping[str, Sequence[Any]] | None = None,
         how: str = "", pool: Mapping[str, str] | None = None) -> dict[str, Cells]:
    """``{shown column: Cells}`` for several columns of one clean table (``columns``: shown -> clean).

    ``pool``: the number pools every clean row whose key column starts with the prefix (a county's
    or the country's share): the lineage names the rows by pattern and count, not one by one.
    """
    return {shown: Cells(table, col, dict(fixed or {}), dict(by or {}), dict(over or {}), how, dict(pool or {}))
            for shown, col in columns.items()}


@dataclass(frozen=True)
class Computed:
    """A number computed from whole clean tables rather than read from one cell: a model estimate
    (``model``), a mean or a sum over groups. ``rows``: how many rows of the first of ``tables``
    went in (the model's sample, in its unit; the other tables are joined to it; None: not stated).
    A count of person-level rows is published only where it is the number the cell shows
    (:func:`rows_text`), so an estimate from the register says which tables, not how many persons."""

    tables: tuple[str, ...]
    model: str = ""
    rows: int | None = None
    label: tuple[str, ...] = ()  # shown columns naming each row's own model (a robustness table): see per_row
    per_row: Mapping[str, tuple[str, int | None]] = field(default_factory=dict)  # label -> (model, rows)

    def of_row(self, row: Mapping[str, Any]) -> tuple[str, int | None]:
        """(model, rows) of one shown row: its own where the table has one model per row."""
        if not self.label:
            return self.model, self.rows
        return self.per_row.get(ROW_KEY_SEP.join(str(row.get(c)) for c in self.label), (self.model, self.rows))


def computed(columns: Sequence[str], *, how: str, tables: Sequence[str], model: str = "",
             rows: int | None = None) -> dict[str, Cells]:
    """Columns whose numbers are computed on the page from ``tables`` (``how``: the computation;
    ``model``: the estimator for model estimates; ``rows``: the rows of ``tables`` that went in)."""
    spec = Computed(tuple(tables), model, None if rows is None else int(rows))
    return {c: Cells(spec.tables[0] if spec.tables else None, None, how=how, computed=spec) for c in columns}


def estimated(columns: Sequence[str], fit: Any, tables: Sequence[str], how: str = "") -> dict[str, Cells]:
    """Columns of a model's table (``analysis.models.FitResult`` or anything with ``model`` and
    ``n_obs``): "estimated by <model> from N rows of <tables>"."""
    model = str(getattr(fit, "model", "") or "model")
    formula = getattr(fit, "formula", None)
    return computed(columns, how=how or (f"{model}: {formula}" if formula else model), tables=tables, model=model,
                    rows=getattr(fit, "n_obs", None))


def estimated_rows(columns: Sequence[str], fits: Mapping[Any, Any], label: str | Sequence[str],
                   tables: Sequence[str], how: str = "") -> dict[str, Cells]:
    """Columns of a table with one model per row, e.g. a robustness table: each row says its own
    estimator and sample. ``fits``: the row's value in column ``label`` (a tuple of values for
    several label columns, as the table shows them) -> its fit."""
    labels = (label,) if isinstance(label, str) else tuple(label)
    per_row = {ROW_KEY_SEP.join(map(str, k if isinstance(k, tuple) else (k,))):
               (str(getattr(f, "model", "") or "model"), getattr(f, "n_obs", None)) for k, f in fits.items()}
    spec = Computed(tuple(tables), "", None, labels, per_row)
    return {c: Cells(spec.tables[0] if spec.tables else None, None, how=how or "one model per row", computed=spec)
            for c in columns}


def numeric(frame: pl.DataFrame, *, skip: Sequence[str] = ()) -> list[str]:
    """The frame's number columns that are not labels (years, codes): the ones a table shows as numbers."""
    from settlement_research.pages.tables import LABEL_UNITS, unit_of

    return [c for c, t in frame.schema.items() if c not in skip and t.is_numeric() and unit_of(c, t) not in LABEL_UNITS]


def constant(columns: Sequence[str], how: str) -> dict[str, Cells]:
    """Columns whose numbers are not from a clean table (a published constant, named in ``how``)."""
    return {c: Cells(None, None, how=how) for c in columns}


# ----------------------------------------------------------------------------- clean-side lookup


# The fields of a clean table's lineage row that a page states (:func:`origin_of`). A lookup
# returns, and logs for the report cache, only these: a page's cache key then moves only when what
# the page shows moves. The raw file's sha256 and the steps are page-external (one edited row
# changes the sha of every row read from that file): ``trace`` reads them from data_clean.
PAGE_FIELDS = ("row", "role", "edition", "file", "record", "cell", "value_raw", "derived_from", "derived_rows",
               "from_key", "weight")
# (path, mtime, size) of a lineage file -> its index: read once per process, not once per page
_TABLES: dict[tuple[str, int, int], dict[tuple[str | None, str | None], list[dict[str, Any]]]] = {}
_COUNTS: dict[tuple[str, int, int, str], int] = {}  # (file, mtime, size, key pattern) -> rows: peers repeat


class Origins:
    """Lookups in ``data_clean/<source>/lineage/<table>.parquet`` (loaded once per table), each
    answering with the :data:`PAGE_FIELDS` of the lineage rows only."""

    def __init__(self, source: str, clean_dir: Path | None = None) -> None:
        from settlement_research.paths import data_clean_dir

        self.source = source
        self.clean_dir = Path(clean_dir) if clean_dir is not None else data_clean_dir()
        self._index: dict[str, dict[tuple[str | None, str | None], list[dict[str, Any]]]] = {}
        self._slots: dict[str, tuple[str, int, int]] = {}

    def available(self, table: str) -> bool:
        return lineage_path(self.clean_dir, self.source, table).is_file()

    def _table(self, table: str) -> dict[tuple[str | None, str | None], list[dict[str, Any]]]:
        if table not in self._index:
            index: dict[tuple[str | None, str | None], list[dict[str, Any]]] = {}
            path = lineage_path(self.clean_dir, self.source, table)
            if path.is_file():
                stat = path.stat()
                slot = (str(path), stat.st_mtime_ns, stat.st_size)
                cached = _TABLES.get(slot)  # a batch worker renders hundreds of pages from one file
                if cached is None:
                    lin = pl.read_parquet(path)
                    shown = [pl.col(f) if f in lin.columns else pl.lit(None).alias(f) for f in PAGE_FIELDS]
                    for key, column, rec in zip(lin["key"], lin["column"], lin.select(shown).to_dicts(), strict=True):
                        index.setdefault((key, column), []).append(rec)
                    _TABLES.update({slot: index} if len(_TABLES) < 32 else {})
                else:
                    index = cached
                self._slots[table] = slot
            self._index[table] = index
        return self._index[table]

    def cell(self, table: str, key: Mapping[str, Any], column: str | None) -> list[dict[str, Any]]:
        """The lineage rows of one clean cell (its own, else its row's), in origin order, as
        :data:`PAGE_FIELDS`. A key value left None matches any value (the municipality's one row
        in ``kommune``)."""
        out = self._cell(table, key, column)
        _log(self.source, table, {"op": ["cell"], "key": [json.dumps(dict(key), sort_keys=True, default=str)],
                                  "column": [column]}, out)
        return out

    def _cell(self, table: str, key: Mapping[str, Any], column: str | None) -> list[dict[str, Any]]:
        index = self._table(table)
        if any(v is None for v in key.values()):
            pattern = re.compile(";".join(f"{re.escape(c)}=" + (".*" if v is None else re.escape(str(v)))
                                          for c, v in key.items()) + "$")
            keys = sorted({k for k, _c in index if k is not None and pattern.match(k)})
            return [r for k in keys for r in (index.get((k, column)) or index.get((k, None)) or [])]
        k = format_key(key)
        return index.get((k, column)) or index.get((k, None)) or []

    def count(self, table: str, pattern: re.Pattern[str]) -> int:
        """How many clean rows of ``table`` have a key matching ``pattern``."""
        n = self._count(table, pattern)
        _log(self.source, table, {"op": ["count"], "pattern": [pattern.pattern]}, n)
        return n

    def _count(self, table: str, pattern: re.Pattern[str]) -> int:
        index = self._table(table)
        slot = (*self._slots[table], pattern.pattern) if table in self._slots else None
        if slot is None or slot not in _COUNTS:
            n = len({k for k, _c in index if k is not None and pattern.match(k)})
            if slot is None or len(_COUNTS) >= 100_000:
                return n
            _COUNTS[slot] = n
        return _COUNTS[slot]

    def recompute(self, table: str, where: Mapping[str, Sequence[Any]]) -> Any:
        """The answer a logged lookup (``where`` as :func:`_log` wrote it) gives on the current data;
        the report cache compares its hash with the one logged when the page was rendered."""
        if where["op"] == ["count"]:
            return self._count(table, re.compile(where["pattern"][0]))
        return self._cell(table, json.loads(where["key"][0]), where["column"][0])


def _log(source: str, table: str, where: dict[str, list[Any]], answer: Any) -> None:
    """A page's hovers depend on the lineage rows it looked up, not on the whole build: log the
    lookup (``readlog`` kind ``lineage``) so the report cache re-renders only when they change."""
    from settlement_research import readlog

    readlog.record(f"lineage:{source}/{table}", answer, where=where)


def _pk(table: str) -> list[str]:
    from settlement_research.model import primary_key

    return primary_key(table)


def _person_tables() -> list[str]:
    from settlement_research.model import PERSON_TABLES

    return PERSON_TABLES


def _same_number(count: str, shown: str) -> bool:
    """Whether a lineage count is the number the cell shows (12 is the 12.0 or 12,0 of a value column)."""
    try:
        return float(count) == float(shown.replace(",", "."))
    except ValueError:
        return count == shown


def rows_text(n: int | None, shown: Any, t: int) -> str | None:
    """A count of person-level rows as a page may show it: only when it is the number the cell
    itself shows (a published count at or above ``t``, or a shown 0), else not at all (None).

    Why not a range: a window total's lineage listed each year's rows as "0", "<5" or "5-9"; with
    the shown total that pinned suppressed years exactly (peer 1749: total 7, three years "0", one
    "5-9" -> the two hidden years are 1 and 1, and 2014 is 5). Rounded counts of parts of a
    published total are equations the whole-set audit never saw."""
    if n is None or isinstance(shown, bool) or not isinstance(shown, int | float) or float(shown) != float(n):
        return None
    return str(int(n)) if n == 0 or n >= t else None


def origin_of(rec: Mapping[str, Any], shown: Any, t: int) -> dict[str, Any]:
    """One lineage row as the page shows it (never a person id, never a small count)."""
    if rec["role"] == "derived":
        return {"role": "derived", "derived_from": rec["derived_from"],
                "person_level_rows": rows_text(rec["derived_rows"], shown, t), "clean_row": rec["row"]}
    # no sha256: it is the whole file's (one edited row would change every page reading the file);
    # ``trace`` names it from data_clean's lineage
    out = {"role": rec["role"], "edition": rec["edition"], "file": rec["file"], "record": rec["record"],
           "cell": rec["cell"], "value_raw": rec["value_raw"], "clean_row": rec["row"]}
    if rec.get("from_key") is not None:  # a part of a harmonised row: its row in the old codes and weight
        out |= {"from_key": rec["from_key"], "weight": rec["weight"]}
    return out


# The hover's words per page language; table and file names are identifiers and stay as they are.
HOVER: dict[str, dict[str, str]] = {
    "en": {"origin": "Origin: {how}", "computed": "computed on this page",
           "pools": "{how}: pools {n} clean rows of {table}; {src}",
           "derived": "derived from {n}person-level rows ({tables})", "record": "{file} record {record}",
           "column": ", column '{cell}'", "more": "; and {n} more", "how": "{how} of {n} clean rows of {table}. ",
           "edition": ", edition {editions}", "none": "no recorded origin",
           "estimated": "estimated by {model} from", "computed_from": "{how}: computed from",
           "rows": "{n}rows of {tables}", "person_rows": "{n}person-level rows of {tables}",
           "with": " (with {tables})", "harmonised": "harmonised from {key}, weight {weight}"},
    "nb": {"origin": "Opphav: {how}", "computed": "beregnet på denne siden",
           "pools": "{how}: slår sammen {n} rensede rader av {table}; {src}",
           "derived": "avledet fra {n}rader på personnivå ({tables})", "record": "{file} post {record}",
           "column": ", kolonne '{cell}'", "more": "; og {n} til", "how": "{how} av {n} rensede rader av {table}. ",
           "edition": ", utgave {editions}", "none": "opphav ikke registrert",
           "estimated": "estimert med {model} fra", "computed_from": "{how}: beregnet fra",
           "rows": "{n}rader av {tables}", "person_rows": "{n}rader på personnivå av {tables}",
           "with": " (med {tables})", "harmonised": "harmonisert fra {key}, vekt {weight}"},
}
# The profile's descriptions of how a number is made, in bokmål (others are shown as written).
HOW_NB = {
    "share x 100": "andel x 100",
    "sum over the window": "sum over perioden",
    "in work or education / leavers with known status x 100": "i arbeid eller utdanning / avsluttet med kjent status x 100",
    "share of the county's leavers (sums of counts and bases) x 100":
        "andel av fylkets avsluttede (summer av antall og grunnlag) x 100",
    "share of all leavers in Norway (sums of counts and bases) x 100":
        "andel av alle avsluttede i Norge (summer av antall og grunnlag) x 100",
    "window total per 1000 inhabitants (kommune_context_year.population)":
        "sum for perioden per 1000 innbyggere (kommune_context_year.population)",
    "the latest year with a value in the window": "siste år med verdi i perioden",
    "Fafo 2015, table of Husbanken-IMDi cooperation (settlement_research.regions.coordination_index)":
        "Fafo 2015, tabell over samarbeid Husbanken-IMDi (settlement_research.regions.coordination_index)",
}


def _hover(origin: Mapping[str, Any], lang: str = "en") -> str:
    """One line for a cell's ``title`` in the page's language: source, edition, origin."""
    from settlement_research.pages.banner import SOURCE_NAMES_NB

    w = HOVER["nb" if lang == "nb" else "en"]
    how_text = origin.get("how")
    if lang == "nb" and how_text:
        how_text = HOW_NB.get(how_text, how_text)
    if origin.get("table") is None:
        return w["origin"].format(how=how_text or w["computed"])
    names = SOURCE_NAMES_NB if lang == "nb" else SOURCE_NAMES
    src = names.get(origin["source"], SOURCE_NAMES.get(origin["source"], origin["source"]))
    if origin.get("computed"):
        c = origin["computed"]
        n = f"{c['rows']} " if c.get("rows") is not None else ""
        what = w["person_rows" if c.get("person_level") else "rows"].format(n=n, tables=c["tables"][0])
        if len(c["tables"]) > 1:
            what += w["with"].format(tables=", ".join(c["tables"][1:]))
        lead = w["estimated"].format(model=c["model"]) if c.get("model") else w["computed_from"].format(how=how_text)
        return f"{lead} {what}; {src}"
    if origin.get("pooled"):
        p = origin["pooled"]
        return w["pools"].format(how=how_text, n=p["clean_rows"], table=origin["table"], src=src)  # pattern: lineage.json
    parts: list[str] = []
    for item in origin["clean"]:
        for o in item["origins"]:
            if o["role"] == "derived":
                n = o.get("person_level_rows")
                parts.append(w["derived"].format(n=f"{n} " if n else "", tables=o["derived_from"]))
            else:
                where = w["record"].format(file=o["file"], record=o["record"]) if o.get("record") else str(o["file"] or "")
                if o.get("cell"):
                    where += w["column"].format(cell=o["cell"])
                if o.get("from_key"):
                    where = w["harmonised"].format(key=o["from_key"], weight=f"{o['weight']:g}") + (
                        f" ({where})" if o.get("file") else "")
                parts.append(where)
    editions = sorted({o["edition"] for item in origin["clean"] for o in item["origins"] if o.get("edition")})
    head = src + (w["edition"].format(editions=", ".join(editions)) if editions else "")
    unique = list(dict.fromkeys(parts))
    shown = "; ".join(unique[:2]) + (w["more"].format(n=len(unique) - 2) if len(unique) > 2 else "")
    how = w["how"].format(how=how_text, n=len(origin["clean"]), table=origin["table"]) if how_text else ""
    return f"{how}{head}: {shown or w['none']}"


# ----------------------------------------------------------------------------------- the page


@dataclass
class LineageTable:
    """A rendered table with lineage hovers; displays itself as HTML in a notebook."""

    html: str

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.html


class PageLineage:
    """Collects the origin of every number a page's tables show; writes ``NAME.lineage.json``."""

    def __init__(self, source: str, *, clean_dir: Path | None = None, t: int | None = None,
                 lang: str = "en") -> None:
        from settlement_research.sdc.rules import threshold

        self.source = source
        self.lang = lang  # the hovers' language (the lineage file stays in English field names)
        self.origins = Origins(source, clean_dir)
        self.t = threshold() if t is None else t
        self.entries: list[dict[str, Any]] = []

    def origin(self, spec: Cells, row: Mapping[str, Any], shown: Any) -> dict[str, Any]:
        if spec.computed is not None:
            return self._computed(spec, row, shown)
        if spec.table is None:
            return {"table": None, "how": spec.how}
        if spec.pool:
            key = spec.keys(row, _pk(spec.table))[0]
            pattern = ";".join(f"{c}=" + (f"{spec.pool[c]}*" if c in spec.pool else str(key.get(c)))
                               for c in _pk(spec.table))
            regex = re.compile(re.escape(pattern).replace(r"\*", ".*") + "$")
            return {"source": self.source, "table": spec.table, "column": spec.column, "how": spec.how,
                    "pooled": {"key_pattern": pattern, "clean_rows": self.origins.count(spec.table, regex)},
                    "clean": []}
        clean = []
        for key in spec.keys(row, _pk(spec.table)):
            recs = self.origins.cell(spec.table, key, spec.column)
            single = shown if not spec.over else None  # a pooled number is not any one row's count
            # the steps stay in data_clean's lineage (``trace`` prints them): one page file per
            # profile would otherwise repeat them for every number
            clean.append({"key": format_key(key), "row": recs[0]["row"] if recs else None,
                          "origins": [origin_of(r, single, self.t) for r in recs]})
        return {"source": self.source, "table": spec.table, "column": spec.column, "how": spec.how, "clean": clean}

    def _computed(self, spec: Cells, row: Mapping[str, Any], shown: Any) -> dict[str, Any]:
        """A number computed from whole tables: which tables, by what, from how many rows (a
        person-level count only where it is the number shown)."""
        from settlement_research.model import PERSON_TABLES

        c = spec.computed
        assert c is not None
        model, n = c.of_row(row)
        person = bool(c.tables) and c.tables[0] in PERSON_TABLES  # the first table is the rows' unit
        rows = rows_text(n, shown, self.t) if person else (None if n is None else str(n))
        return {"source": self.source, "table": spec.table, "column": None, "how": spec.how,
                "computed": {"model": model or None, "tables": list(c.tables), "rows": rows,
                             "person_level": person}, "clean": []}

    def table(self, rendered: Any, frame: pl.DataFrame, name: str, cells: Mapping[str, Cells] | None = None,
              columns: Sequence[str] | None = None) -> LineageTable:
        """``rendered`` (``sdc.to_html`` of ``frame``) with a hover on every number; records them.

        ``columns``: the shown columns in order (default: as ``sdc.to_html`` shows them, each
        ``<col>_symbol`` folded into its value cell).
        """
        html = str(rendered)
        cells = dict(cells or {})
        if columns is None:
            columns = [c for c in frame.columns if not (c.endswith("_symbol") and c[: -len("_symbol")] in frame.columns)]
        data = frame.to_dicts()
        head, sep, body = html.partition("<tbody>")
        if not sep:
            return LineageTable(html)
        body, end, tail = body.partition("</tbody>")
        out_rows = []
        for r, match in enumerate(_TR.finditer(body)):
            row = data[r] if r < len(data) else {}
            label = next((str(row[c]) for c in columns if c not in cells and row.get(c) is not None), str(r + 1))
            tds = list(_TD.finditer(match.group("cells")))
            new_cells = []
            for j, td in enumerate(tds):
                column = columns[j] if j < len(columns) else None
                attrs, text = td.group("attrs"), td.group("text")
                plain = html_lib.unescape(text)
                if column is None or column not in cells or not plain.strip():
                    new_cells.append(td.group(0))
                    continue
                entry: dict[str, Any] = {"table": name, "row": label, "row_nr": r + 1, "column": column, "text": plain}
                if 'data-sdc="suppressed"' in attrs:
                    title = _TITLE.search(attrs)
                    entry.update(status="suppressed", reason=html_lib.unescape(title.group("title")) if title else "suppressed")
                    self.entries.append(entry)
                    new_cells.append(td.group(0))
                    continue
                origin = self.origin(cells[column], row, row.get(column))
                entry.update(status="shown", origin=origin)
                self.entries.append(entry)
                hover = html_lib.escape(_hover(origin, self.lang), quote=True)
                cell_id = html_lib.escape(f"{name}:{label}:{column}", quote=True)
                new_cells.append(f'<td{attrs} title="{hover}" data-lineage="{cell_id}">{text}</td>')
            out_rows.append("<tr>" + "".join(new_cells) + "</tr>")
        return LineageTable(head + sep + "".join(out_rows) + end + tail)

    def document(self) -> dict[str, Any]:
        return {"lineage_version": VERSION, "source": self.source, "threshold": self.t,
                "clean_dir_relative": f"{self.source}/lineage", "numbers": self.entries}

    def save(self, path: str | Path | None = None) -> Path | None:
        """Write ``NAME.lineage.json`` beside the page (from the runner's results path) or ``path``."""
        target = Path(path) if path is not None else page_lineage_path()
        if target is None:
            return None
        write_text_atomic(json.dumps(self.document(), ensure_ascii=False, separators=(",", ":")) + "\n", target)
        return target


def page_lineage_path() -> Path | None:
    """``<out>/<name>.lineage.json`` when a runner renders the page (interactive: None)."""
    from settlement_research.reports.results import results_path

    results = results_path()
    if results is None:
        return None
    return lineage_file_for(results)


def lineage_file_for(path: Path) -> Path:
    """The lineage file of a page, results.json or notebook path (same stem)."""
    name = path.name
    for ext in (".results.json", LINEAGE_SUFFIX, ".html", ".ipynb"):
        if name.endswith(ext):
            return path.with_name(name[: -len(ext)] + LINEAGE_SUFFIX)
    return path.with_name(name + LINEAGE_SUFFIX)


# Every key a page lineage file has (PageLineage.document, origin, _computed, origin_of), by where
# it stands: the gate reads these fields; anything else would be published unread.
_SCHEMA: dict[str, frozenset[str]] = {
    "": frozenset({"lineage_version", "source", "threshold", "clean_dir_relative", "numbers"}),
    "numbers": frozenset({"table", "row", "row_nr", "column", "text", "status", "reason", "origin"}),
    "origin": frozenset({"source", "table", "column", "how", "clean", "pooled", "computed"}),
    "clean": frozenset({"key", "row", "origins"}),
    "origins": frozenset({"role", "edition", "file", "record", "cell", "value_raw", "clean_row",
                          "derived_from", "person_level_rows", "from_key", "weight"}),
    "pooled": frozenset({"key_pattern", "clean_rows"}),
    "computed": frozenset({"model", "tables", "rows", "person_level"}),
}
_PROSE_FIELDS = ("how", "reason", "model")  # template-written words, shown in the hover


def _schema_findings(doc: Any, name: str, t: int) -> list[Any]:
    """Keys the page lineage never writes (a template writing its own lineage file can put a
    register count anywhere) and small counts in the words a template chose (``how``)."""
    from settlement_research.sdc.audit import Finding
    from settlement_research.sdc.context import prose_counts

    unknown, wordy = 0, 0

    def walk(obj: Any, where: str) -> None:
        nonlocal unknown, wordy
        if isinstance(obj, list):
            for item in obj:
                walk(item, where)
            return
        if not isinstance(obj, dict):
            return
        allowed = _SCHEMA.get(where)
        for key, value in obj.items():
            if allowed is None or key not in allowed:
                unknown += 1
                continue
            if key in _PROSE_FIELDS and isinstance(value, str) and prose_counts(value, t):
                wordy += 1
            if key in _SCHEMA and isinstance(value, dict | list):
                walk(value, key)
            elif isinstance(value, dict | list) and key != "tables" and key != "derived_from":
                unknown += 1  # a structure where the page lineage writes a plain value

    walk(doc, "")
    out = []
    if unknown:
        out.append(Finding("unreadable_cell", name, f"{unknown} field(s) the page lineage does not write"))
    if wordy:
        out.append(Finding("small_count", name, f"a number below {t} written as a count in a lineage description"))
    return out


def audit_lineage(path: Path, *, ids: frozenset[str], t: int) -> list[Any]:
    """The disclosure gate's view of a lineage file: no identifier, no person-level count below t,
    no field the page lineage does not write (:data:`_SCHEMA`)."""
    from settlement_research.sdc.audit import Finding, count_identifiers

    if not path.is_file():
        return []
    text = path.read_text("utf-8")
    findings = []
    if count_identifiers(text, ids):
        findings.append(Finding("identifier", path.name, "identifier value(s) in the lineage file"))
    try:
        doc = json.loads(text)
    except ValueError:
        return [*findings, Finding("unreadable_cell", path.name, "the lineage file is not valid JSON")]
    if not isinstance(doc, dict):
        return [*findings, Finding("unreadable_cell", path.name, "the lineage file is not a lineage document")]
    findings += _schema_findings(doc, path.name, t)
    for entry in doc.get("numbers", []):
        shown = re.sub(r"[\s\u202f\u00a0]", "", str(entry.get("text", "")))
        origin = entry.get("origin") or {}
        counts = [o.get("person_level_rows") for item in origin.get("clean", []) for o in item.get("origins", [])]
        computed = origin.get("computed") or {}
        tables = computed.get("tables") or [None]
        if computed.get("person_level") or tables[0] in _person_tables():  # the flag is not taken on trust
            counts.append(computed.get("rows"))
        for n in counts:
            if n is not None and str(n).isdigit() and 0 < int(n) < t:
                findings.append(Finding("small_count", path.name, "a person-level row count below the threshold"))
            elif n is not None and not _same_number(str(n), shown):  # a count of a part of what the cell shows
                findings.append(Finding("small_count", path.name, "a person-level row count that the page does "
                                        "not show (parts of a total recover hidden cells)"))
    return findings


__all__ = ["Cells", "Computed", "LINEAGE_SUFFIX", "LineageTable", "Origins", "PAGE_FIELDS", "PageLineage", "audit_lineage",
           "computed", "constant", "estimated", "estimated_rows", "lineage_file_for", "numeric", "origin_of", "page_lineage_path",
           "rows", "rows_text"]
