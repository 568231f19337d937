"""Small self-made IMDi exports, one per layout, written byte for byte as the real ones are shaped.

They mirror the quirks in ../shared/real_data/SOURCES.md (column names kommune_id vs kommune_nr,
"NULL" text, symbols, a header cell with a line break, decimal commas, codes without leading
zeros, Latin-1) so every test can run without the real data.
"""

from __future__ import annotations

from pathlib import Path

import pytest

FLAT_SETTLEMENT = (
    '"aar","fylke_nr","bosetting","enhet","tabellvariabel","tabell_navn","kommune_nr","naringsregion_nr","bydel_nr"\n'
    '"2014","00","bosatt","personer","120","bosatt_anmodede","NULL","NULL","NULL"\n'
    '"2014","NULL","anmodning","personer","35","bosatt_anmodede","0101","NULL","NULL"\n'
    '"2014","NULL","vedtak","personer",".","bosatt_anmodede","0101","NULL","NULL"\n'
    '"2014","NULL","bosatt","personer","22","bosatt_anmodede","0101","NULL","NULL"\n'
    '"2014","NULL","bosatt","prosent","62.86","bosatt_anmodede","0101","NULL","NULL"\n'
    '"2014","NULL","anmodning","personer","500","bosatt_anmodede","0301","NULL","NULL"\n'
    '"2014","NULL","vedtak","personer","0","bosatt_anmodede","0301","NULL","NULL"\n'
    '"2014","NULL","bosatt","personer",":","bosatt_anmodede","0301","NULL","NULL"\n'
    '"2014","NULL","bosatt","personer","98","bosatt_anmodede","NULL","NULL","030101"\n'
    '"2014","NULL","bosatt","personer","50","bosatt_anmodede","NULL","01","NULL"\n'
    '"2014","01","bosatt","personer","70","bosatt_anmodede","NULL","NULL","NULL"\n'
)

# Same numbers, other column order and the *_id names of bosetting.csv.
FLAT_SETTLEMENT_ID_NAMES = (
    '"aar","fylke_id","bosetting","enhet","tabellvariabel","tabell_navn","kommune_id","naringsregion_id","bydel_id"\n'
    '"2014","NULL","anmodning","personer","35","bosetting","0101","NULL","NULL"\n'
    '"2014","NULL","bosatt","personer","22","bosetting","0101","NULL","NULL"\n'
    '"2014","NULL","bosatt_per_1000","promille","0.73","bosetting","0101","NULL","NULL"\n'
    '"2014","NULL","anmodning","personer","500","bosetting","0301","NULL","NULL"\n'
    '"2014","NULL","bosatt","personer",":","bosetting","0301","NULL","NULL"\n'
)

FLAT_LOW_INCOME = (
    '"aar","bydel_nr","innvkat_3","vreg_3","enhet","tabellvariabel","tabell_navn","fylke_nr","kommune_nr","naringsregion_nr"\n'
    '"2013","NULL","alle","alle","prosent","13.7","vedvarende_lavinntekt","NULL","0101","NULL"\n'
    '"2013","NULL","innvandrere","1","prosent","19.6","vedvarende_lavinntekt","NULL","0101","NULL"\n'
    '"2013","NULL","alle","alle","prosent",":","vedvarende_lavinntekt","NULL","0301","NULL"\n'
    '"2013","NULL","alle","alle","prosent","101.5","vedvarende_lavinntekt","NULL","0105","NULL"\n'
    '"2013","NULL","alle","alle","prosent","4.2","vedvarende_lavinntekt","NULL","9999","NULL"\n'
)

# Raw wide 2015: ';', a header cell with a line break, 3-digit codes, decimal commas, Latin-1.
RAW_POPULATION = (
    '"Kommune nr & navn";"kommune_nr";"Kommune\r\nnavn";"innvkat_5.alle";"innvkat_5.innvandrere";"innvkat_5.innvandrere"\r\n'
    '"Nedbrytninger";"";"";"kjonn.alle";"kjonn.alle";"kjonn.alle"\r\n'
    '"";"";"";"enhet.personer";"enhet.personer";"enhet.prosent"\r\n'
    '"0101 Halden";"101";"Halden";"30132";"2985";"9,906411788"\r\n'
    '"0301 Oslo kommune";"301";"Oslo kommune";"634463";"151722";"23,91"\r\n'
    '"1903 Harstad";"1903";"Harstad";"24441";"1874";"7,67"\r\n'
    '"2028 Båtsfjord";"2028";"Båtsfjord";"2 242";"344";"15,34"\r\n'
    '"1901 Harstad (-2012)";"1901";"Harstad (-2012)";"0";"0";"."\r\n'
    '"9999 Uoppgitt kommune";"9999";"Uoppgitt kommune";"0";"0";"."\r\n'
)

RAW_SETTLEMENT = (
    "kommune;kommune_nr;kommune_navn;bosetting.anmodning;bosetting.anmodning;bosetting.bosatt;bosetting.vedtak;;\r\n"
    "Nedbrytninger;;;enhet.personer;enhet.prosent;enhet.personer;enhet.personer;;\r\n"
    "0101 Halden;101;Halden;35;100;22;.;;\r\n"
    "0301 Oslo;301;Oslo kommune;500;100;:;0;;\r\n"
    "1756 Inderøy (f.o.m. 2012);1756;Inderøy (f.o.m. 2012);20;100;13;1 000;;\r\n"
)

WIDE_2022 = (
    "Region;Navn;Bosetting: Anmodning om bosetting;Bosetting: Anmodning om bosetting;"
    "Bosetting: Faktisk bosetting;Bosetting: Faktisk bosetting;Bosetting: Vedtak om bosetting\n"
    ";;Enhet: Personer;Enhet: Personer;Enhet: Prosent;Enhet: Personer;Enhet: Personer\n"
    ";;År: 2019;År: 2020;År: 2020;År: 2020;År: 2020\n"
    "K3001;Halden;12;10;Inf;:;10\n"
    "K0104;Moss (t.o.m. 2019);36;;;;\n"
    "K3002;Moss (f.o.m. 2020);;33;100;.;42\n"
    "K1103;Stavanger;120;72;62.5;45;72.0\n"
)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def write_file(tmp_path: Path):  # noqa: ANN201 - returns the writer
    """``write_file(name, text, encoding='utf-8')`` -> path in tmp_path."""
    return lambda name, text, encoding="utf-8": write(tmp_path / name, text, encoding)


@pytest.fixture
def flat_file(tmp_path: Path) -> Path:
    return write(tmp_path / "bosatt_anmodede.csv", FLAT_SETTLEMENT)


@pytest.fixture
def flat_id_file(tmp_path: Path) -> Path:
    return write(tmp_path / "bosetting.csv", FLAT_SETTLEMENT_ID_NAMES)


@pytest.fixture
def flat_low_income_file(tmp_path: Path) -> Path:
    return write(tmp_path / "vedvarende_lavinntekt.csv", FLAT_LOW_INCOME)


@pytest.fixture
def raw_population_file(tmp_path: Path) -> Path:
    return write(tmp_path / "01-befolkning_hovedgruppe-kommune-2014.csv", RAW_POPULATION, "latin-1")


@pytest.fixture
def raw_settlement_file(tmp_path: Path) -> Path:
    return write(tmp_path / "09_1-bosatt_anmodede-kommune-2014.csv", RAW_SETTLEMENT, "latin-1")


@pytest.fixture
def wide_2022_file(tmp_path: Path) -> Path:
    return write(tmp_path / "imdi_bosatt_anmodede_wide.csv", WIDE_2022, "latin-1")
