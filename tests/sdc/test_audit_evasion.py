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
