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
