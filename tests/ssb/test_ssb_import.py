"""``settlement-research import-ssb FILE``: a manual Statbank download lands in data_raw/ssb like a fetch."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from settlement_research.cli import main
from settlement_research.sources.ssb import load_cached_table
from settlement_research.sources.ssb_import import SsbImportError, import_ssb

JSONSTAT = {
    "version": "2.0", "class": "dataset", "label": "07459: Befolkning, etter region og år",
    "id": ["Region", "Tid"], "size": [2, 2],
    "dimension": {
        "Region": {"label": "region", "category": {"index": {"0301": 0, "1103": 1},
                                                   "label": {"0301": "Oslo", "1103": "Stavanger"}}},
        "Tid": {"label": "år", "category": {"index": {"2020": 0, "2021": 1}, "label": {"2020": "2020", "2021": "2021"}}},
    },
    "value": [693494, None, 144147, 144699],
    "status": {"1": ":"},
}
CSV = '"07459: Befolkning"\n\n"region";"Personer 2020";"Personer 2021"\n"0301 Oslo";693494;:\n"1103 Stavanger";144147;144699\n'


def test_json_stat2_is_copied_byte_for_byte_with_provenance(tmp_path: Path) -> None:
    src = tmp_path / "download.json"
    src.write_text(json.dumps(JSONSTAT), encoding="utf-8")
    prov = import_ssb(src, tmp_path / "ssb")
    assert (prov["table_id"], prov["output_format"], prov["cells"], prov["values"]) == ("07459", "json-stat2", 4, 3)
    assert prov["symbols"] == {":": 1} and prov["original_name"] == "download.json"
    copied = tmp_path / "ssb" / prov["file"]
    assert copied.read_bytes() == src.read_bytes()
    assert prov["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    frame = load_cached_table(tmp_path / "ssb", "07459")
    assert frame is not None and frame.height == 4
    suppressed = frame.filter(frame["symbol"] == ":")
    assert suppressed["value"].to_list() == [None]  # a symbol is never 0


def test_statbank_csv_with_symbols(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "Personer_07459.csv"
    src.write_bytes(CSV.encode("latin-1"))
    assert main(["import-ssb", str(src), "--out", str(tmp_path / "ssb")]) == 0
    out = capsys.readouterr().out
    assert "table 07459 (csv): 4 cells, 3 values, symbols 1 x ':'" in out


def test_unreadable_files_are_refused(tmp_path: Path) -> None:
    empty = tmp_path / "x.json"
    empty.write_text("{}", encoding="utf-8")
    with pytest.raises(SsbImportError, match="json-stat2"):
        import_ssb(empty, tmp_path / "ssb")
    no_id = tmp_path / "download.json"
    no_id.write_text(json.dumps({**JSONSTAT, "label": "Befolkning"}), encoding="utf-8")
    with pytest.raises(SsbImportError, match="--table"):
        import_ssb(no_id, tmp_path / "ssb")
    assert import_ssb(no_id, tmp_path / "ssb", table_id="07459")["table_id"] == "07459"
    assert main(["import-ssb", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "ssb")]) == 2
    assert main(["import-ssb", str(empty), "--out", str(tmp_path / "ssb")]) == 2


@pytest.mark.real_data
def test_real_statbank_files(real_data: Path, tmp_path: Path) -> None:
    j = import_ssb(real_data / "misc" / "ssb_jsonstat2_07221_boligprisindeks_with_status.json", tmp_path)
    assert (j["table_id"], j["cells"], j["symbols"]) == ("07221", 288, {"..": 24})
    c = import_ssb(real_data / "misc" / "ssb_csv_11616_sysselsatte_pendling_kommuner_2021.csv", tmp_path)
    assert (c["table_id"], c["output_format"], c["values"]) == ("11616", "csv", 92)
