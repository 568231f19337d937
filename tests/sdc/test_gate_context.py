"""Small numbers judged by where they stand; ids split across tags; charts; shares; the whole-set
audit of a batch with rounded shares as interval constraints."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from settlement_research import sdc
from settlement_research.sdc import context, provenance, publication
from settlement_research.sdc.audit import check_html, check_results, check_text

IDS = frozenset({"123456789", "H12345678"})


@pytest.mark.parametrize("text", [
    "3 persons", "only 2 refugees", "Kvinesdal settled 3.", "n = 4", "2 of them were in work", "1 household",
    "3 newly arrived refugees", "bosatte 2 flyktninger", "4 of 9 leavers",
])
def test_a_small_count_in_prose_is_a_count(text: str) -> None:
    assert context.prose_counts(text, 5) == 1, text
    assert [f.kind for f in check_html(f"<p>{text}</p>", t=5)] == ["small_count"]


@pytest.mark.parametrize("text", [
    "a request in 3 of 6 years", "rank 3 of 9", "declined in 2 years", "## 1. Settlement", "Table 3 shows 40 persons",
    "scaled 0–1", "3 % of 1 200 persons", "p < 0.05", "we fitted 3 models in 2013", "codes 0301 and 1103",
    "the 2nd wave", "settled 3\u202f287 refugees", "H1 2020", "eight dimensions, 0.54 of 177", "window 2009–2014",
])
def test_ordinary_numbers_in_prose_are_not_counts(text: str) -> None:
    assert check_html(f"<p>{text}</p>", t=5) == [], text


def test_a_signed_number_in_prose_passes_and_a_forged_one_does_not() -> None:
    assert check_html(f"<p>asked to settle {sdc.shown(3, public='requested')} refugees</p>", t=5) == []
    with pytest.raises(ValueError, match="suppress"):
        sdc.shown(3)  # a count of people below the threshold is never marked
    forged = '<p>asked to settle <span data-sdc="public" data-sdc-sig="00">3</span> refugees</p>'
    assert {f.kind for f in check_html(forged, t=5)} == {"forged_mark", "small_count"}
    with provenance.scope():
        replayed = f"<p>asked to settle {sdc.shown(3, public='requested')} refugees</p>"
    assert "forged_mark" in {f.kind for f in check_html(replayed, t=5)}


def test_a_mark_covers_its_own_text_only() -> None:
    mark = provenance.attrs("public", "40")
    assert "forged_mark" in {f.kind for f in check_html(f"<table><tr><td {mark}>3</td></tr></table>", t=5)}


def test_headers_captions_and_printed_frames() -> None:
    assert [f.kind for f in check_html("<table><tr><th>3</th></tr><tr><td>x</td></tr></table>", t=5)] == ["small_count"]
    assert [f.kind for f in check_html("<table><caption>2 persons</caption><tr><td>x</td></tr></table>", t=5)] == [
        "small_count"]
    frame = pl.DataFrame({"kommune_nr": ["1467", "0534"], "persons": [1, 30]})
    assert [f.kind for f in check_text(str(frame.to_pandas()), t=5)] == ["small_count"]
    big = pl.DataFrame({"kommune_nr": ["1467", "0534"], "persons": [10, 30], "year": [2013, 2014]})
    assert check_text(str(big.to_pandas()), t=5) == []  # the 0, 1 row index counts nobody
    assert check_text(str(big), t=5) == []


def test_results_are_checked_at_any_depth_outside_sdc() -> None:
    leaky = {"by_kommune": {"1037": {"persons": 3}}, "list": [{"n": "2"}]}
    assert [f.where for f in check_results(leaky, t=5)] == ["results.by_kommune.1037.persons", "results.list.0.n"]
    fine = {"first_year": 2, "seed": 3, "rank": 1, "coordination_rank": 4, "share": 1.0, "estimate": 2.0,
            "provenance": {"versions": {"x": 1}}, "requested": 3, "_public": ["requested"], "municipalities": 428}
    assert check_results(fine, t=5) == []
    with pytest.raises(ValueError, match="not a column the models declare public"):
        from settlement_research.reports.results import save_results

        save_results({"persons": 3}, public_keys=["persons"], path=Path("/nonexistent/never-written.json"))


def test_an_identifier_split_across_tags_or_drawn_in_svg_is_found() -> None:
    assert [f.kind for f in check_html("<p><b>1234</b>56789</p>", ids=IDS, t=5)] == ["identifier"]
    assert [f.kind for f in check_html("<p>H<i>1234</i><span>5678</span></p>", ids=IDS, t=5)] == ["identifier"]
    assert check_html("<table><tr><td>1234</td><td>56789</td></tr></table>", ids=IDS, t=5) == []  # two cells
    svg = '<svg><text x="1">123456789</text><text>3 persons</text></svg>'
    assert {f.kind for f in check_html(svg, ids=IDS, t=5)} == {"identifier", "small_count"}


def test_the_chart_hook_reads_every_text_artist(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from settlement_research.sdc import charts

    charts.install()
    monkeypatch.setattr("settlement_research.sdc.audit.identifier_values", lambda *a: IDS)
    with provenance.scope() as scope:
        fig, ax = plt.subplots()
        ax.bar([0, 1], [3, 40])
        ax.set_xticks([0, 1], ["2013", "2014"])
        ax.set_title("Settled")
        fig.savefig(io.BytesIO(), format="svg")
        assert scope.chart_findings == []
        ax.legend(handles=ax.patches[:1], labels=["household H12345678"])
        ax.annotate("3", (0, 3))
        fig.savefig(io.BytesIO(), format="svg")
        plt.close(fig)
        assert sorted(kind for kind, _ in scope.chart_findings) == ["identifier", "small_count"]


def test_housing_shares_are_rounded_to_the_safe_step_of_their_base() -> None:
    from settlement_research.analysis.profile import _safe_shares

    frame = pl.DataFrame({"refugees_housed": [40, 3000, 8, None], "owner_share": [0.5367, 0.5367, 0.5, None]})
    out = _safe_shares(frame, ["owner_share"], "refugees_housed")
    assert out["owner_share"].to_list()[:2] == [pytest.approx(50.0), pytest.approx(53.5)]
    assert out["owner_share"][2] is None and out["owner_share_symbol"][2] == sdc.SUPPRESSED
    for base, share in zip([40, 3000], out["owner_share"].to_list()[:2], strict=True):
        step = sdc.share_step(base)
        assert step is not None and abs(share / 100 / step - round(share / 100 / step)) < 1e-9


def test_a_rounded_share_is_an_interval_constraint_in_the_attack() -> None:
    # two hidden yearly counts (bases shown: 100 and 100) and their pooled share shown as 0.515
    pub = publication.Publication()
    for year, base in (("2013", 100.0), ("2014", 100.0)):
        pub.cell(("k", "we", year), None)
        pub.cell(("k", "web", year), base)
        pub.add_at_most([(("k", "we", year), 1.0), (("k", "web", year), -1.0)], 0.0)
    pub.add_sum([(("k", "we", "2013"), 1.0), (("k", "we", "2014"), 1.0)], 102.0)  # a shown total
    assert publication.audit_publication(pub, t=5).ok  # the total alone: each in [2, 100]
    pub.add_share([("k", "we", "2013")], [("k", "web", "2013")], 0.02, 0.001)  # a precise share pins it
    audit = publication.audit_publication(pub, t=5)
    assert not audit.ok and ("k", "we", "2013") in audit.below_threshold


def test_report_withholds_profiles_the_whole_set_exposes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Per-profile suppression (the naive way) lets the national series pin a hidden 3: the batch
    audit withholds those profiles and fails the run."""
    settled = {"1101": [20, 18, 25], "1106": [8, 3, 11], "1111": [6, 22, 7]}
    years = ["2012", "2013", "2014"]
    entries = []
    for code, values in settled.items():
        by_year = {y: (None if 0 < v < 5 else v) for y, v in zip(years, values, strict=True)}
        results = {"kommune_nr": code, "source": "synthetic", "first_year": "2012", "last_year": "2014",
                   "settled": sum(values), "settled_by_year": by_year,
                   "settled_symbols": {y: ":" for y, v in by_year.items() if v is None}}
        for ext, body in ((".results.json", json.dumps(results)), (".html", "<p>page</p>"), (".ipynb", "{}")):
            (tmp_path / f"kommune_nr-{code}{ext}").write_text(body)
        entries.append({"name": f"kommune_nr-{code}", "status": "ok", "html": f"kommune_nr-{code}.html",
                        "notebook": f"kommune_nr-{code}.ipynb", "results_file": f"kommune_nr-{code}.results.json"})
    national = {"settled_by_year": {y: sum(v[j] for v in settled.values()) for j, y in enumerate(years)}}
    monkeypatch.setattr(publication, "national_settled", lambda *a: national)
    monkeypatch.setattr(publication, "has_register", lambda source: True)
    import settlement_research.reports.batch as batch

    monkeypatch.setattr(batch, "kommune_codes", lambda source=None: sorted(settled))
    manifest = {"reports": entries}
    audit = publication.audit_batch(tmp_path, manifest, t=5)
    assert audit is not None and not audit.ok and ("1106", "2013") in audit.pinned
    assert manifest["set_audit"]["withheld"] == ["kommune_nr-1106"]
    assert entries[1]["status"] == "failed" and entries[1]["error"] == publication.WITHHELD
    assert not (tmp_path / "kommune_nr-1106.html").exists() and (tmp_path / "kommune_nr-1101.html").exists()
    assert np.isclose(audit.hidden, 1)


