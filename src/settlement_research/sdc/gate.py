"""The decisive disclosure gate, run where template code cannot reach it.

Why: a template runs in the renderer's process (an in-process worker, for speed). Code there can
replace ``sdc.audit.audit_report``, the threshold, the identifier set or read the render's signing
key, so a gate in that process decides nothing. The gate that decides runs in the process that
started the render — the ``report`` batch or ``run-notebook`` — which never executes template
code (templates run in worker processes, :mod:`settlement_research.reports.pool`). It reads every
artefact back from disk (page, results.json, executed notebook and their embedded downloads,
lineage.json, reads.json), loads the identifier values, the threshold and the public statistics
itself from the data and the environment, and trusts nothing the worker says:

- a signed mark only *restricts* there (:class:`.audit.Clean`): a small number marked public must be
  a value the public table publishes in its context (:mod:`.public`), and a label, value or header
  mark exempts nothing, so a forged signature gains nothing;
- the worker's trace (the render's key and what its chart hook found) is used only to find *more*:
  forged marks and chart findings;
- every image is read here: a chart is an SVG whose texts are ``<text>`` elements, judged like the
  page (:func:`.charts.check_svg`); an image whose text this process cannot read (a PNG or any
  raster, text drawn as glyph paths) is refused, so a forged trace hides nothing in an image. What
  no gate reads from an image is its geometry (a bar's height): see :mod:`.charts`.

The whole-set LP audit (:func:`.publication.audit_batch`) runs in the same clean process after
every batch.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from settlement_research.sdc import audit, provenance
from settlement_research.sdc import public as public_values
from settlement_research.sdc.rules import threshold

ARTEFACTS = (".ipynb", ".html", ".results.json", ".lineage.json", ".reads.json")


@dataclass
class Trace:
    """What the renderer's process says about one render. Untrusted: it can only add findings."""

    key: str | None = None  # the render's signing key (hex); None: marks are not verified
    chart_findings: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def of(cls, scope: provenance.Scope) -> Trace:
        return cls(scope.key.hex(), list(scope.chart_findings))

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None) -> Trace | None:
        if not isinstance(raw, Mapping):
            return None
        key = raw.get("key")
        try:
            bytes.fromhex(key) if isinstance(key, str) else None
        except ValueError:
            key = None
        return cls(key if isinstance(key, str) else None, [(str(k), str(m)) for k, m in raw.get("chart_findings") or []])

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "chart_findings": self.chart_findings}


def artefacts(out_dir: Path, stem: str) -> dict[str, Path]:
    """Every file a render of ``stem`` may have written in ``out_dir``, by suffix."""
    return {ext: out_dir / f"{stem}{ext}" for ext in ARTEFACTS}


