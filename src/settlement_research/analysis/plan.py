"""The pre-specified analysis plan (plan.toml): hypotheses, families and multiplicity control.

Why: a notebook that reports thirty p-values finds something by chance. The plan fixes before the
data are seen what each confirmatory hypothesis is (estimand, exposure window, outcome, model,
confounders, direction); notebooks look their hypotheses up here, adjust the p-values of each
confirmatory family together (Holm, with Benjamini-Hochberg beside it) and label the rest
exploratory. ``docs/hypotheses.md`` is generated from the same file (``settlement-research
hypotheses``), so the page and the analysis cannot disagree.
"""

from __future__ import annotations

import argparse
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PLAN_FILE = Path(__file__).with_name("plan.toml")
STATUSES = ("confirmatory", "exploratory")
DIRECTIONS = ("negative", "positive", "two-sided")
IDENTIFICATION = ("association", "effect")
REQUIRED = ("id", "claim", "notebook", "family", "status", "unit", "outcome", "exposure", "exposure_window",
            "estimand", "model", "confounders", "direction", "identification", "results_key")
CLI_HELP = "write docs/hypotheses.md from the pre-specified analysis plan (analysis/plan.toml)"


@dataclass(frozen=True)
class Hypothesis:
    """One pre-specified hypothesis, as plan.toml states it."""

    id: str
    claim: str
    notebook: str
    family: str
    status: str
    unit: str
    outcome: str
    exposure: str
    exposure_window: str
    estimand: str
    model: str
    confounders: tuple[str, ...]
    direction: str
    identification: str
    results_key: str

    @property
    def confirmatory(self) -> bool:
        return self.status == "confirmatory"


@dataclass(frozen=True)
class Plan:
    version: str
    adjustment: str
    alpha: float
    families: dict[str, dict[str, str]]
    hypotheses: tuple[Hypothesis, ...]

    def for_notebook(self, notebook: str) -> list[Hypothesis]:
        return [h for h in self.hypotheses if h.notebook == notebook]

    def get(self, hypothesis_id: str) -> Hypothesis:
        for h in self.hypotheses:
            if h.id == hypothesis_id:
                return h
        raise KeyError(f"hypothesis {hypothesis_id!r} is not in the plan ({', '.join(h.id for h in self.hypotheses)})")


def load_plan(path: Path | None = None) -> Plan:
    """Read and check the plan: every field present, known statuses/directions, families declared."""
    raw = tomllib.loads((path or PLAN_FILE).read_text("utf-8"))
    families = raw.get("families", {})
    seen: set[str] = set()
    hyps = []
    for i, h in enumerate(raw.get("hypotheses", [])):
        missing = [k for k in REQUIRED if k not in h]
        if missing:
            raise ValueError(f"plan hypothesis #{i + 1} ({h.get('id', '?')}) lacks {missing}")
        problems = []
        if h["status"] not in STATUSES:
            problems.append(f"status {h['status']!r}")
        if h["direction"] not in DIRECTIONS:
            problems.append(f"direction {h['direction']!r}")
        if h["identification"] not in IDENTIFICATION:
            problems.append(f"identification {h['identification']!r}")
        if h["family"] not in families:
            problems.append(f"family {h['family']!r} is not declared")
        if h["id"] in seen:
            problems.append(f"duplicate id {h['id']!r}")
        if problems:
            raise ValueError(f"plan hypothesis {h['id']}: {'; '.join(problems)}")
        seen.add(h["id"])
        hyps.append(Hypothesis(**{k: (tuple(h[k]) if k == "confounders" else str(h[k])) for k in REQUIRED}))
    meta = raw.get("plan", {})
    return Plan(str(meta.get("version", "1")), str(meta.get("adjustment", "holm")), float(meta.get("alpha", 0.05)),
                families, tuple(hyps))


def holm(pvalues: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error), in the input order."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    out = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        out[i] = running
    return out


