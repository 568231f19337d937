# %% tags=["parameters"]
source = "synthetic"
how = "csv_id"

# %%
import base64
import urllib.parse

import polars as pl
from IPython.display import HTML, display

from settlement_research import sdc
from settlement_research.analysis import profile_text as tx
from settlement_research.paths import data_clean_dir

# Deliberately wrong: person-level content hidden in an embedded download or another data: URI,
# one way per run. The page's own table is clean (suppressed and signed).
persons = pl.read_parquet(data_clean_dir() / source / "settlement.parquet")
by_kommune = persons.group_by("kommune_nr").len("persons").sort("kommune_nr")
display(sdc.to_html(sdc.suppress(by_kommune, ["persons"])))
rows = persons.select("person_id", "kommune_nr").head(3)


def link(mime: str, payload: bytes) -> None:
    display(HTML(f'<a download="x" href="data:{mime};base64,{base64.b64encode(payload).decode()}">download</a>'))


if how == "csv_id":
    display(HTML(tx.download_link(rows, "rows.csv", "en")))
elif how == "csv_count":
    display(HTML(tx.download_link(by_kommune, "counts.csv", "en")))
elif how == "csv_count_nb":
    display(HTML(tx.download_link(by_kommune, "counts.csv", "nb")))
elif how == "xlsx_id":
    display(HTML(tx.xlsx_link({"rows": (rows, 0)}, "rows.xlsx", "en")))
elif how == "xlsx_count":
    display(HTML(tx.xlsx_link({"counts": (by_kommune, 0)}, "counts.xlsx", "en")))
elif how == "xlsx_caption":
    small = by_kommune.filter(pl.col("kommune_nr") == "1037")["persons"][0]
    display(HTML(tx.xlsx_link({"counts": (sdc.suppress(by_kommune, ["persons"]), 0)}, "c.xlsx", "en",
                              {"counts": f"Kvinesdal settled only {small} refugees"})))
elif how == "svg_id":
    svg = f'<svg xmlns="http://www.w3.org/2000/svg"><text x="1" y="9">{rows["person_id"][0]}</text></svg>'
    display(HTML(f'<img src="data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()}">'))
elif how == "text_percent":
    text = urllib.parse.quote(f"{rows['person_id'][0]},Kvinesdal")
    display(HTML(f'<a href="data:text/plain,{text}">x</a>'))
elif how == "json_count":
    link("application/json", by_kommune.write_json().encode())
elif how == "style":
    display(HTML(f'<style>.k::after {{ content: "{rows["person_id"][0]}"; }}</style><p class="k">Kvinesdal</p>'))
elif how == "png_lie":
    link("image/png", tx.csv_text(rows, "en").encode())
elif how == "clean":  # the profile's way: the suppressed table and its downloads
    shown = sdc.suppress(by_kommune, ["persons"])
    display(HTML(tx.download_link(shown, "counts.csv", "en")))
    display(HTML(tx.xlsx_link({"counts": (shown, 0)}, "counts.xlsx", "en", {"counts": "Settled persons by municipality"})))
elif how == "xlsx_properties":
    import io

    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.set_properties({"title": "x", "comments": f"first person {rows['person_id'][0]}"})
    book.add_worksheet("counts").write_string(0, 0, "Kvinesdal")
    book.close()
    link(tx.XLSX_MIME, buffer.getvalue())