def snapshot(out_dir: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``out_dir`` with its (mtime, size), taken before a render (see :func:`strays`)."""
    if not out_dir.is_dir():
        return {}
    return {str(p.relative_to(out_dir)): (p.stat().st_mtime_ns, p.stat().st_size)
            for p in out_dir.rglob("*") if p.is_file() and not p.is_symlink()}


def strays(out_dir: Path, before: Mapping[str, tuple[int, int]], stems: set[str],
           keep: tuple[str, ...] = ()) -> list[Path]:
    """Files under ``out_dir`` written or changed since ``before`` that are no artefact of any of
    ``stems`` (nor in ``keep``): template code writes where it likes, and the gate reads only the
    artefacts, so a file beside them (``leak.csv``) would be published unread."""
    known = {f"{stem}{ext}" for stem in stems for ext in ARTEFACTS} | set(keep)
    out = []
    for name, state in snapshot(out_dir).items():
        if name not in known and before.get(name) != state:
            out.append(out_dir / name)
    for path in out_dir.rglob("*") if out_dir.is_dir() else ():
        if path.is_symlink() and str(path.relative_to(out_dir)) not in before:
            out.append(path)  # a link a template planted (to a file of the register)
    return sorted(set(out))


def withhold(out_dir: Path, stem: str) -> None:
    """Delete every artefact of a report (its notebook and results carry what its page carries)."""
    for path in artefacts(out_dir, stem).values():
        path.unlink(missing_ok=True)


class Knowledge:
    """What the clean gate knows from the data, loaded *before* any template runs: the identifier
    values and the public statistics of each source (a template can write files; what it writes
    after this is not believed)."""

    def __init__(self, parameter_sets: list[Mapping[str, str]], declared: Mapping[str, str] | None,
                 t: int | None = None) -> None:
        from settlement_research.pages import lineage as _lineage  # noqa: F401 - imported before any template runs

        self.t = threshold() if t is None else t
        self.declared = dict(declared or {})
        self.ids = audit.identifier_values()
        self.public: dict[str | None, public_values.PublicValues] = {}
        for parameters in parameter_sets or [{}]:
            source = self._source(parameters)
            if source not in self.public:
                self.public[source] = public_values.for_report(dict(parameters), self.declared, self.t)

    def _source(self, parameters: Mapping[str, str]) -> str | None:
        """The source a report's numbers come from (None when its parameters name none that exists)."""
        from settlement_research.errors import SettlementResearchError
        from settlement_research.reports.parameters import effective_source

        try:
            return effective_source(dict(parameters), self.declared)
        except SettlementResearchError:
            return None

    def clean(self, parameters: Mapping[str, str]) -> audit.Clean:
        values = self.public.get(self._source(parameters)) or public_values.PublicValues(self.t)  # not preloaded: nothing is public
        if not self.ids:  # no person-level data at all (IMDi's published statistics only): nothing to pose as public
            values = public_values.PublicValues(self.t, no_register=True)
        kommune = parameters.get("kommune_nr") or self.declared.get("kommune_nr")
        return audit.Clean(values, kommune if isinstance(kommune, str) else None, self.windows([parameters]))

    def windows(self, parameter_sets: Sequence[Mapping[str, str]]) -> frozenset[tuple[int, int]]:
        """The spans of years the reports were asked for: per report, from the first to the last
        year its year parameters name (``first_year``/``last_year``; the template's defaults where a
        report passes none). A public number over several years must cover exactly one of these."""
        from settlement_research.reports.parameters import is_year_parameter
        from settlement_research.sdc.public import parse_window

        out = set()
        for parameters in parameter_sets:
            effective = {**self.declared, **parameters}
            years = sorted(w[0] for k, v in effective.items() if is_year_parameter(k)
                           and (w := parse_window(v)) is not None and w[0] == w[1])
            if len(years) >= 2 and years[0] != years[-1]:
                out.add((years[0], years[-1]))
        return frozenset(out)


def clean_context(parameters: Mapping[str, str], declared: Mapping[str, str] | None, t: int) -> audit.Clean:
    """The clean gate's knowledge of one report, loaded now (a cached report: no template is running)."""
    return Knowledge([parameters], declared, t).clean(parameters)


def audit_rendered(out_dir: Path, stem: str, parameters: Mapping[str, str], *,
                   declared: Mapping[str, str] | None = None, t: int | None = None,
                   ids: frozenset[str] | None = None, trace: Trace | None = None,
                   error: str | None = None, clean: audit.Clean | None = None) -> list[audit.Finding]:
    """Every finding in the artefacts of one rendered report, judged in this (clean) process.

    ``t`` and ``ids`` default to this process's threshold and the identifier values of the data;
    ``trace``: the worker's account of the render (may only add findings, see the module doc);
    ``clean``: the public values to judge by, loaded before the render (:class:`Knowledge`)."""
    from settlement_research.pages import lineage as page_lineage

    t = threshold() if t is None else t
    ids = audit.identifier_values() if ids is None else ids
    files = artefacts(out_dir, stem)
    scope = provenance.Scope(key=b"")
    verify = False
    if trace is not None:
        if trace.key:
            scope.key, verify = bytes.fromhex(trace.key), True
        scope.chart_findings = list(trace.chart_findings)
    findings = audit.audit_report(files[".html"], files[".results.json"], files[".ipynb"], t=t, ids=ids, error=error,
                                  scope=scope, clean=clean or clean_context(parameters, declared, t), verify_marks=verify)
    findings += page_lineage.audit_lineage(files[".lineage.json"], ids=ids, t=t)
    lineage = files[".lineage.json"]
    if lineage.is_file() and not any(f.kind == "identifier" for f in findings if f.where == lineage.name) \
            and audit.json_identifiers(lineage.read_text("utf-8"), ids):  # its strings decoded (\\u0031...)
        findings.append(audit.Finding("identifier", lineage.name, "identifier value(s) in the lineage file"))
    reads = files[".reads.json"]
    if reads.is_file() and audit.json_identifiers(reads.read_text("utf-8"), ids):
        findings.append(audit.Finding("identifier", "reads.json", "identifier value(s) in the read log"))
    return findings


def settle(out_dir: Path, stem: str, outcome: dict[str, Any], knowledge: Knowledge) -> dict[str, Any]:
    """One report's outcome as the worker sent it, decided here: the clean audit of its files; on
    any finding every artefact is deleted and the report failed. The error text is scrubbed, the
    file names and results are read from disk (never taken from the worker), and the trace is
    dropped (the render's key is never written anywhere). ``knowledge``: loaded before the render."""
    t, ids = knowledge.t, knowledge.ids
    trace = Trace.from_dict(outcome.pop("trace", None))
    parameters = {str(k): str(v) for k, v in (outcome.get("parameters") or {}).items()}
    error = outcome.get("error")
    error = error if isinstance(error, str) else None
    findings = audit_rendered(out_dir, stem, parameters, declared=knowledge.declared, t=t, ids=ids, trace=trace,
                              error=error, clean=knowledge.clean(parameters))
    if findings:
        withhold(out_dir, stem)
        kinds = sorted({f.kind for f in findings})
        error = f"disclosure check failed ({', '.join(kinds)}): outputs withheld" + (f"; {error}" if error else "")
    files = artefacts(out_dir, stem)
    ok = not error and outcome.get("status") == "ok"
    data = None
    if ok and files[".results.json"].is_file():
        try:
            data = json.loads(files[".results.json"].read_text("utf-8"))
        except ValueError:
            data = None
    outcome.update(
        status="ok" if ok else "failed", error=audit.scrub(error, ids, t, error=True),
        notebook=files[".ipynb"].name if files[".ipynb"].is_file() else None,
        html=files[".html"].name if files[".html"].is_file() else None,
        results_file=files[".results.json"].name if files[".results.json"].is_file() else None,
        results=data if isinstance(data, dict) else None,
        findings=[f.to_dict() for f in findings],
    )
    return outcome


def audit_index(html: str, knowledge: Knowledge, parameters: Mapping[str, str],
                windows: frozenset[tuple[int, int]] | None = None) -> list[audit.Finding]:
    """The batch's index.html judged like a page by the clean gate: identifiers anywhere, small
    counts by default deny, a public number only where the public table publishes it for the
    municipality of its row (the report's ``kommune_nr`` cell). ``parameters``: one report's
    parameters (which source the numbers come from); ``windows``: the spans of years of all the
    batch's reports (default: that report's)."""
    clean = knowledge.clean({k: v for k, v in parameters.items() if k == "source"})
    clean.kommune = None  # each row names its own
    clean.windows = knowledge.windows([parameters]) if windows is None else windows
    return audit.check_html(html, ids=knowledge.ids, t=knowledge.t, where="index.html", clean=clean, verify_marks=False)


__all__ = ["ARTEFACTS", "Knowledge", "Trace", "artefacts", "audit_index", "audit_rendered", "clean_context", "settle",
           "snapshot", "strays", "withhold"]
