"""``<stem>.reads.json`` lies beside the published page. The hash of a read must not let anyone
enumerate what was read: the lineage answer of a suppressed cell holds its exact count of
person-level rows, and a plain sha256 of it gave the hidden count away by trying 0..10."""

from __future__ import annotations

import hashlib
import json

import pytest

from settlement_research import readlog


@pytest.fixture()
def keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(readlog.KEY_ENV, "ab" * 32)
    monkeypatch.setattr(readlog, "_KEY", [])


def _answer(n: int) -> list[dict[str, object]]:
    return [{"key": "kommune_nr=0528;year=2009", "column": "settled", "role": "derived",
             "derived_from": "settlement", "derived_rows": n, "row": 17}]


def test_a_logged_hash_cannot_be_matched_by_enumerating_the_hidden_count(keyed: None) -> None:
    with readlog.capture() as log:
        readlog.record("lineage:synthetic/kommune_settlement_year", _answer(2), where={"op": ["cell"]})
    (read,) = log
    plain = {hashlib.sha256(json.dumps(_answer(n), sort_keys=True).encode()).hexdigest() for n in range(11)}
    assert read["sha256"] not in plain
    # the cache still sees whether the read changed
    assert read["sha256"] == readlog.value_hash(_answer(2)) != readlog.value_hash(_answer(3))


def test_the_key_is_made_once_and_kept(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    monkeypatch.delenv(readlog.KEY_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(readlog, "_KEY", [])
    first = readlog.hash_key()
    monkeypatch.setattr(readlog, "_KEY", [])
    assert readlog.hash_key() == first and len(first) == 32
    assert (tmp_path / "settlement_research" / "readlog.key").is_file()
