"""Run one notebook: jupytext py:percent -> papermill (parameters as strings) -> ipynb, HTML, results.

``settlement-research run-notebook NAME [-p key=value ...] [--out DIR]`` finds ``notebooks/NAME.py``,
executes it with papermill's Python API and writes ``DIR/NAME.ipynb``, ``DIR/NAME.html`` (no code
cells) and ``DIR/NAME.results.json`` (written by the notebook itself through
``settlement_research.reports.results.save_results``; the runner tells it where through the
``SETTLEMENT_RESEARCH_RESULTS`` environment variable). The default DIR is ``reports/NAME/``.

Parameters are declared, checked and always strings ('0301' stays '0301'; papermill's CLI would
parse them as YAML and turn 0301 into 301). The names a notebook accepts are those of its cell
tagged ``parameters``; an undeclared or malformed key, a path as ``source``, an unknown
``kommune_nr`` or a year the data do not cover is refused before anything is rendered or written
(``reports.parameters``; ``run-notebook`` exits 2). The runner injects the values itself
(``name = 'value'``, the repr of a str) and the in-process engine re-checks the injected cell.

Every rendered report goes through the disclosure gate (``sdc.audit.audit_report``: identifier
values from the person-level data in any artefact, small counts in any table cell not from the
disclosure API or a public column); a report that fails it is marked failed and its outputs are
withheld (deleted), because its notebook and results carry the same content as the page. Error
text is always scrubbed of identifiers before it leaves the renderer. ``run-notebook`` renders in
a worker process and decides in its own, which runs no template code (``render_isolated``,
``sdc.gate``); a ``Renderer`` used directly audits in its own process (tests, and workers with
``audit=True``).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import time
import traceback
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import jinja2
import jupytext
import nbformat
import papermill as pm
from nbconvert import HTMLExporter
from nbconvert.exporters.html import WidgetsDataTypeFilter
from nbconvert.exporters.templateexporter import TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from papermill.exceptions import PapermillExecutionError

from settlement_research.catalog import NotApplicable
from settlement_research.errors import InputError, SettlementResearchError
from settlement_research.io import write_text_atomic
from settlement_research.pages import banner
from settlement_research.pages import lineage as page_lineage
from settlement_research.paths import project_root
from settlement_research.reports import engine as inprocess
from settlement_research.reports import parameters as params
from settlement_research.reports import provenance
from settlement_research.reports.provenance import sha256_text
from settlement_research.reports.results import RESULTS_ENV
from settlement_research.sdc import audit as sdc_audit
from settlement_research.sdc import charts as sdc_charts
from settlement_research.sdc import gate as sdc_gate
from settlement_research.sdc import provenance as sdc_provenance
from settlement_research.sdc.rules import threshold as sdc_threshold_default

CLI_HELP = "Run one notebook with string parameters and write its .ipynb, HTML and results.json."
KERNEL_NAME = "settlement_research"
ENGINES = ("inprocess", "kernel")
# A Jupyter kernel draws its inline figures as SVG with text as text too (as ``plots.use_svg`` does
# in-process), so a template that never calls ``set_theme`` is not withheld for a PNG.
KERNEL_CHART_ARGS = ["--InlineBackend.figure_formats=svg",
                     "--InlineBackend.rc={'svg.fonttype': 'none', 'svg.hashsalt': 'settlement_research'}"]

inprocess.register()

# A small page around nbconvert's lab body markup: our own short stylesheet instead of the ~280 kB
# of inline JupyterLab CSS, and none of the CDN scripts (require.js, MathJax, mermaid), so that a
# report is small (figures are inline SVG), self-contained and opens offline with no failed loads.
REPORT_CSS = """
:root{color-scheme:light;--fg:#1f2328;--muted:#59636e;--line:#d0d7de;--zebra:#f6f8fa;--accent:#0b5cad}
*{box-sizing:border-box}
body{margin:0;background:#fff;color:var(--fg);font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,sans-serif}
main{max-width:62rem;margin:0 auto;padding:1.5rem 1.25rem 3rem}
h1,h2,h3,h4{line-height:1.25;margin:1.6em 0 .5em}h1{font-size:1.7rem;margin-top:.4em}
h2{font-size:1.3rem;border-bottom:1px solid var(--line);padding-bottom:.2em}h3{font-size:1.1rem}
p,ul,ol{margin:.5em 0 .9em}li{margin:.2em 0}a{color:var(--accent)}
code{font:.9em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--zebra);padding:.1em .3em;
border-radius:3px}
pre{font:.85rem/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--zebra);
padding:.6rem .8rem;overflow-x:auto;border-radius:4px;white-space:pre-wrap}
img,svg{max-width:100%;height:auto;display:block;margin:.6rem 0}
table{border-collapse:collapse;margin:.8rem 0 1.2rem;font-size:.9rem;font-variant-numeric:tabular-nums;
display:block;overflow-x:auto;max-width:100%}
caption{caption-side:top;text-align:left;font-weight:600;padding:.2rem 0 .4rem}
th,td{padding:.3rem .6rem;border-bottom:1px solid var(--line);text-align:right;vertical-align:top}
th{border-bottom:2px solid var(--muted);background:#fff}
th:first-child,td:first-child{text-align:left}tbody tr:nth-child(even){background:var(--zebra)}
td[data-sdc=suppressed]{color:var(--muted)}
.anchor-link{visibility:hidden;text-decoration:none;margin-left:.3em}
:is(h1,h2,h3,h4):hover .anchor-link{visibility:visible}table.dataframe{border:0}
.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"] pre{background:#fff5f5}
.jp-OutputArea-output{margin:.2rem 0}.jp-InputPrompt,.jp-OutputPrompt{display:none}
.ansi-red-fg,.ansi-red-intense-fg{color:#b42318}.ansi-green-fg,.ansi-green-intense-fg{color:#1a7f37}
.ansi-yellow-fg{color:#9a6700}.ansi-blue-fg,.ansi-blue-intense-fg{color:#0b5cad}.ansi-cyan-fg{color:#1b7c83}
.ansi-bold{font-weight:700}
@media print{main{max-width:none;padding:0}table{display:table}}
"""

_OFFLINE_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head -%}
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{{ nb.metadata.get('title', resources['metadata']['name']) | escape_html_keep_quotes }}</title>
<style>{{ resources.report_css }}</style>
{%- endblock html_head -%}
{% block data_svg scoped -%}
<div class="jp-RenderedSVG jp-OutputArea-output {{ extra_class }}" data-mime-type="image/svg+xml">
{{ output.data['image/svg+xml'] }}
</div>
{%- endblock data_svg %}
"""
# An SVG output is put in the page as markup (its text stays text: searchable, read by screen
# readers, and by the disclosure gate), not as a base64 <img>. It is the renderer's SVG as the
# executed notebook holds it, which the gate judges like any HTML output (scripts, handlers).


_IMG_WITHOUT_ALT = re.compile(r"<img(?![^>]*\balt=)")
_FOCUSABLE = re.compile(r'<div class="([^"]*\b(?:jp-OutputArea-output|jp-Cell-inputWrapper)\b[^"]*)"(?![^>]*tabindex)')


class FastHTMLExporter(HTMLExporter):
    """nbconvert's HTMLExporter without its BeautifulSoup pass over the finished page, and without
    a schema validation of the whole notebook after each of its preprocessors.

    Why: that pass parses the whole page (the figures and, with the stock template, ~280 kB of inline
    lab CSS) only to add alt text to images and ``tabindex`` to outputs, about 0.2 s per report — a
    large share of a batch report's time. The same two attributes are added here with two regular
    expressions over the tags nbconvert's own templates write. The validations (a dozen per report,
    about a third of the export) check a notebook papermill has just written from a schema-valid
    template; its preprocessors only strip and merge outputs.
    """

    def _validate_preprocessor(self, nbc, preprocessor):  # type: ignore[override]
        pass

    def from_notebook_node(self, nb, resources=None, **kw):  # type: ignore[override]
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        self.register_filter("highlight_code", self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        html = _IMG_WITHOUT_ALT.sub('<img alt="No description has been provided for this image"', html)
        html = _FOCUSABLE.sub(r'<div class="\1" tabindex="0"', html)
        return html, resources


# What an SVG file carries that an SVG inside a page does not need: the XML declaration, the
# DOCTYPE and matplotlib's metadata block (its creation date would make every page differ).
_SVG_PROLOGUE = re.compile(r"\A\s*(?:<\?xml[^>]*\?>\s*)?(?:<!DOCTYPE[^>]*>\s*)?", re.IGNORECASE)
_SVG_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)
_SVG_OPEN = re.compile(r"<svg\b(?![^>]*\brole=)")


# Coordinates: matplotlib writes six decimals of a point (1/72 inch); two are a hundredth of a point.
_SVG_GEOMETRY = re.compile(r'(\s(?:x|y|x1|y1|x2|y2|cx|cy|r|d|points|transform)=")([^"]*)"')
_LONG_DECIMAL = re.compile(r"(\d\.\d\d)\d+")
_SVG_STYLE = re.compile(r'\sstyle="([^"]{24,})"')
_SVG_DEFS_STYLE = re.compile(r"(<defs>\s*<style[^>]*>)")
_SHARED_STYLE = 3  # a style written this often (a scatter's every point) becomes one CSS class
_INDENT = re.compile(r"\n[ \t]+<")  # matplotlib's indentation (never text: a text's own spaces stay)


def _shared_styles(svg: str) -> str:
    """Inline styles repeated on many elements (matplotlib writes one per point of a scatter) as
    one class each, named by their content (the same style in two figures is the same rule)."""
    import hashlib

    counts: dict[str, int] = {}
    for style in _SVG_STYLE.findall(svg):
        counts[style] = counts.get(style, 0) + 1
    shared = {style: "k" + hashlib.sha1(style.encode()).hexdigest()[:8] for style, n in counts.items()
              if n >= _SHARED_STYLE and "<" not in style and "{" not in style and "}" not in style}
    if not shared or not _SVG_DEFS_STYLE.search(svg):
        return svg
    svg = _SVG_STYLE.sub(lambda m: f' class="{shared[m.group(1)]}"' if m.group(1) in shared else m.group(0), svg)
    rules = "".join(f".{name}{{{style}}}" for style, name in shared.items())
    return _SVG_DEFS_STYLE.sub(lambda m: m.group(1) + rules, svg, count=1)


def compact_svg(svg: str) -> str:
    """An SVG output ready to stand in a page: prologue, metadata and indentation dropped,
    coordinates to a hundredth of a point, styles repeated on many elements as one class, and the root marked as
    one image with the generic description (``banner.describe_images`` names it after its
    heading), as nbconvert gives an ``<img>``. Text is never changed (the gate reads the page)."""
    from settlement_research.pages.banner import GENERIC_ALT

    svg = _SVG_METADATA.sub("", _SVG_PROLOGUE.sub("", svg, count=1), count=1)
    svg = _SVG_GEOMETRY.sub(lambda m: m.group(1) + _LONG_DECIMAL.sub(r"\1", m.group(2)) + '"', svg)
    svg = _INDENT.sub("\n<", _shared_styles(svg))
    return _SVG_OPEN.sub(f'<svg role="img" aria-label="{GENERIC_ALT}"', svg, count=1)


def compact_images(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook (changed in place: the runner's own copy, already written to disk) with its
    SVG outputs ready for the page (:func:`compact_svg`)."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            svg = data.get("image/svg+xml")
            if svg is not None:
                data["image/svg+xml"] = compact_svg(svg if isinstance(svg, str) else "".join(svg))
    return nb


@dataclass
class Template:
    """A notebook ready to run: its name, source file, parsed cells, content hash and the
    parameters its ``parameters`` cell declares (name -> default)."""

    name: str
    path: Path
    nb: nbformat.NotebookNode
    hash: str
    declared: dict[str, str] = field(default_factory=dict)

    def fresh(self) -> nbformat.NotebookNode:
        return copy.deepcopy(self.nb)

    @property
    def parameters(self) -> list[str]:
        """The names the notebook accepts, in the order it declares them."""
        return list(self.declared)

    def check(self, parameters: Mapping[str, Any]) -> dict[str, str]:
        """The parameters checked against this template's declaration and the data's domains
        (``ParameterError``/``TypeError`` otherwise; see reports.parameters)."""
        return params.check(parameters, self.declared, self.name)


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def find_notebook(name: str | Path) -> Path:
    """``NAME`` -> notebooks/NAME.py; a path to an existing .py/.ipynb file is used as it is."""
    candidate = Path(name)
    if candidate.suffix in (".py", ".ipynb") and candidate.is_file():
        return candidate.resolve()
    path = notebooks_dir() / f"{name}.py"
    if path.is_file():
        return path
    available = sorted(p.stem for p in notebooks_dir().glob("*.py")) if notebooks_dir().is_dir() else []
    raise FileNotFoundError(f"no notebook {name!r} in {notebooks_dir()} (have: {', '.join(available) or 'none'})")


def load_template(name: str | Path) -> Template:
    """Read a jupytext py:percent notebook into memory (no .ipynb is written next to it)."""
    path = find_notebook(name)
    text = path.read_text("utf-8")
    nb = jupytext.reads(text, fmt="ipynb" if path.suffix == ".ipynb" else "py:percent")
    nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": KERNEL_NAME, "language": "python"}
    nb.metadata.setdefault("language_info", {"name": "python"})
    return Template(path.stem, path, nb, sha256_text(text), params.declared(nb, str(path)))


def check_parameters(template: Template, parameters: Mapping[str, Any]) -> dict[str, str]:
    """Parameters are declared strings within their domains; anything else is refused loudly."""
    return template.check(parameters)


@dataclass
class Outcome:
    """What happened to one report; the batch manifest stores this per report."""

    name: str
    parameters: dict[str, str]
    status: str  # ok | failed
    duration_s: float
    error: str | None = None
    notebook: str | None = None
    html: str | None = None
    results_file: str | None = None
    results: dict[str, Any] | None = None
    findings: list[dict[str, str]] = field(default_factory=list)
    trace: dict[str, Any] | None = None  # for the clean gate only (holds the render's key): never written

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("trace")
        return out


def _kernel_name() -> str:
    """The project kernel when installed (make setup does it), else the current Python's."""
    from jupyter_client.kernelspec import KernelSpecManager

    return KERNEL_NAME if KERNEL_NAME in KernelSpecManager().find_kernel_specs() else "python3"


class Renderer:
    """Executes templates and exports HTML; keeps the (slow to build) exporter for reuse."""

    def __init__(self, engine: str = "inprocess", *, sdc_threshold: int | None = None, audit: bool = True) -> None:
        """``audit=False``: no gate in this process (a worker whose parent runs the decisive,
        clean-process gate, ``sdc.gate.settle``); the outcome carries the render's trace for it."""
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
        self.engine = engine
        self.audit = audit
        self.threshold = sdc_threshold_default() if sdc_threshold is None else sdc_threshold
        self.exporter = FastHTMLExporter(
            template_file="offline.html.j2", exclude_input=True, exclude_input_prompt=True,
            exclude_output_prompt=True, extra_loaders=[jinja2.DictLoader({"offline.html.j2": _OFFLINE_TEMPLATE})],
        )
        if engine == "inprocess":
            from settlement_research.analysis import plots

            inprocess.get_shell()
            plots.use_svg()  # a template that never calls set_theme draws readable SVG too
            sdc_charts.install()  # every figure's text is read in this process too (the parent reads the SVG)

    def warm_up(self) -> None:
        """Pay the first-use costs (font cache, SVG writer, HTML template compile) before the first
        report, so that a batch worker's reports all cost the same."""
        import matplotlib.pyplot as plt

        from settlement_research.analysis.plots import figure_svg

        fig, ax = plt.subplots(figsize=(2, 1))
        ax.set_title("warm-up")
        ax.plot([0, 1], [0, 1])
        svg = figure_svg(fig, bbox_inches="tight")
        plt.close(fig)
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1", outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="warm-up\n"),
            nbformat.v4.new_output("display_data", data={"image/svg+xml": svg})])])
        self.html(nb, "warm-up")

    def html(self, nb: nbformat.NotebookNode, title: str) -> str:
        nb = compact_images(nb)
        body, _ = self.exporter.from_notebook_node(
            nb, resources={"metadata": {"name": title}, "report_css": " ".join(REPORT_CSS.split())})
        return body

    def _execute(self, template: Template, parameters: dict[str, str], ipynb: Path, results: Path,
                 cwd: Path) -> tuple[nbformat.NotebookNode | None, str | None]:
        # The parameters are injected here (repr of each str), not by papermill: papermill would
        # also format the output path with them and write keys into code unchecked.
        nb_in = params.inject(template.fresh(), parameters)
        output = str(ipynb).replace("{", "{{").replace("}", "}}")  # papermill formats the path
        common: dict[str, Any] = dict(
            parameters=None, progress_bar=False, request_save_on_cell_execute=False, cwd=str(cwd),
        )
        try:
            if self.engine == "inprocess":
                from settlement_research.analysis.plots import use_svg

                use_svg()  # a report before may have switched the inline backend's format
                nb = pm.execute_notebook(
                    nb_in, output, engine_name="inprocess", kernel_name=KERNEL_NAME,
                    report_env={RESULTS_ENV: str(results)}, **common,
                )
            else:
                saved = os.environ.get(RESULTS_ENV)
                os.environ[RESULTS_ENV] = str(results)  # the kernel inherits it
                try:
                    nb = pm.execute_notebook(nb_in, output, kernel_name=_kernel_name(), extra_arguments=KERNEL_CHART_ARGS,
                                             **common)
                finally:
                    if saved is None:
                        os.environ.pop(RESULTS_ENV, None)
                    else:
                        os.environ[RESULTS_ENV] = saved
            return nb, None
        except PapermillExecutionError as exc:
            nb = nbformat.read(ipynb, as_version=4) if ipynb.is_file() else None
            if exc.ename == NotApplicable.__name__:  # the notebook said in one line why it stops: done
                return nb, None
            return nb, f"{exc.ename}: {exc.evalue} (cell {exc.exec_count})"
        except Exception as exc:  # kernel died, bad notebook, ...: this report fails, others go on
            nb = nbformat.read(ipynb, as_version=4) if ipynb.is_file() else None
            last = traceback.format_exception_only(type(exc), exc)[-1].strip()
            return nb, last

    def render(self, template: Template, parameters: Mapping[str, str], out_dir: Path,
               stem: str | None = None, *, cwd: Path | None = None) -> Outcome:
        """Execute one report and write its files; never raises for a failing notebook.

        Raises ``ParameterError`` (or ``TypeError``) before anything is written when the
        parameters are not declared by the template or fall outside their domains.
        """
        parameters = template.check(parameters)
        stem = stem or template.name
        out_dir.mkdir(parents=True, exist_ok=True)
        ipynb, page, results = (out_dir / f"{stem}{ext}" for ext in (".ipynb", ".html", ".results.json"))
        lineage_file = page_lineage.lineage_file_for(page)  # written by the notebook (pages/lineage.py)
        for stale in (ipynb, page, results, lineage_file):
            stale.unlink(missing_ok=True)
        start = time.perf_counter()
        with sdc_provenance.scope() as scope:  # a fresh key: marks from any other render do not verify
            nb, error, findings, data = self._render_and_audit(template, parameters, ipynb, page, results, cwd, scope)
            trace = None if self.audit else sdc_gate.Trace.of(scope).to_dict()
        error = sdc_audit.scrub(error, sdc_audit.identifier_values(), self.threshold, error=True)
        return Outcome(
            name=stem, parameters=parameters, status="failed" if error else "ok",
            duration_s=round(time.perf_counter() - start, 3), error=error,
            notebook=ipynb.name if ipynb.is_file() else None, html=page.name if page.is_file() else None,
            results_file=results.name if results.is_file() else None, results=data,
            findings=[f.to_dict() for f in findings], trace=trace,
        )

    def _render_and_audit(self, template: Template, parameters: dict[str, str], ipynb: Path, page: Path,
                          results: Path, cwd: Path | None, scope: sdc_provenance.Scope) -> tuple[Any, str | None, list[Any], Any]:
        """Execute, export and stamp one report, then the disclosure gate (within one provenance scope)."""
        saved_key = os.environ.get(sdc_provenance.KEY_ENV)
        if self.engine == "kernel":  # the kernel signs with the render's key (it inherits the environment)
            os.environ[sdc_provenance.KEY_ENV] = scope.key.hex()
        try:
            nb, error = self._execute(template, parameters, ipynb, results, cwd or template.path.parent)
        finally:
            if self.engine == "kernel":
                os.environ.pop(sdc_provenance.KEY_ENV, None)
                if saved_key is not None:
                    os.environ[sdc_provenance.KEY_ENV] = saved_key
        if nb is not None:
            write_text_atomic(self.html(nb, _title(template.name, parameters)), page)
        provenance.stamp(page, results, parameters)  # footer on the page, provenance in results.json
        try:
            shown_source: str | None = params.effective_source(parameters, template.declared)
        except SettlementResearchError:  # a template that reads no data, and none is built
            shown_source = None
        banner.stamp_page(page, results, shown_source,
                          parameters.get("lang", template.declared.get("lang", "en")))  # says what data it shows
        data = json.loads(results.read_text("utf-8")) if results.is_file() else None
        if not self.audit:  # decided by the clean process (sdc.gate.settle)
            return nb, error, [], data
        ids = sdc_audit.identifier_values()
        findings = sdc_audit.audit_report(page, results, ipynb, t=self.threshold, ids=ids, error=error, scope=scope)
        lineage_file = page_lineage.lineage_file_for(page)
        findings += page_lineage.audit_lineage(lineage_file, ids=ids, t=self.threshold)
        if findings:
            for path in (ipynb, page, results, lineage_file):  # withheld: the notebook and results carry the same
                path.unlink(missing_ok=True)
            kinds = sorted({f.kind for f in findings})
            error = f"disclosure check failed ({', '.join(kinds)}): outputs withheld" + (f"; {error}" if error else "")
            data = None
        return nb, error, findings, data


def _title(name: str, parameters: Mapping[str, str]) -> str:
    """The page title as text (the HTML template escapes it)."""
    args = ", ".join(f"{k}={v}" for k, v in parameters.items())
    return f"{name} ({args})" if args else name


def parse_parameters(pairs: list[str] | None) -> dict[str, str]:
    """``["kommune_nr=0301", ...]`` -> ``{"kommune_nr": "0301"}``; values are never parsed."""
    out: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise argparse.ArgumentTypeError(f"parameter {pair!r} is not key=value")
        if key.strip() in out:
            raise argparse.ArgumentTypeError(f"parameter {key.strip()!r} given twice")
        out[key.strip()] = value
    return out


def run_notebook(name: str | Path, parameters: Mapping[str, str] | None = None, out: Path | None = None,
                 *, engine: str = "inprocess") -> Outcome:
    """Render one notebook. Raises ``ParameterError`` (nothing rendered, no folder created) when
    a parameter is not declared by the notebook or its value is outside its domain.

    The template runs in a worker process; this process, which runs no template code, decides
    what is published (``render_isolated``)."""
    template = load_template(name)
    checked = template.check(dict(parameters or {}))
    out_dir = out or project_root() / "reports" / template.name
    return render_isolated(template, checked, out_dir, engine=engine)


def render_isolated(template: Template, parameters: dict[str, str], out_dir: Path, *, engine: str = "inprocess",
                    stem: str | None = None, timeout: float | None = None) -> Outcome:
    """One report rendered in a worker process (``reports.pool``) and judged here by the clean
    gate (``sdc.gate.settle``): a template that patches the gate, the threshold or the identifier
    set in its own process changes nothing in this one."""
    from settlement_research.reports.pool import Job, WorkerPool, WorkerSettings

    stem = stem or template.name
    out_dir.mkdir(parents=True, exist_ok=True)
    knowledge = sdc_gate.Knowledge([parameters], template.declared, sdc_threshold_default())  # before it runs
    before = sdc_gate.snapshot(out_dir)
    done: list[dict[str, Any]] = []
    WorkerPool(1, WorkerSettings(engine=engine, sdc_threshold=sdc_threshold_default()), timeout=timeout).run(
        [Job(0, str(template.path), parameters, str(out_dir), stem)], lambda _job, outcome: done.append(outcome))
    outcome = done[0]
    outcome.pop("reads", None)
    outcome.setdefault("parameters", parameters)
    stray = sdc_gate.strays(out_dir, before, {stem})
    if stray:  # written beside the artefacts by template code: never read by the gate, so never published
        for path in stray:
            path.unlink(missing_ok=True)
        sdc_gate.withhold(out_dir, stem)
        outcome.update(status="failed", error="disclosure check failed (stray_file): a file written beside the "
                       "report's own; outputs withheld")
    outcome = sdc_gate.settle(out_dir, stem, outcome, knowledge)
    known = {f.name for f in fields(Outcome)} - {"trace"}
    return Outcome(**{k: v for k, v in outcome.items() if k in known})


def cli_add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="notebook name in notebooks/ (without .py) or a path to a .py file")
    parser.add_argument("-p", "--parameter", action="append", metavar="KEY=VALUE", default=[],
                        help="a parameter, always passed as a string (repeatable)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default reports/NAME/)")
    parser.add_argument("--engine", choices=ENGINES, default="inprocess",
                        help="inprocess: this Python (fast, default); kernel: a Jupyter kernel")


def cli_run(args: argparse.Namespace) -> int:
    try:
        parameters = parse_parameters(args.parameter)
        outcome = run_notebook(args.name, parameters, args.out, engine=args.engine)
    except (FileNotFoundError, ValueError, TypeError, argparse.ArgumentTypeError) as exc:
        if isinstance(exc, SettlementResearchError):
            raise  # the CLI boundary prints it like every other command's errors
        raise InputError(str(exc)) from exc
    template_out = args.out or project_root() / "reports" / Path(args.name).stem
    print(json.dumps({k: v for k, v in outcome.to_dict().items() if k != "results"}, indent=2))
    if outcome.html:
        print(f"wrote {template_out / outcome.html}")
    return 0 if outcome.status == "ok" else 1
