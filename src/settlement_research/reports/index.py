"""index.html for a batch: every report with its parameters, status and key numbers.

One self-contained file (inline CSS and JS, no CDN) so it works from a file share or a USB stick:
click a column header to sort, type in the box to filter (all words must match), pick a status.
The rows are plain HTML, so the page is readable with JavaScript off too. Key numbers that come
from person-level data (listed under ``_sdc`` in results.json) carry ``data-sdc`` like any other
controlled cell, so the disclosure check can verify the index as well.

Everything shown comes from the manifest and the reports' results.json, so from data (names) and
from the command line (parameters): every text and attribute is escaped (``textsafe``), and a
report is linked only when its file name is a plain relative name (``textsafe.safe_href``).

The page is gated like a report (``reports.batch.gated_index``, in the clean process): its key
numbers say what they are — ``data-sdc="count"``/``"suppressed"`` for keys under ``_sdc``,
``data-sdc="public"`` with the column (``data-sdc-public``) for a key that names a declared public
column, checked there against the data for the municipality of the row — and every other small
number is denied. ``mode`` writes the fallbacks used when the gate finds something.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from settlement_research.pages.banner import banner_html, data_info
from settlement_research.pages.tables import format_value, unit_of
from settlement_research.sdc import SDC_ATTR, SUPPRESSED
from settlement_research.textsafe import escape_html, safe_href

MAX_KEY_COLUMNS = 8

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5rem;color:#1b1b1b}
h1{font-size:1.4rem;margin:0 0 .3rem} .meta{color:#555;font-size:.85rem;margin-bottom:1rem}
.controls{display:flex;gap:.8rem;align-items:center;margin-bottom:.6rem;flex-wrap:wrap}
input[type=search]{padding:.35rem .5rem;min-width:18rem;font-size:.95rem}
table{border-collapse:collapse;font-size:.9rem} th,td{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:left}
th{cursor:pointer;background:#f3f3f3;position:sticky;top:0;user-select:none;white-space:nowrap}
th[aria-sort=ascending]::after{content:" \\25B2"} th[aria-sort=descending]::after{content:" \\25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums} td.report{white-space:nowrap}
tr.failed td{background:#fdecea} .status-ok{color:#1a7f37;font-weight:600} .status-failed{color:#b42318;font-weight:600}
.error{color:#b42318;font-size:.8rem;max-width:40rem} .cached{color:#777;font-size:.8rem}
"""

