"""What a rendered report depends on: the template, the data and the code, each as a short hash.

The batch cache and manifest.json use these so a reader can tell which commit and which data a
report was made from, and so a report is rendered again exactly when one of them changes.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Mapping
from pathlib import Path

from settlement_research import readlog
from settlement_research.io import sha256_file
from settlement_research.paths import data_clean_dir


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def data_manifest_hash(clean_dir: Path | None = None) -> str | None:
    """sha256 of data_clean/MANIFEST.json (None when there is no manifest: nothing was built)."""
    manifest = (clean_dir or data_clean_dir()) / "MANIFEST.json"
    return sha256_file(manifest) if manifest.is_file() else None


def git_commit(root: Path | None = None) -> str | None:
    """The commit of the code that rendered (with '-dirty' when the work tree has changes).

    Looked up from this package's folder, not the working directory, since it is the code's
    version that matters; None when the package is not in a git checkout.
    """
    root = root or Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True,
            text=True, timeout=10, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{commit}-dirty" if dirty else commit


def cache_key(template_hash: str, parameters: Mapping[str, str], data_hash: str | None, **settings: object) -> str:
    """One key for (template, parameters, data, disclosure settings): equal key, equal report."""
    payload = json.dumps(
        {"template": template_hash, "parameters": dict(sorted(parameters.items())), "data": data_hash,
         "settings": dict(sorted(settings.items()))},
        sort_keys=True, default=str,
    )
    return sha256_text(payload)


# ------------------------------------------------------------------------------------------------
# Provenance of an output: what made this page or results.json (DESIGN: every output records
# commit, data manifest hash, seed and versions). save_results stamps it into every results.json
# and the runner puts the same block in a footer of every HTML page.
# ------------------------------------------------------------------------------------------------

PROVENANCE_KEY = "provenance"
LIBRARIES = ("polars", "pandera", "statsmodels", "pyfixest", "numpy", "pandas")
_GIT_CACHE: dict[str, dict[str, object]] = {}


def git_state(root: Path | None = None) -> dict[str, object]:
    """{'commit': sha or None, 'dirty': bool or None} of the package's checkout (once per process)."""
    key = str(root)
    if key not in _GIT_CACHE:
        full = git_commit(root)
        _GIT_CACHE[key] = {"commit": full.removesuffix("-dirty") if full else None,
                           "dirty": full.endswith("-dirty") if full else None}
    return dict(_GIT_CACHE[key])


def library_versions() -> dict[str, str | None]:
    """Python and the versions of the libraries an estimate depends on."""
    import platform
    from importlib import metadata

    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


@readlog.derived  # a page depends on the seed it states, not on the whole ground_truth.json
def data_seed(source: str | None) -> int | None:
    """The generator seed of a synthetic source (from its ground_truth.json); None for real data."""
    if not source:
        return None
    try:
        from settlement_research import catalog

        if "ground_truth" not in catalog.json_sidecars(source):
            return None
        seed = catalog.load_json("ground_truth", source).get("seed")
    except Exception:  # no such source, no data built: provenance says unknown rather than failing
        return None
    return int(seed) if isinstance(seed, int) else None


def provenance(*, source: str | None = None, parameters: Mapping[str, object] | None = None,
               seed: int | None = None) -> dict[str, object]:
    """The provenance block: commit + dirty flag, data manifest hash, seed, parameters, versions."""
    git = git_state()
    return {
        "git_commit": git["commit"],
        "git_dirty": git["dirty"],
        "data_manifest_sha256": data_manifest_hash(),
        "source": source,
        "seed": seed if seed is not None else data_seed(source),
        "parameters": dict(parameters) if parameters is not None else None,
        "versions": library_versions(),
    }


FOOTER_WORDS = {
    "en": {"provenance": "Provenance", "commit": "commit", "dirty": "uncommitted changes", "unknown": "unknown",
           "manifest": "data manifest", "none": "none", "seed": "seed", "na": "n/a", "parameters": "parameters"},
    "nb": {"provenance": "Opphav", "commit": "commit", "dirty": "endringer som ikke er lagret i git",
           "unknown": "ukjent", "manifest": "datamanifest", "none": "ingen", "seed": "frø", "na": "i.a.",
           "parameters": "parametere"},
}


def footer_html(block: Mapping[str, object], lang: str = "en") -> str:
    """A small escaped footer line for a rendered page, in the page's language."""
    import html

    w = FOOTER_WORDS.get(lang, FOOTER_WORDS["en"])
    versions = block.get("versions") or {}
    parts = [
        f"{w['commit']} {block.get('git_commit') or w['unknown']}" + (f" ({w['dirty']})" if block.get("git_dirty") else ""),
        f"{w['manifest']} sha256 {str(block.get('data_manifest_sha256') or w['none'])[:16]}",
        f"{w['seed']} {block.get('seed') if block.get('seed') is not None else w['na']}",
        f"{w['parameters']} " + (", ".join(f"{k}={v}" for k, v in sorted((block.get("parameters") or {}).items()))
                                 or w["none"]),
        ", ".join(f"{k} {v}" for k, v in versions.items() if k in ("python", *LIBRARIES[:4])),  # type: ignore[union-attr]
    ]
    text = " · ".join(html.escape(str(p)) for p in parts)
    return (f'<footer class="provenance" style="font-size:0.8em;color:#555;margin:2em 1em">'
            f"{w['provenance']}: {text}</footer>")


def stamp(page: Path, results: Path, parameters: Mapping[str, str]) -> None:
    """Put the provenance (with the run's parameters) into results.json and a footer into the page.

    The runner calls this once per rendered report; results.json keeps the notebook's block if it
    wrote one (save_results does) and gets the parameters added.
    """
    from settlement_research.io import write_json_atomic, write_text_atomic

    block: dict[str, object] | None = None
    if results.is_file():
        data = json.loads(results.read_text("utf-8"))
        block = dict(data.get(PROVENANCE_KEY) or provenance(source=data.get("source")))
        block["parameters"] = dict(parameters)
        data[PROVENANCE_KEY] = block
        write_json_atomic(data, results)
    if page.is_file():
        block = block or provenance(source=parameters.get("source"), parameters=parameters)
        text = page.read_text("utf-8")
        footer = footer_html(block, str(parameters.get("lang", "en")))
        text = text.replace("</body>", footer + "\n</body>", 1) if "</body>" in text else text + footer
        write_text_atomic(text, page)
