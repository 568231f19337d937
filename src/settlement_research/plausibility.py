"""Plausibility checks beyond the model's rules: values a reviewer should look at, worst first.

The model's rules say what is impossible (a negative count). Many errors are possible but
implausible: ``settled = 49`` against ``decided = 4`` breaks no rule, yet it is almost certainly a
typo. Three kinds of check score every row with a robust z-score (distance from the median in units
of the scaled median absolute deviation, 1.4826 × MAD, so outliers cannot hide themselves by
inflating the spread):

- ``ratio``: one count far above another it should follow (settled vs decided). Counts are compared
  on the square-root scale (``√a − √b``), which stabilises the variance of counts: ``72 vs 36`` in a
  large municipality and ``6 vs 3`` in a small one are not equally surprising. One-sided: far
  *below* is common (slow settlement, declined requests).
- ``jump``: a municipality's value far from last year's value times the national growth of the
  year (ratio of the totals; square-root scale), so a national wave such as 2015-16, which
  multiplied every municipality's numbers, is not a jump, while one municipality's spike is.
- ``value``: a rate or share far from that year's median across municipalities (for shares the
  yardstick is at least 5 percentage points, so a column of mostly zeros does not flag every non-zero).

Only aggregate municipality-year tables are scored (person-level register tables are checked by the
model and the cross-table rules; their rows are never listed here). Findings are warnings, never
errors: nothing is quarantined for being unusual. Within a finding rows are ranked by score; findings
are ranked by kind (a contradiction inside one row before a change over time before an unusual
value), then by their worst score.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

import polars as pl

from settlement_research.model import AGGREGATE_TABLES, get_model, primary_key

Kind = Literal["ratio", "jump", "value"]
KIND_ORDER: dict[str, int] = {"ratio": 0, "jump": 1, "value": 2}
THRESHOLD = 3.5          # Iglewicz & Hoaglin's cut-off for the modified z-score
MIN_VALUES = 10          # fewer comparable values than this: no distribution to be outside of
SQRT_NOISE = 0.5         # sd of √count for Poisson counts: a spread below this is noise, not signal
SHARE_FLOOR = 0.05       # shares: a spread below 5 percentage points is not a yardstick
MAX_EXAMPLES = 20
_ROW = "__row"

# count pairs (a, b): a should rarely be far above b
RATIO_PAIRS: dict[str, list[tuple[str, str]]] = {
    "kommune_settlement_year": [("settled", "decided"), ("settled", "requested"), ("decided", "requested")],
    "kommune_intro_year": [("leavers", "participants"), ("leavers_completed", "leavers")],
}
_COUNT_UNITS = {"persons", "loans", "dwellings", "spells", "count"}


@dataclass(frozen=True)
class Check:
    """One plausibility check of a table: what it compares and how it is scored."""

    name: str
    kind: Kind
    table: str
    columns: tuple[str, ...]
    description: str
    sqrt_scale: bool = True
    floor: float = 0.0


@dataclass
class Finding:
    """The rows of one check that lie beyond the threshold, ranked worst first."""

    check: str
    kind: Kind
    table: str
    columns: list[str]
    message: str
    n_checked: int
    n_rows: int
    max_score: float
    threshold: float = THRESHOLD
    rows: list[int] = field(default_factory=list)        # 0-based, ranked worst first
    scores: list[float] = field(default_factory=list)    # same order as rows
    examples: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("rows")
        out.pop("scores")
        out["row_numbers"] = [r + 1 for r in self.rows[:MAX_EXAMPLES]]
        return out


@dataclass
class Skipped:
    """A check that could not score anything, and why (so silence is never mistaken for a pass)."""

    check: str
    reason: str


class RowScores(NamedTuple):
    """The score of every row a check could score (0-based row -> score), and what it compared."""

    columns: tuple[str, ...]
    by_row: dict[int, float]


class Outcome(NamedTuple):
    findings: list[Finding]
    skipped: list[Skipped]
    scores: dict[str, RowScores]


def _unit(table: str, column: str) -> str:
    meta = get_model(table).to_schema().columns[column].metadata or {}
    return str(meta.get("unit", ""))


def checks_for(table: str) -> list[Check]:
    """The plausibility checks that apply to ``table`` (none for person-level tables)."""
    if table not in AGGREGATE_TABLES:
        return []
    schema = get_model(table).to_schema()
    key = primary_key(table)
    out: list[Check] = []
    for a, b in RATIO_PAIRS.get(table, []):
        if a in schema.columns and b in schema.columns:
            out.append(Check(f"{a}_vs_{b}", "ratio", table, (a, b),
                             f"{a} far above {b} (robust z of √{a} − √{b}, one-sided)"))
    if set(key) != {"kommune_nr", "year"}:
        return out
    for name, column in schema.columns.items():
        dtype = column.dtype.type if column.dtype is not None else None
        if name in key or name == "classification_year" or name.endswith("_symbol") or dtype is None:
            continue
        if not dtype.is_numeric():
            continue
        unit = _unit(table, name)
        is_count = dtype.is_integer() and unit in _COUNT_UNITS
        if is_count:
            out.append(Check(f"{name}_jump", "jump", table, (name,),
                             f"{name} far from last year's value times that year's national growth "
                             "(√ scale)"))
        elif dtype.is_float() and (unit.startswith("share") or " per " in unit):
            out.append(Check(f"{name}_value", "value", table, (name,),
                             f"{name} far from that year's median across municipalities", sqrt_scale=False,
                             floor=SHARE_FLOOR if unit.startswith("share") else 0.0))
    return out


def robust_z(values: pl.Expr, *, floor: float = 0.0) -> pl.Expr:
    """(x − median) / scale with scale = 1.4826·MAD, else 1.2533·mean absolute deviation if the
    MAD is 0 (more than half the values equal), never below ``floor``; null where undefined."""
    centre = values.median()
    dev = (values - centre).abs()
    scale = (
        pl.when(dev.median() > 0).then(dev.median() * 1.4826)
        .otherwise(dev.mean() * 1.2533)
    )
    scale = pl.max_horizontal(scale, pl.lit(floor))
    return pl.when(scale > 0).then((values - centre) / scale)


def _scored(frame: pl.DataFrame, check: Check) -> tuple[pl.DataFrame, str | None]:
    """Rows with a score for ``check`` (columns: row, score and the check's own), or a skip reason."""
    missing = [c for c in check.columns if c not in frame.columns]
    if missing:
        return frame.head(0), f"column(s) {', '.join(missing)} absent"
    lazy = frame.lazy().with_row_index(_ROW)
    floor = SQRT_NOISE if check.sqrt_scale else check.floor
    if check.kind == "ratio":
        a, b = check.columns
        base = lazy.filter(pl.col(a).is_not_null() & pl.col(b).is_not_null()).with_columns(
            (pl.col(a).cast(pl.Float64).sqrt() - pl.col(b).cast(pl.Float64).sqrt()).alias("__x"),
            pl.when(pl.col(b) > 0).then(pl.col(a) / pl.col(b)).alias("ratio"),
        )
        scored = base.with_columns(robust_z(pl.col("__x"), floor=floor * math.sqrt(2)).alias("score"))
    else:
        (c,) = check.columns
        value = pl.col(c).cast(pl.Float64)
        if check.kind == "jump":
            previous = (
                lazy.select("kommune_nr", (pl.col("year") + 1).alias("year"), pl.col(c).alias("previous"))
                .filter(pl.col("previous").is_not_null())
            )
            # expected this year: last year's value times the national growth of the year (the
            # ratio of the totals), so a wave that multiplies every municipality is not a jump
            paired = lazy.filter(pl.col(c).is_not_null()).join(previous, on=["kommune_nr", "year"], how="inner")
            growth = pl.col(c).sum().over("year") / pl.col("previous").sum().over("year")
            growth = pl.when(pl.col("previous").sum().over("year") > 0).then(growth).otherwise(1.0)
            base = paired.with_columns(
                (value.sqrt() - (growth * pl.col("previous").cast(pl.Float64)).sqrt()).alias("__x"),
                (pl.col(c) - pl.col("previous")).alias("change"),
            )
            scored = base.with_columns(robust_z(pl.col("__x"), floor=floor * math.sqrt(2)).alias("score"))
        else:
            base = lazy.filter(pl.col(c).is_not_null() & value.is_finite()).with_columns(value.alias("__x"))
            # centre on the year's median (a national shift is not an outlier), one pooled scale
            centred = base.with_columns((pl.col("__x") - pl.col("__x").median().over("year")).alias("__x"))
            scored = centred.with_columns(robust_z(pl.col("__x"), floor=floor).alias("score"))
    out = scored.collect()
    if out.height < MIN_VALUES:
        return out.head(0), f"only {out.height} comparable value(s); at least {MIN_VALUES} are needed"
    if out["score"].null_count() == out.height:
        return out.head(0), "no spread: every value is the same"
    if check.kind == "ratio":
        out = out.with_columns(pl.col("score").clip(lower_bound=0.0))  # one-sided
    else:
        out = out.with_columns(pl.col("score").abs())
    return out, None


def check(
    frame: pl.DataFrame,
    table: str,
    *,
    source: str | Path | None = None,
    threshold: float = THRESHOLD,
) -> Outcome:
    """Findings (ranked), skipped checks and every scored row's score per check.

    ``frame`` is the table in model dtypes (``ValidationResult.frame``); rows are numbered as in the
    input, and for a CSV ``source`` the examples carry the file line as well.
    """
    csv = source is not None and Path(str(source)).suffix.lower() in (".csv", ".txt")
    keys = [k for k in primary_key(table) if k in frame.columns] if table in AGGREGATE_TABLES else []
    findings: list[Finding] = []
    skipped: list[Skipped] = []
    scores: dict[str, RowScores] = {}
    for chk in checks_for(table):
        scored, reason = _scored(frame, chk)
        if reason is not None:
            skipped.append(Skipped(chk.name, reason))
            continue
        valid = scored.filter(pl.col("score").is_not_null())
        scores[chk.name] = RowScores(chk.columns, dict(zip(valid[_ROW].to_list(), valid["score"].to_list(), strict=True)))
        flagged = scored.filter(pl.col("score") > threshold).sort(["score", _ROW], descending=[True, False])
        if flagged.height == 0:
            continue
        extra = {"ratio": ["ratio"], "jump": ["previous", "change"], "value": []}[chk.kind]
        shown = list(dict.fromkeys([*keys, *chk.columns, *extra]))
        head = flagged.head(MAX_EXAMPLES)
        examples = []
        for row in head.select([_ROW, *shown, "score"]).iter_rows(named=True):
            example: dict[str, Any] = {"row": row.pop(_ROW) + 1}
            if csv:
                example["line"] = example["row"] + 1
            for k, v in row.items():
                example[k] = round(v, 2) if isinstance(v, float) else v
            examples.append(example)
        findings.append(Finding(
            check=chk.name, kind=chk.kind, table=table, columns=list(chk.columns),
            message=chk.description, n_checked=scored.height, n_rows=flagged.height,
            max_score=round(float(flagged["score"].max()), 2), threshold=threshold,
            rows=flagged[_ROW].to_list(), scores=[round(s, 2) for s in flagged["score"].to_list()],
            examples=examples,
        ))
    findings.sort(key=lambda f: (KIND_ORDER[f.kind], -f.max_score, f.check))
    return Outcome(findings, skipped, scores)


__all__ = ["Check", "Finding", "Outcome", "RowScores", "KIND_ORDER", "RATIO_PAIRS", "Skipped", "THRESHOLD", "check",
           "checks_for", "robust_z"]