_JS = """
(function(){
  var table=document.getElementById('reports'), tbody=table.tBodies[0];
  var rows=Array.prototype.slice.call(tbody.rows), heads=Array.prototype.slice.call(table.tHead.rows[0].cells);
  var box=document.getElementById('filter'), st=document.getElementById('status'), count=document.getElementById('count');
  var sortCol=-1, sortAsc=true;
  function saveState(){
    var p=new URLSearchParams();
    if(box.value){p.set('q',box.value);} if(st.value){p.set('status',st.value);}
    if(sortCol>=0){p.set('sort',heads[sortCol].getAttribute('data-key'));p.set('dir',sortAsc?'asc':'desc');}
    var h=p.toString(); try{history.replaceState(null,'',h?'#'+h:location.pathname+location.search);}catch(e){location.hash=h;}
  }
  function apply(){
    var terms=box.value.toLowerCase().split(/\\s+/).filter(Boolean), want=st.value, n=0;
    rows.forEach(function(tr){
      var text=tr.getAttribute('data-text');
      var ok=terms.every(function(t){return text.indexOf(t)>=0;}) && (!want || tr.getAttribute('data-status')===want);
      tr.hidden=!ok; if(ok){n++;}
    });
    count.textContent=n+' of '+rows.length+' reports';
  }
  function sortBy(col,asc){
    sortCol=col; sortAsc=asc;
    heads.forEach(function(o){o.removeAttribute('aria-sort');});
    heads[col].setAttribute('aria-sort',asc?'ascending':'descending');
    function key(tr){var c=tr.cells[col];var v=c.getAttribute('data-sort');return v===null?c.textContent.trim():v;}
    rows.sort(function(a,b){
      var x=key(a),y=key(b),nx=parseFloat(x),ny=parseFloat(y),r;
      if(x===''&&y!==''){return 1;} if(y===''&&x!==''){return -1;}
      r=(!isNaN(nx)&&!isNaN(ny)&&String(nx)===x.replace(/^0+(?=\\d)/,'')&&String(ny)===y.replace(/^0+(?=\\d)/,''))?nx-ny:x.localeCompare(y,'nb');
      return asc?r:-r;
    });
    rows.forEach(function(tr){tbody.appendChild(tr);});
  }
  box.addEventListener('input',function(){apply();saveState();});
  st.addEventListener('change',function(){apply();saveState();});
  heads.forEach(function(th,col){
    th.addEventListener('click',function(){sortBy(col,th.getAttribute('aria-sort')!=='ascending');saveState();});
  });
  function csvCell(t){t=t.replace(/\\s+/g,' ').trim(); return /[",;\\n]/.test(t)?'"'+t.replace(/"/g,'""')+'"':t;}
  document.getElementById('export').addEventListener('click',function(){
    var lines=[heads.map(function(th){return csvCell(th.getAttribute('data-label'));}).join(',')];
    rows.forEach(function(tr){ if(!tr.hidden){
      lines.push(Array.prototype.map.call(tr.cells,function(td){
        var v=td.getAttribute('data-csv'); return csvCell(v===null?td.textContent:v);}).join(','));
    }});
    var blob=new Blob(['\\ufeff'+lines.join('\\r\\n')+'\\r\\n'],{type:'text/csv;charset=utf-8'});
    var a=document.createElement('a'); a.href=URL.createObjectURL(blob); a.download='reports.csv';
    document.body.appendChild(a); a.click(); setTimeout(function(){URL.revokeObjectURL(a.href);a.remove();},0);
  });
  var p=new URLSearchParams(location.hash.replace(/^#/,''));
  if(p.get('q')){box.value=p.get('q');}
  if(p.get('status')){st.value=p.get('status');}
  if(p.get('sort')){heads.forEach(function(th,i){if(th.getAttribute('data-key')===p.get('sort')){sortBy(i,p.get('dir')!=='desc');}});}
  apply();
})();
"""


# Readable column labels with units; keys not listed are shown with '_' as spaces.
LABELS = {
    "report": "report", "kommune_nr": "municipality code", "kommune_name": "municipality", "fylke": "county",
    "lang": "language", "source": "data source", "first_year": "first year", "last_year": "last year",
    "status": "status", "centrality": "centrality class", "requested": "requested (persons)",
    "decided": "decided (persons)", "settled": "settled (persons)",
    "work_education_share": "in work or education (%)", "work_education_share_county": "county: in work or education (%)",
    "work_education_share_norway": "Norway: in work or education (%)", "coordination_index": "coordination index (0–1)",
    "seconds": "render time (s)", "error": "error",
}


# The batch's own facts above the table, labelled for readers (not the manifest's field names).
META_LABELS = {"created": "created", "git_commit": "commit", "data_manifest_hash": "data manifest (sha256)",
               "sdc_threshold": "disclosure threshold"}
TITLES = {"municipality_profile": "Municipality profiles · Kommuneprofiler"}


def title(template: str) -> str:
    """The page heading for a template's batch ("Municipality profiles", not ``municipality_profile``)."""
    return TITLES.get(template, template.replace("_", " ").strip().capitalize() or "Reports")


