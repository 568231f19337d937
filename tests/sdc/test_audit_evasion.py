"""An attacker who knows the gate's token lookup writes identifiers so that no token equals one."""

from __future__ import annotations

import pytest

from settlement_research.sdc.audit import check_html, check_results, scrub

IDS = frozenset({"123456789", "012345678", "H12345678"})


@pytest.mark.parametrize(
    "text",
    [
        "person123456789",  # glued to a word
        "123456789x",
        "123 456 789",  # grouped like a big number
        "123.456.789",
        "12345 6789",  # split across two tokens
        "0123456789",  # zero-padded
        "12345678",  # an id with a leading zero written as an int
        hex(123456789),
        "h12345678",  # other case
        "H12345678abc",
        "hh H 1234 5678",
        "\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19",  # full-width digits
        "1234\u200b56789",  # zero-width space inside
    ],
)
def test_an_identifier_in_disguise_is_found_and_scrubbed(text: str) -> None:
    assert [f.kind for f in check_html(f"<p>{text}</p>", ids=IDS, t=5)] == ["identifier"]
    assert [f.kind for f in check_results({"who": text}, ids=IDS, t=5)] == ["identifier"]
    cleaned = scrub(f"KeyError: {text}", IDS)
    assert cleaned is not None
    assert not check_html(f"<p>{cleaned}</p>", ids=IDS, t=5), cleaned


@pytest.mark.parametrize("text", ["2019 2020 2021", "0301 Oslo", "1 234 persons", "12.5 %", "H1 2020"])
def test_ordinary_numbers_are_not_identifiers(text: str) -> None:
    assert check_html(f"<p>{text}</p>", ids=IDS, t=5) == []


@pytest.mark.parametrize("stored", [3.0, "3", "3.0", {"2013": "2"}, [4.0]])
def test_a_small_count_stored_as_float_or_text_is_a_small_count(stored: object) -> None:
    findings = check_results({"settled": stored, "_sdc": ["settled"]}, ids=IDS, t=5)
    assert [f.kind for f in findings] == ["small_count"]


@pytest.mark.parametrize("stored", [0.5, 0.0, "0.25", 12.0, "n/a", {"2013": 1.0, "2014": 0.75}])
def test_shares_and_large_counts_under_sdc_keys_pass(stored: object) -> None:
    assert check_results({"s": stored, "_sdc": ["s"]}, ids=IDS, t=5) == []
    assert check_results({"work_education_share": 1.0, "_sdc": ["work_education_share"]}, ids=IDS, t=5) == []


def test_a_printed_polars_frame_with_small_counts_is_withheld() -> None:
    import polars as pl

    frame = pl.DataFrame({"kommune_nr": ["1467", "0534"], "len": [1, 3]})
    assert [f.kind for f in check_html(f"<pre>{frame}</pre>", ids=IDS, t=5)] == ["small_count"]
    big = pl.DataFrame({"kommune_nr": ["1467", "0534"], "len": [10, 30], "year": [2013, 2014]})
    assert check_html(f"<pre>{big}</pre>", ids=IDS, t=5) == []


def test_a_parameter_value_that_is_an_identifier_is_scrubbed_from_the_manifest() -> None:
    from settlement_research.reports.index import write_index
    from settlement_research.sdc.audit import scrub_manifest

    manifest = {"template": "t", "reports": [{
        "name": "note-123456789", "parameters": {"note": "123456789"}, "status": "failed",
        "error": "disclosure check failed (identifier): outputs withheld", "html": None}]}
    scrub_manifest(manifest, IDS)
    assert "123456789" not in str(manifest)
    assert "123456789" not in write_index(manifest)
    assert manifest["reports"][0]["parameters"] == {"note": "[id]"}


def test_one_written_with_decimals_is_a_count_where_its_context_says_count() -> None:
    """'1.00' is decided by its column or key, not by its decimals: among ratios it is a ratio of
    one, among whole numbers (or under a count's key) it is a count of one and withholds."""
    ratios = "<table><tr><td>ratio</td><td>1.00</td></tr><tr><td>other</td><td>0.89</td></tr></table>"
    counts = "<table><tr><td>0301</td><td>1.00</td></tr><tr><td>0534</td><td>12.00</td></tr></table>"
    assert check_html(ratios, t=5) == []
    assert [f.kind for f in check_html(counts, t=5)] == ["small_count"]
    assert [f.kind for f in check_results({"settled": 1.0, "_sdc": ["settled"]}, t=5)] == ["small_count"]
    assert [f.kind for f in check_results({"persons": {"0301": 1.0, "0534": 12.0}}, t=5)] == ["small_count"]
    assert check_results({"persons_ratio": 1.0}, t=5) == []
    assert check_html("<p>The ratio was 1.00 in 2013.</p>", t=5) == []
    assert [f.kind for f in check_html("<p>Only 1.00 persons moved.</p>", t=5)] == ["small_count"]
