"""Disclosure control across the set of municipality profiles (one suppressed kommune x year table).

A hand-made data_clean: five municipalities in one county, 2012-2014, settled per year derived from
person-level data; exactly one municipality has a small count (3) in one year. The national total
per year is public, so that cell must not be recoverable from the other profiles and the national
total, every profile must show or hide each cell the same way, and a shown window total must never
be the only unknown beside one suppressed year.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from settlement_research import sdc
from settlement_research.analysis import profile as pr
from settlement_research.sdc import publication as sdc_publication

YEARS = [2012, 2013, 2014]
# kommune_nr -> settled per year; 1106 has the one small count (3 in 2013)
SETTLED = {"1101": [20, 18, 25], "1102": [12, 15, 9], "1103": [30, 40, 35], "1106": [8, 3, 11], "1111": [6, 22, 7]}
NAMES = {"1101": "Eigersund", "1102": "Sandnes", "1103": "Stavanger", "1106": "Haugesund", "1111": "Sokndal"}


def write_clean(root: Path) -> Path:
    folder = root / "synthetic"
    folder.mkdir(parents=True)
    codes = list(SETTLED)
    pl.DataFrame({
        "kommune_nr": codes, "kommune_name": [NAMES[c] for c in codes], "fylke_nr": ["11"] * 5,
        "fylke_name": ["Rogaland"] * 5, "imdi_region": ["vest"] * 5, "husbanken_region": ["vest"] * 5,
        "centrality": pl.Series([3] * 5, dtype=pl.Int8), "valid_from": pl.Series([1838] * 5, dtype=pl.Int16),
        "valid_to": pl.Series([None] * 5, dtype=pl.Int16),
    }).write_parquet(folder / "kommune.parquet")
    rows = [(c, y, s) for c in codes for y, s in zip(YEARS, SETTLED[c], strict=True)]
    pl.DataFrame({
        "kommune_nr": [r[0] for r in rows], "year": pl.Series([r[1] for r in rows], dtype=pl.Int16),
        "classification_year": pl.Series([2014] * len(rows), dtype=pl.Int16),
        "requested": pl.Series([10] * len(rows), dtype=pl.Int32), "decided": pl.Series([10] * len(rows), dtype=pl.Int32),
        "settled": pl.Series([r[2] for r in rows], dtype=pl.Int32), "decision_status": ["as_requested"] * len(rows),
    }).write_parquet(folder / "kommune_settlement_year.parquet")
    pl.DataFrame({
        "kommune_nr": codes, "year": pl.Series([2014] * 5, dtype=pl.Int16),
        "classification_year": pl.Series([2014] * 5, dtype=pl.Int16),
        "population": pl.Series([15000, 80000, 130000, 37000, 3300], dtype=pl.Int32),
    }).write_parquet(folder / "kommune_context_year.parquet")
    return root


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> pr.ProfileData:
    root = write_clean(tmp_path_factory.mktemp("sdc_clean"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SETTLEMENT_RESEARCH_CLEAN", str(root))
        mp.delenv(sdc.THRESHOLD_ENV, raising=False)
        yield pr.profile_data("synthetic", YEARS[0], YEARS[-1])


def shown_by_profile(data: pr.ProfileData) -> dict[str, dict[tuple[str, object], object]]:
    """Every settled number each profile shows: (kommune, year) cells and (kommune, 'total') cells,
    from its own yearly table, its summary and its peer table (None = shown as ':')."""
    out: dict[str, dict[tuple[str, object], object]] = {}
    for code in SETTLED:
        years = pr.settlement_years(data, code)
        table = pr.settlement_table(years)
        totals = pr.settlement_totals(years, window=pr.window_settled(data, code))
        seen: dict[tuple[str, object], object] = {(code, y): v for y, v in zip(table["year"], table["settled"], strict=True)}
        seen[(code, "total")] = totals["settled"]
        peers = pr.peer_table(data, code)
        for peer, value in zip(peers["kommune_nr"], peers["settled"], strict=True):
            seen[(peer, "total")] = value
        out[code] = seen
    return out


def test_the_small_cell_cannot_be_recovered_from_the_other_profiles_and_the_national_total(data: pr.ProfileData) -> None:
    profiles = shown_by_profile(data)
    # the same cell is shown or hidden, with the same value, in every profile that shows it
    union: dict[tuple[str, object], object] = {}
    for seen in profiles.values():
        for cell, value in seen.items():
            assert union.setdefault(cell, value) == value, f"{cell} differs between profiles"
    assert union[("1106", 2013)] is None  # the primary cell
    hidden_2013 = [c for c in SETTLED if union[(c, 2013)] is None]
    assert len(hidden_2013) >= 2  # so national 2013 minus the shown ones leaves two unknowns
    # and no hidden cell follows from the national totals, the window totals and the shown cells
    codes = list(SETTLED)
    values = np.array([[*SETTLED[c], sum(SETTLED[c])] for c in codes], dtype=float)
    mask = np.array([[union[(c, y)] is None for y in [*YEARS, "total"]] for c in codes])
    lines = sdc.margin_lines(*values.shape, total_column=len(YEARS))
    assert not sdc.exposed(values, mask, lines, 5).any()
    # the reader's way: another non-negative filling of the hidden cells (a step of -1, 0 or +1 per
    # cell) that keeps every shown number, window total and national total, but changes the 3
    hidden = list(zip(*np.nonzero(mask), strict=True))
    assert len(hidden) <= 10
    target = hidden.index((codes.index("1106"), 1))
    national = values.sum(axis=0)
    others = [step for step in itertools.product((-1, 0, 1), repeat=len(hidden)) if step[target] != 0]
    for step in others:
        trial = values.copy()
        for (i, j), d in zip(hidden, step, strict=True):
            trial[i, j] += d
        if (trial >= 0).all() and (trial.sum(axis=0) == national).all() and (trial[:, :-1].sum(axis=1) == trial[:, -1]).all():
            break
    else:
        pytest.fail("the hidden 3 follows from the shown numbers and the national totals")


def test_a_shown_window_total_is_never_the_only_unknown_beside_one_suppressed_year(data: pr.ProfileData) -> None:
    for code, seen in shown_by_profile(data).items():
        hidden_years = [y for y in YEARS if seen[(code, y)] is None]
        if seen[(code, "total")] is not None:
            assert len(hidden_years) != 1, code
        text = pr.summary(pr.facts(data, code), pr.settlement_totals(pr.settlement_years(data, code),
                          window=pr.window_settled(data, code)), {}, YEARS[0], YEARS[-1])
        total = seen[(code, "total")]
        assert (f"settled {total}" in text) if total is not None else ("not shown (':')" in text)


def test_without_the_global_table_one_profile_alone_would_leak() -> None:
    """Control: suppressing each profile on its own leaves 1106's 3 as the only hidden 2013 cell."""
    hidden = []
    for code, settled in SETTLED.items():
        frame = pl.DataFrame({"year": YEARS, "settled": settled})
        shown = sdc.suppress(frame, ["settled"])
        hidden += [(code, y) for y, v in zip(YEARS, shown["settled"], strict=True) if v is None]
    assert [c for c, y in hidden if y == 2013] == ["1106"]