def csv_value(value: Any, key: str = "") -> str:
    """A key number as the CSV export writes it: plain digits and '.' (no thousands separator, so a
    spreadsheet reads a number), shares in % like the page."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    if key.endswith("share") or "_share_" in key:
        return f"{value * 100:.1f}"
    return _fmt(value, key).replace("\u202f", "").replace("\u2212", "-")


def label(key: str) -> str:
    """The column label for a parameter or results key."""
    return LABELS.get(key, key.replace("_", " "))


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def key_columns(reports: list[Mapping[str, Any]], parameters: list[str]) -> list[str]:
    """Scalar keys of results.json in order of first appearance, parameters and '_' keys left out."""
    keys: dict[str, None] = {}
    for report in reports:
        for key, value in (report.get("results") or {}).items():
            if not key.startswith("_") and key not in parameters and _scalar(value):
                keys.setdefault(key, None)
    return list(keys)[:MAX_KEY_COLUMNS]


def _fmt(value: Any, key: str = "") -> str:
    """A key number as shown: shares as %, counts with the narrow no-break space, years as text."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    if key.endswith("share") or "_share_" in key:
        return format_value(value * 100, "percent")
    return format_value(value, unit_of(key, pl.Int64 if isinstance(value, int) else pl.Float64))


def _banner(reports: list[Mapping[str, Any]]) -> str:
    """The data banner of the batch: synthetic if any report showed synthetic data."""
    infos = [r.get("results", {}).get("data") if isinstance(r.get("results"), Mapping) else None for r in reports]
    infos = [i for i in infos if isinstance(i, Mapping)]
    if not infos:
        sources = {str(r.get("parameters", {}).get("source")) for r in reports if r.get("parameters", {}).get("source")}
        infos = [data_info(s) for s in sorted(sources)]
    if not infos:
        return ""
    synthetic = [i for i in infos if i.get("synthetic")]
    return banner_html(synthetic[0] if synthetic else infos[0])


_NAV = re.compile(r'(<nav class="profile-nav"[^>]*>)(.*?)(</nav>)', re.S)


def link_languages(out_dir: Path, reports: list[Mapping[str, Any]]) -> int:
    """Link each page of a batch to its page in the other language (same parameters but ``lang``),
    when the batch rendered both; returns how many pages were linked.

    Why here and not in the notebook: a page cannot know the file name the batch gives its sibling
    (the names come from the parameters that vary), nor whether the sibling exists. A page without
    a sibling keeps only its link back to the index.
    """
    from settlement_research.analysis.profile_text import LANGS, words
    from settlement_research.io import write_text_atomic

    by_key: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
    for r in reports:
        params = dict(r.get("parameters") or {})
        lang, html = params.pop("lang", None), safe_href(r.get("html"))
        if lang in LANGS and html and r.get("status") == "ok":
            by_key.setdefault(tuple(sorted(params.items())), {})[lang] = html
    linked = 0
    for pages in by_key.values():
        for lang, html in pages.items():
            other = next((o for o in LANGS if o != lang and o in pages), None)
            path = out_dir / html
            if other is None or not path.is_file():
                continue
            text = path.read_text("utf-8")
            link = (f' · <a href="{escape_html(pages[other])}" hreflang="{other}">'
                    f"{escape_html(words(lang)['other_lang'])}</a>")
            new = _NAV.sub(lambda m, link=link: m.group(1) + re.sub(r"\s·\s<a [^>]*hreflang=.*?</a>", "", m.group(2)) + link
                           + m.group(3), text, count=1)
            if new != text:
                write_text_atomic(new, path)
                linked += 1
    return linked


def _public_column(key: str) -> str | None:
    """The declared public column a results key names (``requested``), else None."""
    from settlement_research.sdc.rendering import resolve_public

    try:
        return resolve_public(key)
    except ValueError:
        return None


MODES = ("full", "no_numbers", "names", "empty")


