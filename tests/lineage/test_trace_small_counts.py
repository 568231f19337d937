"""``trace`` never prints a register count the page does not show (breaker, session 4): the trace of
a peer's window total printed each year's settled count, and with the total the parts pinned a year
that the peer's own profile hides (1819: total 10 = 4 + 0 + 6 + 0 …, 2009 hidden as ':')."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from settlement_research.pipeline.lineage import key_expr
from settlement_research.trace import _clean_check


def _clean(tmp_path: Path, register: bool) -> tuple[Path, list[str]]:
    folder = tmp_path / "c" / "s"
    folder.mkdir(parents=True)
    frame = pl.DataFrame({"kommune_nr": ["1819"] * 3, "year": pl.Series([2009, 2010, 2011], dtype=pl.Int16),
                          "settled": [4, 0, 6], "decided": [3, 3, 3]})
    frame.write_parquet(folder / "kommune_settlement_year.parquet")
    if register:
        pl.DataFrame({"person_id": ["100000000"]}).write_parquet(folder / "person.parquet")
    keys = frame.select(key_expr("kommune_settlement_year")).to_series().to_list()
    return tmp_path / "c", keys


def test_a_register_count_is_printed_as_the_page_could_show_it(tmp_path: Path) -> None:
    clean, keys = _clean(tmp_path, register=True)
    part = _clean_check(clean, "s", "kommune_settlement_year", 1, keys[0], "settled", t=5, part=True)
    assert "= 4" not in part and "not printed" in part
    single = _clean_check(clean, "s", "kommune_settlement_year", 1, keys[0], "settled", t=5)
    assert single.endswith("= <5")
    assert _clean_check(clean, "s", "kommune_settlement_year", 3, keys[2], "settled", t=5).endswith("= 6")
    # a declared public column (IMDi's decisions) is printed as it is, part of a sum or not
    assert _clean_check(clean, "s", "kommune_settlement_year", 1, keys[0], "decided", t=5, part=True).endswith("= 3")


def test_without_a_register_every_value_is_a_published_statistic(tmp_path: Path) -> None:
    clean, keys = _clean(tmp_path, register=False)
    assert _clean_check(clean, "s", "kommune_settlement_year", 1, keys[0], "settled", t=5, part=True).endswith("= 4")
