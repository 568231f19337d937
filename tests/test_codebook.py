"""The codebook and datapackage.json: generated from the models, committed, never stale."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandera.polars as pa
import polars as pl
import pytest

from settlement_research import codebook
from settlement_research.cli import main
from settlement_research.model import TABLES, get_model, primary_key
from settlement_research.model.base import SYMBOL_MEANING
from settlement_research.relations import RULES
from settlement_research.testing import valid_frame

DOCS = Path(__file__).resolve().parents[1] / "docs"
FIELD_TYPES = {"string", "integer", "number", "boolean", "date"}
CONSTRAINT_KEYS = {"required", "minimum", "maximum", "pattern", "enum", "unique", "minLength", "maxLength"}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docs")
    assert main(["codebook", "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("name", [codebook.CODEBOOK_FILE, codebook.DATAPACKAGE_FILE])
def test_committed_files_are_up_to_date(generated: Path, name: str) -> None:
    committed = DOCS / name
    assert committed.is_file(), f"docs/{name} is missing: run `make codebook` and commit it"
    assert committed.read_text("utf-8") == (generated / name).read_text("utf-8"), (
        f"docs/{name} is stale (a model changed): run `make codebook` and commit the result"
    )


def test_output_is_deterministic() -> None:
    assert codebook.render_markdown() == codebook.render_markdown()
    assert codebook.render_datapackage() == codebook.render_datapackage()


def _sections(markdown: str) -> dict[str, str]:
    parts = re.split(r"^## ", markdown, flags=re.MULTILINE)
    return {p.split("\n", 1)[0].strip(): p for p in parts[1:]}


@pytest.mark.parametrize("table", sorted(TABLES))
def test_every_column_is_documented_in_its_section(generated: Path, table: str) -> None:
    sections = _sections((generated / codebook.CODEBOOK_FILE).read_text("utf-8"))
    section = sections[table]
    schema = get_model(table).to_schema()
    for name, column in schema.columns.items():
        row = next((line for line in section.splitlines() if line.startswith(f"| `{name}` |")), None)
        assert row is not None, f"{table}.{name} missing from the codebook"
        assert column.metadata["unit"] in row and column.metadata["en"].replace("|", "\\|") in row
    for check in schema.checks:
        assert f"- {check.error}" in section
    assert f"[`{table}`](#{table})" in sections["Tables"]
    assert ", ".join(f"`{c}`" for c in primary_key(table)) in section


def test_symbols_and_cross_table_rules_are_explained(generated: Path) -> None:
    sections = _sections((generated / codebook.CODEBOOK_FILE).read_text("utf-8"))
    for symbol, meaning in SYMBOL_MEANING.items():
        assert f"| `{symbol}` | {meaning} |" in sections["Status symbols"]
    for rule in RULES:
        assert f"`{rule.name}`" in sections["Cross-table rules"]


def test_constraints_read_as_words(generated: Path) -> None:
    section = _sections((generated / codebook.CODEBOOK_FILE).read_text("utf-8"))["kommune"]
    assert "| `centrality` | Int8 | yes | between 1 and 6 |" in section
    assert "| `kommune_nr` | String | no | matches `^[0-9]{4}$` |" in section
    assert "one of `ost`, `indre_ost`" in section


def test_datapackage_matches_the_models(generated: Path) -> None:
    package = json.loads((generated / codebook.DATAPACKAGE_FILE).read_text("utf-8"))
    resources = {r["name"]: r for r in package["resources"]}
    assert list(resources) == sorted(TABLES)
    for name, resource in resources.items():
        schema = get_model(name).to_schema()
        assert (resource["path"], resource["format"]) == (f"{name}.parquet", "parquet")
        fields = resource["schema"]["fields"]
        assert [f["name"] for f in fields] == list(schema.columns)
        assert resource["schema"]["primaryKey"] == primary_key(name)
        for field in fields:
            column = schema.columns[field["name"]]
            assert field["type"] in FIELD_TYPES
            assert set(field["constraints"]) <= CONSTRAINT_KEYS
            assert field["constraints"]["required"] is (not column.nullable)
            assert field["unit"] == column.metadata["unit"] and field["description"]


@pytest.mark.parametrize("table", sorted(TABLES))
def test_datapackage_constraints_accept_valid_data(table: str) -> None:
    """Read back as Frictionless would: valid rows satisfy every declared field constraint."""
    resource = next(r for r in codebook.datapackage()["resources"] if r["name"] == table)
    frame = valid_frame(table, n=20, seed=1)
    for field in resource["schema"]["fields"]:
        c, values = field["constraints"], frame[field["name"]].drop_nulls()
        if "pattern" in c:
            assert all(re.fullmatch(c["pattern"], v) for v in values), field["name"]
        if "enum" in c:
            assert set(values) <= set(c["enum"]), field["name"]
        if "minimum" in c:
            assert values.min() is None or values.min() >= c["minimum"], field["name"]
        if "maximum" in c:
            assert values.max() is None or values.max() <= c["maximum"], field["name"]
        if c.get("unique"):
            assert values.n_unique() == values.len()
    frame_types = {f["name"]: f["type"] for f in resource["schema"]["fields"]}
    assert frame_types == {n: codebook._frictionless_type(t) for n, t in frame.schema.items()}


def test_pattern_is_anchored_implicitly() -> None:
    assert codebook._xsd_pattern(r"^\d{4}$") == r"\d{4}"


def test_unknown_check_kinds_are_refused() -> None:
    column = pa.Column(pl.String, pa.Check.str_startswith("03"), name="odd")
    with pytest.raises(ValueError, match="str_startswith"):
        codebook.field_constraints(column, [])
    with pytest.raises(ValueError, match="str_startswith"):
        codebook.constraints_in_words(column)


def test_default_output_goes_to_docs_of_the_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SETTLEMENT_RESEARCH_HOME", str(tmp_path))
    written = codebook.write()
    assert written == [tmp_path / "docs" / "codebook.md", tmp_path / "docs" / "datapackage.json"]
    assert all(p.is_file() for p in written)