def benjamini_hochberg(pvalues: list[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (false discovery rate), in the input order."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i], reverse=True)
    out = [0.0] * m
    running = 1.0
    for k, i in enumerate(order):
        rank = m - k
        running = min(running, pvalues[i] * m / rank)
        out[i] = min(1.0, running)
    return out


def one_sided(estimate: float, p_two_sided: float, direction: str) -> float:
    """The p-value of the pre-specified direction from a two-sided one (symmetric test)."""
    if direction == "two-sided":
        return p_two_sided
    agrees = estimate < 0 if direction == "negative" else estimate > 0
    return p_two_sided / 2 if agrees else 1 - p_two_sided / 2


def adjust_family(notebook: str, estimates: dict[str, dict[str, Any] | None], plan: Plan | None = None) -> dict[str, Any]:
    """Adjusted p-values for a notebook's hypotheses: ``estimates`` maps hypothesis id -> {estimate, p_value}.

    Confirmatory hypotheses of one family are adjusted together (one-sided in the planned
    direction, Holm and BH); a confirmatory hypothesis without an estimate counts as p = 1, so a
    missing result cannot make the others look stronger. Exploratory ones keep their raw p-value.
    """
    plan = plan or load_plan()
    rows: dict[str, Any] = {}
    for family in sorted({h.family for h in plan.for_notebook(notebook)}):
        members = [h for h in plan.for_notebook(notebook) if h.family == family]
        conf = [h for h in members if h.confirmatory]
        raw = []
        for h in conf:
            e = estimates.get(h.id)
            ok = e is not None and e.get("p_value") is not None and e.get("estimate") is not None
            raw.append(one_sided(float(e["estimate"]), float(e["p_value"]), h.direction) if ok else 1.0)  # type: ignore[index]
        for h, p, ph, pb in zip(conf, raw, holm(raw), benjamini_hochberg(raw), strict=True):
            rows[h.id] = {"status": "confirmatory", "family": family, "direction": h.direction,
                          "p_one_sided": p, "p_holm": ph, "p_bh": pb, "reject_holm": ph < plan.alpha,
                          "estimated": estimates.get(h.id) is not None,
                          "identification": h.identification}
        for h in members:
            if not h.confirmatory:
                e = estimates.get(h.id)
                rows[h.id] = {"status": "exploratory", "family": family, "direction": h.direction,
                              "p_value": None if e is None else e.get("p_value"),
                              "note": "exploratory: not adjusted, not evidence for the hypothesis on its own",
                              "identification": h.identification}
    return {"plan_version": plan.version, "adjustment": plan.adjustment, "alpha": plan.alpha, "hypotheses": rows}


def format_p(p: float | None) -> str | None:
    """A p-value as text, the way papers print it: '<0.001', '>0.999' or three decimals.

    Text, not a number: a p-value of 1 printed as '1.000' would read like a count of one to the
    disclosure gate (and to a reader), which denies small counts it cannot trace.
    """
    if p is None:
        return None
    if p < 0.001:
        return "<0.001"
    if p > 0.999:
        return ">0.999"
    return f"{p:.3f}"


def family_table(adjusted: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows for a notebook table: id, status, one-sided p, Holm, BH (exploratory rows say so, and
    a confirmatory hypothesis the data could not estimate says "not estimated")."""
    out = []
    for hid, r in adjusted["hypotheses"].items():
        if r["status"] == "confirmatory" and not r.get("estimated", True):
            # counted as p = 1 in the others' adjustment, but shown as what it is: no estimate
            # (a real source without housing data printed '>0.999' for a model never fitted)
            out.append({"hypothesis": hid, "status": "confirmatory", "direction": r["direction"],
                        "p (one-sided)": "not estimated", "p Holm": "not estimated", "p BH": "not estimated"})
        elif r["status"] == "confirmatory":
            out.append({"hypothesis": hid, "status": "confirmatory", "direction": r["direction"],
                        "p (one-sided)": format_p(r["p_one_sided"]), "p Holm": format_p(r["p_holm"]),
                        "p BH": format_p(r["p_bh"])})
        else:
            out.append({"hypothesis": hid, "status": "exploratory", "direction": r["direction"],
                        "p (one-sided)": None, "p Holm": None, "p BH": None})
    return out


def render_markdown(plan: Plan | None = None) -> str:
    """docs/hypotheses.md: the plan as a page (generated; edit plan.toml, not the page)."""
    plan = plan or load_plan()
    lines = [
        "# Pre-specified hypotheses",
        "",
        "<!-- generated from src/settlement_research/analysis/plan.toml by `settlement-research hypotheses`; "
        "do not edit -->",
        "",
        f"Plan version {plan.version}. Confirmatory hypotheses are tested one-sided in the stated direction; "
        f"within each family their p-values are adjusted together ({plan.adjustment.title()}, family-wise "
        f"alpha {plan.alpha:g}; Benjamini-Hochberg reported beside it). Exploratory results are labelled as "
        "such and not adjusted. Every estimate is an association unless the identification says effect.",
        "",
    ]
    for fam, meta in plan.families.items():
        members = [h for h in plan.hypotheses if h.family == fam]
        lines += [f"## {meta.get('title', fam)}", "", f"Notebook: `notebooks/{meta.get('notebook', '')}.py`", "",
                  "| id | status | direction | outcome | exposure |", "|---|---|---|---|---|"]
        lines += [f"| {h.id} | {h.status} | {h.direction} | {h.outcome} | {h.exposure} |" for h in members]
        lines.append("")
        for h in members:
            lines += [
                f"### {h.id} ({h.status})", "", h.claim, "",
                f"- **Unit:** {h.unit}", f"- **Outcome:** {h.outcome}", f"- **Exposure:** {h.exposure}",
                f"- **Exposure window:** {h.exposure_window}", f"- **Estimand:** {h.estimand}",
                f"- **Model:** {h.model}", f"- **Confounders:** {', '.join(h.confounders)}",
                f"- **Direction:** {h.direction}", f"- **Identification:** {h.identification}",
                f"- **Reported in:** `{h.notebook}.results.json` → `{h.results_key}`", "",
            ]
    from settlement_research.analysis.indicators import DEFINITIONS

    lines += ["## Indicator definitions", "", "How the exposures and outcomes above are measured "
              "(`settlement_research.analysis.indicators`).", "", "| indicator | definition |", "|---|---|"]
    lines += [f"| {name} | {text} |" for name, text in DEFINITIONS.items()]
    return "\n".join(lines).rstrip() + "\n"


def hypotheses_page() -> Path:
    return Path(__file__).resolve().parents[3] / "docs" / "hypotheses.md"


def cli_add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=None, help="output file (default docs/hypotheses.md)")


def cli_run(args: argparse.Namespace) -> int:
    from settlement_research.io import write_text_atomic

    out = args.out or hypotheses_page()
    write_text_atomic(render_markdown(), out)
    print(f"wrote {out}")
    return 0