def test_settlement_totals_refuses_suppressed_years_without_the_window(data: pr.ProfileData) -> None:
    with pytest.raises(ValueError, match="window"):
        pr.settlement_totals(pr.settlement_years(data, "1106"))


def test_protect_answers_the_attack_that_two_per_line_misses() -> None:
    # Row 0 hides 3 and 1 (two per line, the old rule's idea of safe), but the row total says they
    # add up to 4: the attacker proves both below 5 without pinning either.
    values = np.array([[3, 1, 20, 30], [7, 9, 20, 30], [20, 30, 12, 8], [25, 35, 6, 10]], dtype=float)
    lines = sdc.margin_lines(4, 4)
    two_per_line = np.zeros((4, 4), bool)
    two_per_line[0, :2] = two_per_line[1, :2] = True
    assert all(r.sum() != 1 for r in two_per_line) and all(c.sum() != 1 for c in two_per_line.T)
    assert sdc.exposed(values, two_per_line, lines, 5)[0, :2].all()
    protected = sdc.protect(values, 5, lines)
    assert protected[0, 0] and protected[0, 1]
    assert not sdc.exposed(values, protected, lines, 5).any()
    assert not protected[values == 0].any()  # zeros stay shown, so "hidden >= 1" holds


def _linprog_attack(pub: sdc_publication.Publication, t: int) -> dict[tuple[str, ...], tuple[float, float]]:
    """The attacker, written independently of sdc.attack: scipy's linprog, two LPs per hidden cell."""
    from scipy.optimize import linprog

    keys = list(pub.hidden)
    index = {k: i for i, k in enumerate(keys)}
    rows, rhs = [], []
    for terms, total in pub.sums:
        row = np.zeros(len(keys))
        b = total
        for key, w in terms:
            if key in index:
                row[index[key]] += w
            else:
                b -= w * pub.shown[key]
        if row.any():
            rows.append(row)
            rhs.append(b)
    bounds = [(pub.hidden[k], None) for k in keys]
    out = {}
    for k, i in index.items():
        c = np.zeros(len(keys))
        c[i] = 1
        low = linprog(c, A_eq=np.array(rows), b_eq=rhs, bounds=bounds, method="highs")
        high = linprog(-c, A_eq=np.array(rows), b_eq=rhs, bounds=bounds, method="highs")
        assert low.status == 0
        out[k] = (low.fun, np.inf if high.status == 3 else -high.fun)
    return out


