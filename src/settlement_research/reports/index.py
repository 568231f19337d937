"""index.html for a batch: every report with its parameters, status and key numbers.

One self-contained file (inline CSS and JS, no CDN) so it works from a file share or a USB stick:
click a column header to sort, type in the box to filter (all words must match), pick a status.
The rows are plain HTML, so the page is readable with JavaScript off too. Key numbers that come
from person-level data (listed under ``_sdc`` in results.json) carry ``data-sdc`` like any other
controlled cell, so the disclosure check can verify the index as well.

Everything shown comes from the manifest and the reports' results.json, so from data (names) and
from the command line (parameters): every text and attribute is escaped (``textsafe``), and a
report is linked only when its file name is a plain relative name (``textsafe.safe_href``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from settlement_research.analysis.disclosure import SDC_ATTR, SUPPRESSED
from settlement_research.pages.banner import banner_html, data_info
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
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.failed td{background:#fdecea} .status-ok{color:#1a7f37;font-weight:600} .status-failed{color:#b42318;font-weight:600}
.error{color:#b42318;font-size:.8rem;max-width:40rem} .cached{color:#777;font-size:.8rem}
"""

_JS = """
(function(){
  var tbody=document.querySelector('#reports tbody');
  var rows=Array.prototype.slice.call(tbody.rows);
  var box=document.getElementById('filter'), st=document.getElementById('status'), count=document.getElementById('count');
  function apply(){
    var terms=box.value.toLowerCase().split(/\\s+/).filter(Boolean), want=st.value, n=0;
    rows.forEach(function(tr){
      var text=tr.getAttribute('data-text');
      var ok=terms.every(function(t){return text.indexOf(t)>=0;}) && (!want || tr.getAttribute('data-status')===want);
      tr.hidden=!ok; if(ok){n++;}
    });
    count.textContent=n+' of '+rows.length+' reports';
  }
  box.addEventListener('input',apply); st.addEventListener('change',apply);
  document.querySelectorAll('#reports th').forEach(function(th,col){
    th.addEventListener('click',function(){
      var asc=th.getAttribute('aria-sort')!=='ascending';
      document.querySelectorAll('#reports th').forEach(function(o){o.removeAttribute('aria-sort');});
      th.setAttribute('aria-sort',asc?'ascending':'descending');
      function key(tr){var c=tr.cells[col];var v=c.getAttribute('data-sort');return v===null?c.textContent.trim():v;}
      rows.sort(function(a,b){
        var x=key(a),y=key(b),nx=parseFloat(x),ny=parseFloat(y),r;
        if(x===''&&y!==''){return 1;} if(y===''&&x!==''){return -1;}
        r=(!isNaN(nx)&&!isNaN(ny)&&String(nx)===x.replace(/^0+(?=\\d)/,'')&&String(ny)===y.replace(/^0+(?=\\d)/,''))?nx-ny:x.localeCompare(y,'nb');
        return asc?r:-r;
      });
      rows.forEach(function(tr){tbody.appendChild(tr);});
    });
  });
  apply();
})();
"""


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


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return "" if value is None else str(value)


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


def write_index(manifest: Mapping[str, Any]) -> str:
    """The index page for a batch manifest."""
    reports: list[Mapping[str, Any]] = manifest.get("reports", [])
    parameters: list[str] = []
    for report in reports:
        for key in report.get("parameters", {}):
            if key not in parameters:
                parameters.append(key)
    keys = key_columns(reports, parameters)
    esc = escape_html
    head = ["report", *parameters, "status", *keys, "seconds", "error"]
    out = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(str(manifest.get('template', 'reports')))} — reports</title>",
        f"<style>{_CSS}</style></head><body>",
        _banner(reports),
        f"<h1>{esc(str(manifest.get('template', '')))}</h1>",
        '<div class="meta">'
        + " · ".join(esc(f"{k}: {manifest[k]}") for k in ("created", "git_commit", "data_manifest_hash", "sdc_threshold")
                     if manifest.get(k) is not None)
        + "</div>",
        '<div class="controls"><input id="filter" type="search" placeholder="Filter (all words must match)" '
        'aria-label="filter reports"> <select id="status" aria-label="status"><option value="">all</option>'
        '<option value="ok">ok</option><option value="failed">failed</option></select> <span id="count"></span></div>',
        '<table id="reports"><thead><tr>' + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr></thead><tbody>",
    ]
    for report in reports:
        status = str(report.get("status", ""))
        results = report.get("results") or {}
        controlled = set(results.get("_sdc", []) or [])
        link = safe_href(report.get("html"))
        name = esc(str(report.get("name", "")))
        cells = [f'<td><a href="{esc(link)}">{name}</a></td>' if link else f"<td>{name}</td>"]
        cells += [f"<td>{esc(str(report.get('parameters', {}).get(p, '')))}</td>" for p in parameters]
        cached = ' <span class="cached">(cached)</span>' if report.get("cached") else ""
        cells.append(f'<td data-sort="{esc(status)}"><span class="status-{esc(status)}">{esc(status)}</span>{cached}</td>')
        for key in keys:
            value = results.get(key)
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            sort = f' data-sort="{esc(value)}"' if numeric else ""
            cls = ' class="num"' if numeric else ""
            if key in controlled:
                if value is None:
                    cells.append(f'<td class="num" {SDC_ATTR}="suppressed">{SUPPRESSED}</td>')
                else:
                    cells.append(f'<td{cls}{sort} {SDC_ATTR}="count">{esc(_fmt(value))}</td>')
            else:
                cells.append(f"<td{cls}{sort}>{esc(_fmt(value))}</td>")
        duration = report.get("duration_s")
        duration = duration if isinstance(duration, int | float) and not isinstance(duration, bool) else None
        cells.append(f'<td class="num" data-sort="{"" if duration is None else esc(duration)}">'
                     f"{'' if duration is None else f'{duration:.2f}'}</td>")
        cells.append(f'<td class="error">{esc(str(report.get("error") or ""))}</td>')
        text = " ".join([str(report.get("name", "")), *map(str, report.get("parameters", {}).values()), status,
                         *(_fmt(results.get(k)) for k in keys), str(report.get("error") or "")]).lower()
        out.append(f'<tr class="{esc(status)}" data-status="{esc(status)}" data-text="{esc(text)}">' + "".join(cells) + "</tr>")
    out += ["</tbody></table>", f"<script>{_JS}</script>", "</body></html>"]
    return "\n".join(out)
