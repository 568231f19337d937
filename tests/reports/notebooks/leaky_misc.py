# %% tags=["parameters"]
source = "synthetic"
how = "title"

# %%
import polars as pl
from IPython.display import HTML, display

from settlement_research.paths import data_clean_dir
from settlement_research.reports.results import save_results

# Deliberately wrong: a small count where the gate may not look, one way per run.
persons = pl.read_parquet(data_clean_dir() / source / "settlement.parquet")
n = persons.filter(pl.col("kommune_nr") == "1037").height
if how == "title":
    display(HTML(f'<p><span title="Kvinesdal: {n} persons settled">Kvinesdal</span></p>'))
elif how == "alt":
    display(HTML(f'<p><abbr title="{n}">Kvinesdal</abbr></p>'))
elif how == "error":
    raise ValueError(f"Kvinesdal settled only {n} refugees")
elif how == "public_undeclared":
    save_results({"_public": ["persons"], "persons": {"1037": n}})
elif how == "style":
    display(HTML(f'<style>.k::after {{ content: "{n} persons"; }}</style><p class="k">Kvinesdal</p>'))
elif how == "script":
    display(HTML(f'<p id="k">Kvinesdal</p><script>document.getElementById("k").append(" " + ({n} + 0))</script>'))
elif how == "onload":
    display(HTML(f'<img src="x" onerror="this.after(String({n * 7} / 7))">'))
elif how == "js_link":
    display(HTML(f'<a href="javascript:alert({n})">Kvinesdal</a>'))
elif how == "escaped_markup":  # a hostile name shown as text is not markup
    display(HTML("<p>&lt;script&gt;alert(1)&lt;/script&gt; javascript:alert(1) &lt;img src=x onerror=alert(1)&gt;</p>"))