def test_a_source_of_published_statistics_is_not_attacked_as_a_register(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """IMDi's exports are published statistics: no person-level table, nothing for the set attack to
    protect (and their sums follow edition rules the attack does not model). The batch says so and
    withholds nothing; a source with a person table is attacked."""
    from settlement_research import catalog

    results = {"kommune_nr": "1103", "source": "imdi", "first_year": "2012", "last_year": "2014",
               "settled": 310, "settled_by_year": {"2012": 103, "2013": 95, "2014": 112}}
    (tmp_path / "kommune_nr-1103.results.json").write_text(json.dumps(results))
    (tmp_path / "kommune_nr-1103.html").write_text("<p>page</p>")
    entry = {"name": "kommune_nr-1103", "status": "ok", "html": "kommune_nr-1103.html",
             "results_file": "kommune_nr-1103.results.json"}
    monkeypatch.setattr(catalog, "tables", lambda source=None: ["kommune", "kommune_settlement_year"])
    monkeypatch.setattr(publication, "national_settled", lambda *a: pytest.fail("a register-free source was attacked"))
    manifest = {"reports": [entry]}
    assert publication.audit_batch(tmp_path, manifest, t=5) is None
    assert manifest["set_audit"]["ok"] and "no person-level register" in manifest["set_audit"]["skipped"]
    assert entry["status"] == "ok" and (tmp_path / "kommune_nr-1103.html").exists()
    assert not publication.has_register("imdi")
    monkeypatch.setattr(catalog, "tables", lambda source=None: ["kommune", "person", "settlement"])
    assert publication.has_register("synthetic")


def test_a_bokmal_decimal_comma_keeps_the_signature_but_other_digits_do_not() -> None:
    """A bokmål page writes a signed 68.5 as 68,5 after rendering: still the API's cell; any change
    of the digits is a forged mark."""
    from settlement_research.sdc import provenance

    with provenance.scope() as scope:
        sig = provenance.sign("value", "68.5")
        assert provenance.verify("value", "68,5", sig, scope.key)
        assert provenance.verify("value", "68.5", sig, scope.key)
        assert not provenance.verify("value", "68,6", sig, scope.key)
        assert not provenance.verify("value", "3", sig, scope.key)


def test_the_gate_reads_an_svg_charts_text_itself() -> None:
    """Charts are SVG with text as text (sdc.charts): the clean gate reads them without the hook."""
    from settlement_research.sdc.charts import check_svg

    tick = ('<g id="ytick_1"><g id="text_1"><text x="1" y="12">0</text></g></g>'  # an axis's scale: labels
            '<g id="ytick_2"><g id="text_2"><text x="1" y="7">3</text></g></g>'  # linear in their place
            '<g id="ytick_3"><g id="text_3"><text x="1" y="2">6</text></g></g>')
    assert check_svg(f"<svg>{tick}<text>Settled, 2012-2014</text></svg>", t=5, ids=IDS) == []
    annotation = check_svg(f"<svg>{tick}<g id='text_9'><text x='4' y='5'>3</text></g></svg>", t=5, ids=IDS)
    assert [kind for kind, _ in annotation] == ["small_count"]  # a bare 3 on a bar is a count
    mathtext = '<text>\n <tspan x="0">3</tspan>\n <tspan x="7"> </tspan>\n <tspan x="11">persons</tspan>\n</text>'
    assert [kind for kind, _ in check_svg(f"<svg>{mathtext}</svg>", t=5, ids=IDS)] == ["small_count"]
    in_tick = check_svg('<svg><g id="xtick_1"><text>household H12345678</text></g></svg>', t=5, ids=IDS)
    assert [kind for kind, _ in in_tick] == ["identifier"]


def test_an_image_whose_text_the_gate_cannot_read_is_withheld() -> None:
    glyphs = ('<svg><defs><path id="DejaVuSans-33" d="M 0 0 L 1 1"/></defs>'
              '<g id="text_1"><use xlink:href="#DejaVuSans-33"/></g></svg>')
    assert {f.kind for f in check_html(glyphs, t=5)} == {"unreadable_image"}
    marker = '<svg><defs><path id="m01e4be4897" d="M 0 0"/></defs><use xlink:href="#m01e4be4897" x="1" y="2"/></svg>'
    assert check_html(marker, t=5) == []  # a scatter's marker is not a glyph
    embedded = '<svg><image href="data:image/png;base64,iVBORw0KGgo=" width="4" height="4"/></svg>'
    assert "unreadable_image" in {f.kind for f in check_html(embedded, t=5)}
    assert {f.kind for f in check_html('<p>Oslo</p><img src="chart.png">', t=5)} == {"unreadable_image"}
    nb = {"cells": [{"cell_type": "code", "source": "", "outputs": [
        {"output_type": "display_data", "data": {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}, "metadata": {}}]}]}
    from settlement_research.sdc.audit import check_notebook

    assert {f.kind for f in check_notebook(nb, t=5)} == {"unreadable_image"}


def test_an_svgs_geometry_is_looked_up_number_by_number() -> None:
    from settlement_research.sdc.audit import check_notebook

    def svg_output(svg: str) -> dict:
        return {"cells": [{"cell_type": "code", "source": "", "outputs": [
            {"output_type": "display_data", "data": {"image/svg+xml": svg}, "metadata": {}}]}]}

    written = '<svg><path d="M 123456789 0 L 1 1"/></svg>'  # an id written as a coordinate
    assert {f.kind for f in check_html(written, ids=IDS, t=5)} == {"identifier"}
    assert {f.kind for f in check_notebook(svg_output(written), ids=IDS, t=5)} == {"identifier"}
    adjacent = '<svg><path d="M 12.34 56789.5 L 1 1"/></svg>'  # 12|34|56789: neighbours, not an id
    assert check_html(adjacent, ids=IDS, t=5) == []
    assert check_notebook(svg_output(adjacent), ids=IDS, t=5) == []