@pytest.mark.slow
def test_lp_attack_over_the_rendered_profiles_and_notebook_01(tmp_path: Path) -> None:
    """Render every profile and notebook 01, read back only what they publish, and attack."""
    from settlement_research.reports.runner import run_notebook

    root = write_clean(tmp_path / "clean")
    import datetime as dt

    pl.DataFrame({  # the published national series notebook 01 sets the municipality sums against
        "year": pl.Series(YEARS, dtype=pl.Int16),
        "settled": pl.Series([sum(v[j] for v in SETTLED.values()) for j in range(3)], dtype=pl.Int32),
        "waiting_in_reception": pl.Series([None] * 3, dtype=pl.Int32),
        "settled_within_6m_share": pl.Series([None] * 3, dtype=pl.Float64),
        "long_waiting": pl.Series([None] * 3, dtype=pl.Int32),
        "months_permit_to_settlement": pl.Series([None] * 3, dtype=pl.Float64),
        "reference_date": [dt.date(y, 12, 31) for y in YEARS], "source": ["test"] * 3,
    }).write_parquet(root / "synthetic" / "national_settlement_year.parquet")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SETTLEMENT_RESEARCH_CLEAN", str(root))
        mp.delenv(sdc.THRESHOLD_ENV, raising=False)
        from settlement_research.reports.results import clear_memo

        clear_memo()
        years = {"first_year": str(YEARS[0]), "last_year": str(YEARS[-1])}
        for code in SETTLED:
            outcome = run_notebook("municipality_profile", {"kommune_nr": code, **years}, tmp_path / "profiles")
            outcome_name = tmp_path / "profiles" / "municipality_profile.results.json"
            assert outcome.status == "ok", outcome.error
            outcome_name.rename(tmp_path / "profiles" / f"{code}.results.json")
        national = run_notebook("01_national_overview", years, tmp_path / "national")
        assert national.status == "ok", national.error
        clear_memo()
    profiles = sdc_publication.read_results(tmp_path / "profiles")
    published = json.loads((tmp_path / "national" / "01_national_overview.results.json").read_text())
    pub = sdc_publication.settled_publication(profiles, published)
    assert ("1106", "2013") in pub.hidden  # the small cell is hidden, and its year sum is published
    assert published["settled_by_year"]["2013"] == sum(v[1] for v in SETTLED.values())
    bounds = _linprog_attack(pub, 5)
    assert bounds and all(hi - lo >= 4 - 1e-6 for lo, hi in bounds.values())  # nothing pinned or narrow
    assert all(hi >= 5 - 1e-6 for _, hi in bounds.values())  # nothing proven below the threshold
    audit = sdc_publication.audit_publication(pub, t=5)  # the fast audit agrees
    assert audit.ok and audit.hidden == len(bounds)
    # and the attacker is real: the same numbers with the old per-profile suppression pin the 3
    naive = sdc_publication.Publication()
    for code, settled in SETTLED.items():
        shown = sdc.suppress(pl.DataFrame({"year": YEARS, "settled": settled}), ["settled"])["settled"].to_list()
        naive.cell((code, "total"), sum(settled))
        for y, v in zip(YEARS, shown, strict=True):
            naive.cell((code, str(y)), v)
        naive.add_sum([*(((code, str(y)), 1.0) for y in YEARS), ((code, "total"), -1.0)], 0.0)
    for j, y in enumerate(YEARS):
        naive.add_sum([((c, str(y)), 1.0) for c in SETTLED], sum(v[j] for v in SETTLED.values()))
    assert _linprog_attack(naive, 5)[("1106", "2013")] == pytest.approx((3.0, 3.0))



def test_no_pooled_share_beside_a_hidden_status_count() -> None:
    """breaker2's attack: a rounded pooled share plus shown years and leavers bounded hidden
    in-work counts below the threshold. A municipality with any hidden status count shows none."""
    intro = pl.DataFrame({
        "kommune_nr": ["1710", "1710", "0301", "0301"], "year": [2013, 2014, 2013, 2014],
        "work_education_count_symbol": [None, sdc.SUPPRESSED, None, None],
    })
    pooled = pl.DataFrame({"kommune_nr": ["1710", "0301"], "share": [0.4, 0.55], "share_symbol": [None, None]},
                          schema_overrides={"share_symbol": pl.String})
    out = pr._hide_pooled_beside_hidden(pooled, intro)
    assert out.rows() == [("1710", None, sdc.SUPPRESSED), ("0301", 0.55, None)]