def write_index(manifest: Mapping[str, Any], mode: str = "full") -> str:
    """The index page for a batch manifest. ``mode``: ``full``; ``no_numbers`` (no key numbers of
    the reports); ``names`` (names and statuses only); ``empty`` (no report listed) — the fallbacks
    when the gate finds something in the fuller page."""
    if mode not in MODES:
        raise ValueError(f"write_index: mode must be one of {MODES}")
    reports: list[Mapping[str, Any]] = [] if mode == "empty" else manifest.get("reports", [])
    parameters: list[str] = []
    for report in reports:
        for key in report.get("parameters", {}):
            if key not in parameters:
                parameters.append(key)
    if mode == "names":
        parameters = []
    keys = key_columns(reports, parameters) if mode == "full" else []
    publics = {k: _public_column(k) for k in keys}
    esc = escape_html
    head = ["report", *parameters, "status", *keys, *(["seconds", "error"] if mode != "names" else [])]
    out = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title(str(manifest.get('template', 'reports'))))}</title>",
        f"<style>{_CSS}</style></head><body>",
        _banner(reports),
        f"<h1>{esc(title(str(manifest.get('template', ''))))}</h1>",
        '<div class="meta">'
        + " · ".join(esc(f"{label}: {manifest[k]}") for k, label in META_LABELS.items() if manifest.get(k) is not None)
        + "</div>",
        '<div class="controls"><input id="filter" type="search" placeholder="Filter (all words must match)" '
        'aria-label="filter reports"> <select id="status" aria-label="status"><option value="">all</option>'
        '<option value="ok">ok</option><option value="failed">failed</option></select> <span id="count"></span>',
        '<button id="export" type="button">Download CSV (rows shown)</button></div>',
        '<div style="overflow-x:auto"><table id="reports"><thead><tr>'
        + "".join(f'<th scope="col" data-key="{esc(h)}" data-label="{esc(label(h))}">{esc(label(h))}</th>' for h in head)
        + "</tr></thead><tbody>",
    ]
    for report in reports:
        status = str(report.get("status", ""))
        results = report.get("results") or {}
        controlled = set(results.get("_sdc", []) or [])
        listed = results.get("_public")
        windows = listed if isinstance(listed, Mapping) else {}  # the years a public key's number covers
        link = safe_href(report.get("html"))
        name = esc(str(report.get("name", "")))
        cells = [f'<td class="report"><a href="{esc(link)}">{name}</a></td>' if link else f'<td class="report">{name}</td>']
        cells += [f"<td>{esc(str(report.get('parameters', {}).get(p, '')))}</td>" for p in parameters]
        cached = ' <span class="cached">(cached)</span>' if report.get("cached") else ""
        cells.append(f'<td data-sort="{esc(status)}"><span class="status-{esc(status)}">{esc(status)}</span>{cached}</td>')
        for key in keys:
            value = results.get(key)
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            sort = f' data-sort="{esc(value)}" data-csv="{esc(csv_value(value, key))}"' if numeric else ""
            cls = ' class="num"' if numeric else ""
            if key in controlled:
                if value is None:
                    cells.append(f'<td class="num" {SDC_ATTR}="suppressed">{SUPPRESSED}</td>')
                else:
                    cells.append(f'<td{cls}{sort} {SDC_ATTR}="count">{esc(_fmt(value, key))}</td>')
            elif numeric and publics[key]:
                window = f' data-sdc-public-years="{esc(windows[key])}"' if isinstance(windows.get(key), str) else ""
                cells.append(f'<td{cls}{sort} {SDC_ATTR}="public" data-sdc-public="{esc(publics[key])}"{window}>'
                             f"{esc(_fmt(value, key))}</td>")
            else:
                cells.append(f"<td{cls}{sort}>{esc(_fmt(value, key))}</td>")
        if mode != "names":
            duration = report.get("duration_s")
            duration = duration if isinstance(duration, int | float) and not isinstance(duration, bool) else None
            cells.append(f'<td class="num" data-sort="{"" if duration is None else esc(duration)}" '
                         f'data-csv="{"" if duration is None else f"{duration:.2f}"}">'
                         f"{'' if duration is None else f'{duration:.2f}'}</td>")
            cells.append(f'<td class="error">{esc(str(report.get("error") or ""))}</td>')
        text = " ".join([str(report.get("name", "")), *(str(report.get("parameters", {}).get(p, "")) for p in parameters),
                         status, *(_fmt(results.get(k), k) for k in keys),
                         str(report.get("error") or "") if mode != "names" else ""]).lower()
        out.append(f'<tr class="{esc(status)}" data-status="{esc(status)}" data-text="{esc(text)}">' + "".join(cells) + "</tr>")
    out += ["</tbody></table></div>", f"<script>{_JS}</script>", "</body></html>"]
    return "\n".join(out)
