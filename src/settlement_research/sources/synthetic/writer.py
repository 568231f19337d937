"""Write the synthetic register as a raw extract: coded ';'-separated files, PROVENANCE.json and
ground_truth.json, byte-identical for the same seed and scale (no timestamps, stable row order).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from settlement_research.io import atomic_path, sha256_file, write_text_atomic
from settlement_research.sources.synthetic import calibration as cal
from settlement_research.sources.synthetic import layout as lay
from settlement_research.sources.synthetic import municipalities as munis
from settlement_research.sources.synthetic.generator import Switches, generate

SOURCE_NAME = "synthetic"


def _fmt(expr: pl.Expr, decimals: int) -> pl.Expr:
    """A float as text with a decimal comma, as Norwegian extracts deliver it."""
    return expr.round(decimals).cast(pl.String).str.replace(".", ",", literal=True)


def _with_symbol(value: pl.Expr, mask: pl.Series | pl.Expr, symbol: str) -> pl.Expr:
    return pl.when(mask).then(pl.lit(symbol)).otherwise(value)


def _coded(col: str, codes: dict[str, str]) -> pl.Expr:
    return pl.col(col).replace_strict(lay.inverse(codes), return_dtype=pl.String)


def _raw_tables(tables: dict[str, pl.DataFrame], seed: int) -> dict[str, pl.DataFrame]:
    rng = np.random.default_rng([seed, 7])
    raw: dict[str, pl.DataFrame] = {}

    def rename(table: str, frame: pl.DataFrame) -> pl.DataFrame:
        name = lay.TABLE_FILE[table]
        cols = lay.FILES[name][1]
        return frame.select([pl.col(model).cast(pl.String).alias(rawc) for rawc, model in cols.items()])

    k = tables["kommune"]
    raw["kommune"] = rename("kommune", k)

    p = tables["person"]
    countries = {g: [c] for c, g in lay.COUNTRY_CODES.items()} | {"other": lay.OTHER_COUNTRY_CODES}
    edu_u = rng.random(p.height)
    edu_table = pl.DataFrame({"education": list(lay.NUS_OF_EDUCATION), "_opts": list(lay.NUS_OF_EDUCATION.values())})
    cty_table = pl.DataFrame({"country_group": list(countries), "_copts": list(countries.values())})
    p = (
        p.join(edu_table, on="education", how="left", maintain_order="left")
        .join(cty_table, on="country_group", how="left", maintain_order="left")
        .with_columns(
            pl.Series("_u1", edu_u), pl.Series("_u2", rng.random(p.height)), pl.Series("_u3", rng.random(p.height)),
        )
        .with_columns(
            (pl.col("_opts").list.get((pl.col("_u1") * pl.col("_opts").list.len()).cast(pl.Int64).cast(pl.Int32))
             + (pl.col("_u3") * 10).cast(pl.Int64).cast(pl.String)).alias("_nus"),
            pl.col("_copts").list.get((pl.col("_u2") * pl.col("_copts").list.len()).cast(pl.Int64).cast(pl.Int32)).alias("_land"),
        )
    )
    raw["person"] = p.select(
        pl.col("person_id").alias("LOPENR"), pl.col("birth_year").alias("FODSELSAAR"),
        _coded("sex", lay.SEX_CODES).alias("KJONN"), pl.col("_land").alias("LANDKODE"),
        pl.col("_nus").alias("NUS_NIVAA"),
        pl.col("arrival_date").alias("ANKOMSTDATO"),
        pl.col("permit_date").alias("VEDTAKSDATO_UDI"),
        pl.when(pl.col("unaccompanied_minor")).then(pl.lit("J")).otherwise(pl.lit("N")).alias("ENSLIG_MINDREAARIG"),
        pl.col("emigration_date").alias("UTVANDRINGSDATO"),
    )
    hh = tables["household"]
    raw["household"] = hh.select(
        pl.col("household_id").alias("HUSHNR"),
        _coded("household_type", lay.HOUSEHOLD_CODES).alias("HUSHTYPE"),
        pl.col("size").alias("ANTALL_PERSONER"),
    )
    raw["household_member"] = tables["household_member"].select(
        pl.col("household_id").alias("HUSHNR"), pl.col("person_id").alias("LOPENR"),
        _coded("role", lay.ROLE_CODES).alias("ROLLE"),
    )
    raw["settlement"] = tables["settlement"].select(
        pl.col("person_id").alias("LOPENR"), pl.col("settlement_date").alias("BOSETTINGSDATO"),
        pl.col("kommune_nr").alias("KOMMNR"), _coded("route", lay.ROUTE_CODES).alias("BOSETTINGSVEI"),
        _fmt(pl.col("months_waited"), 2).alias("VENTETID_MND"),
    )
    raw["housing_spell"] = tables["housing_spell"].select(
        pl.col("person_id").alias("LOPENR"), pl.col("spell_no").alias("BOFORHOLD_NR"),
        pl.col("kommune_nr").alias("KOMMNR"), pl.col("start_date").alias("FRA_DATO"),
        pl.col("end_date").alias("TIL_DATO"),
        _coded("tenure", lay.TENURE_CODES).alias("DISPOSISJONSFORM"),
        pl.when(pl.col("new_address")).then(pl.lit("J")).when(pl.col("new_address").not_()).then(pl.lit("N"))
        .otherwise(pl.lit(None, pl.String)).alias("NY_ADRESSE"),
        pl.col("rooms").alias("ANTALL_ROM"), pl.col("persons").alias("ANTALL_PERSONER"),
    )
    raw["intro_spell"] = tables["intro_spell"].select(
        pl.col("person_id").alias("LOPENR"), pl.col("spell_no").alias("DELTAKELSE_NR"),
        pl.col("kommune_nr").alias("KOMMNR"), pl.col("start_date").alias("STARTDATO"),
        pl.col("end_date").alias("SLUTTDATO"),
        _coded("end_reason", lay.INTRO_END_CODES).alias("AVSLUTNINGSAARSAK"),
    )
    raw["outcome_year"] = tables["outcome_year"].select(
        pl.col("person_id").alias("LOPENR"), pl.col("year").alias("AARGANG"),
        _coded("status", lay.STATUS_CODES).alias("HOVEDSTATUS"), pl.col("kommune_nr").alias("BOKOMMNR"),
    )
    ksy = tables["kommune_settlement_year"]
    raw["kommune_settlement_year"] = ksy.select(
        pl.col("kommune_nr").alias("KOMMNR"), pl.col("year").alias("AAR"),
        pl.col("requested").cast(pl.String).fill_null(".").alias("ANMODET"),
        pl.col("decided").cast(pl.String).fill_null(".").alias("VEDTATT"),
        pl.col("settled").alias("BOSATT"),
        pl.col("settled_unaccompanied_minors").alias("BOSATT_EM"),
        pl.col("family_reunified").alias("FAMILIEGJENFORENTE"),
    )
    nat = tables["national_settlement_year"]
    raw["national_settlement_year"] = nat.select(
        pl.col("year").alias("AAR"), pl.col("settled").alias("BOSATTE"),
        pl.col("waiting_in_reception").alias("BOSETTINGSKLARE_I_MOTTAK"),
        pl.col("within_6m_pct").cast(pl.Int64).cast(pl.String).alias("BOSATT_INNEN_6MND_PROSENT"),
        pl.col("long_waiting").alias("LENGEVENTENDE"),
        _fmt(pl.col("months"), 1).alias("VENTETID_MND"),
        pl.col("reference_date").alias("REFERANSEDATO"), pl.col("source").alias("KILDE"),
    )
    kos = tables["kommune_housing_year"]
    n = kos.height
    miss_dw = pl.Series(rng.random(n) < 0.01)
    miss_ref = pl.Series(rng.random(n) < 0.04)
    miss_sl = pl.Series(rng.random(n) < 0.02)
    raw["kommune_housing_year"] = kos.select(
        pl.col("kommune_nr").alias("KOMMNR"), pl.col("year").alias("AAR"),
        _with_symbol(pl.col("municipal_dwellings").cast(pl.String), miss_dw, "..").alias("KOMMUNALT_DISP_BOLIGER"),
        _with_symbol(_fmt(pl.col("municipal_dwellings_per_1000"), 1), miss_dw, "..").alias("KOMMUNALE_BOLIGER_PER_1000"),
        pl.col("waiting_list").alias("VENTELISTE"),
        _with_symbol(_fmt(pl.col("refused_share") * 100, 1), miss_ref, "..").alias("ANDEL_AVSLAG_PROSENT"),
        pl.col("startlan_count").alias("STARTLAAN_ANTALL"),
        _fmt(pl.col("startlan_per_1000"), 2).alias("STARTLAAN_PER_1000"),
        _with_symbol((pl.col("startlan_nok") / 1000).round(0).cast(pl.Int64).cast(pl.String), miss_sl, "..")
        .alias("STARTLAAN_1000KR"),
        (pl.col("rental_grant_nok") / 1000).round(0).cast(pl.Int64).cast(pl.String).alias("TILSKUDD_UTLEIEBOLIG_1000KR"),
    )
    ctx = tables["kommune_context_year"]
    small_ref = pl.col("refugees") < 5
    tiny = pl.col("population") < 1000
    raw["kommune_context_year"] = ctx.select(
        pl.col("kommune_nr").alias("KOMMNR"), pl.col("year").alias("AAR"),
        pl.col("population").alias("FOLKEMENGDE"),
        pl.col("immigrants").alias("INNVANDRERE"),
        _with_symbol(pl.col("refugees").cast(pl.String), small_ref, ":").alias("FLYKTNINGER"),
        _with_symbol(pl.col("refugees_short_residence").cast(pl.String), small_ref | (pl.col("refugees_short_residence") < 5), ":")
        .alias("FLYKTNINGER_BOTID_U5"),
        _fmt(pl.col("unemployment_share") * 100, 1).alias("ARBEIDSLEDIGE_PROSENT"),
        _with_symbol(_fmt(pl.col("persistent_low_income_share") * 100, 1), tiny, "..")
        .alias("VEDVARENDE_LAVINNTEKT_PROSENT"),
        _fmt(pl.col("social_assistance_share") * 100, 1).alias("SOSIALHJELP_PROSENT"),
        (pl.col("imdi_grants_nok") / 1000).round(0).cast(pl.Int64).cast(pl.String).alias("INTEGRERINGSTILSKUDD_1000KR"),
    )
    # every frame must carry exactly the layout's columns, in its order
    for table, frame in raw.items():
        expected = list(lay.FILES[lay.TABLE_FILE[table]][1])
        assert frame.columns == expected, (table, frame.columns, expected)
    return raw


def write_register(
    out_dir: str | Path, *, scale: float = 1.0, seed: int = 2014, municipalities_file: str | Path | None = None,
    switches: Switches | None = None,
) -> dict[str, Any]:
    """Generate and write the raw extract to ``out_dir``; return the provenance record.

    ``switches`` (hidden confounder, reverse causation, route selection) are recorded in
    ground_truth.json; off by default.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if municipalities_file is not None:
        frame = munis.from_file(municipalities_file, seed)
        muni_info: dict[str, Any] = {
            "kind": "file", "name": Path(municipalities_file).name, "sha256": sha256_file(municipalities_file),
            "n": frame.height,
        }
    else:
        frame = munis.default_frame(seed)
        muni_info = {"kind": "default", "n": frame.height, "names": "fictional",
                     "structure": "2014 county counts; codes fylke_nr + 2 digits; 0301 the single Oslo municipality"}
    synth = generate(scale=scale, seed=seed, municipalities=frame, switches=switches)
    raw = _raw_tables(synth.tables, seed)
    files = []
    for name, (table, _cols) in sorted(lay.FILES.items()):
        path = out / name
        with atomic_path(path, ".csv") as tmp:
            raw[table].write_csv(tmp, separator=lay.SEPARATOR, null_value="", date_format=lay.DATE_FORMAT)
        files.append({"name": name, "table": table, "rows": raw[table].height,
                      "sha256": sha256_file(path), "bytes": path.stat().st_size})
    truth_path = out / "ground_truth.json"
    write_text_atomic(json.dumps(synth.ground_truth, indent=2, ensure_ascii=False) + "\n", truth_path)
    files.append({"name": truth_path.name, "table": None, "rows": None,
                  "sha256": sha256_file(truth_path), "bytes": truth_path.stat().st_size})
    provenance = {
        "source": SOURCE_NAME,
        "description": "Synthetic register extract (person-level register data cannot be published). "
                       "Calibrated to published national figures; injected effects in ground_truth.json.",
        "generator": "settlement_research.sources.synthetic",
        "generator_version": cal.GENERATOR_VERSION,
        "seed": seed,
        "scale": scale,
        "years": list(cal.YEARS),
        "follow_up_end": cal.FOLLOW_UP_END.isoformat(),
        "classification_year": cal.CLASSIFICATION_YEAR,
        "municipalities": muni_info,
        "layout": {"separator": lay.SEPARATOR, "encoding": "utf-8", "date_format": "YYYYMMDD",
                   "decimal": ",", "missing": "status symbols ('.', '..', ':') or empty"},
        "files": files,
    }
    write_text_atomic(json.dumps(provenance, indent=2, ensure_ascii=False) + "\n", out / "PROVENANCE.json")
    return provenance
