"""The fast identifier lookup finds exactly what the plain one does: every candidate of a text
(glued, grouped, padded, other case, hex) that is an identifier value, and nothing else."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from settlement_research.sdc import audit

IDS = frozenset({"100000007", "123456789", "H10032828", "000012345", "ab-99", "77777"})
REGISTER = frozenset({"100000007", "123456789", "H10032828"})  # the register's shapes only: candidates need 9 characters
LETTERS = frozenset({"abcde", "0000H", "123456789"})  # a future format without digits (and one that is 'H' unpadded)

# pieces an evader (or a page) writes: ids in every disguise, separators, prefixes, other scripts
WORDS = [
    "123456789", "123 456 789", "123.456.789", "1234-56789", "H10032828", "h 10 032 828", "H1003 2828",
    "person123456789", "xyzH10032828", "0x75bcd15", "0X75BCD15", "12345", "000012345", "0000123456789",
    "１２３４５６７８９", "123\u200b456789", "12\u00ad3456789", "ab-99", "AB_99", "77777", "077777", "7777",
    "2014", "0301", "3", " ", "  ", "\n", "-", "_", ".", ",", "'", "\u202f", "\u00a0", "<td>", "</td>", "a", "Zq",
    "x1", "٣", "²", "①", "abcde", "ABCDE-x", "h", "0000H", "\nH", "H\n", "H \n123 456 789", "\n1",
]
PIECES = st.sampled_from(WORDS)


def _plain(text: str, ids: frozenset[str]) -> int:
    upper, stripped = audit._id_index(ids)
    return sum(1 for c in audit.candidates(text) if audit._is_id(c, upper, stripped))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(PIECES, st.text(max_size=6)), max_size=14))
def test_the_fast_lookup_counts_what_the_candidates_hold(parts: list[str]) -> None:
    text = "".join(parts)
    for ids in (IDS, REGISTER, LETTERS):
        audit._FOUND.clear()
        assert audit.count_identifiers(text, ids) == _plain(text, ids)


def test_a_long_text_looked_up_line_by_line_finds_what_the_whole_holds() -> None:
    """Texts over 20 000 characters are cut at line breaks and each line kept per process: an id
    written across a line break (a prefix letter, then the digit groups on the next line) is still found."""
    import random

    rng = random.Random(7)
    for ids in (IDS, REGISTER, LETTERS):
        for _ in range(5):
            text = "".join(rng.choice(WORDS) for _ in range(12_000))
            assert len(text) > 20_000
            audit._FOUND.clear()
            first = audit.count_identifiers(text, ids)
            assert first == _plain(text, ids) == audit.count_identifiers(text, ids)  # again, from the kept lines
    across = "x" * 20_000 + "\nH\n10 032 828\n"  # 'H', a line break, then the groups: one id
    assert audit.count_identifiers(across, REGISTER) == _plain(across, REGISTER) == 1


def test_known_disguises_are_found() -> None:
    for text in ("id 123 456 789", "person123456789", "0x75bcd15", "１２３４５６７８９", "12\u00ad3456789",
                 "h 10 032 828", "00123456789", "5 of 12345"):
        assert audit.count_identifiers(text, IDS) >= 1, text
    assert audit.count_identifiers("2014 0301 3 persons 1234 5678", IDS) == 0


def test_an_id_written_with_json_escapes_in_the_read_log_or_lineage_is_withheld(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """reads.json and lineage.json are published as written; a JSON reader decodes ``\\u0031…``, the
    raw text shows only ``u0031``-shaped tokens (session 4's gate scanned the raw text only)."""
    from settlement_research.sdc import gate, public
    from settlement_research.sdc.audit import Clean

    escaped = "".join(f"\\u{ord(c):04x}" for c in "123456789")
    clean = Clean(public.PublicValues(5))
    (tmp_path / "r.reads.json").write_text(
        f'[{{"dataset": "{escaped}", "columns": null, "where": null, "sha256": "00"}}]', "utf-8")
    found = gate.audit_rendered(tmp_path, "r", {}, t=5, ids=REGISTER, clean=clean)
    assert [(f.kind, f.where) for f in found] == [("identifier", "reads.json")]
    (tmp_path / "r.reads.json").unlink()
    (tmp_path / "r.lineage.json").write_text(f'{{"lineage_version": 1, "numbers": [], "source": "{escaped}"}}', "utf-8")
    found = gate.audit_rendered(tmp_path, "r", {}, t=5, ids=REGISTER, clean=clean)
    assert ("identifier", "r.lineage.json") in [(f.kind, f.where) for f in found]
    assert audit.json_identifiers('{"a": "plain 12345678 and 2014"}', REGISTER) == 0
