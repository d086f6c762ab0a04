"""Where chapters put what they compute, written so that a killed run never leaves a bad file.

Every chapter saves a small ``summary.json`` (the numbers the book's scorecard reads) under
``<results root>/<profile>/<chapter>/``. The root is ``$CONSERVAE_RESULTS`` when set, else
``results/`` in the working directory. Files are written atomically and read back or refused by
name (:mod:`conservae_lib.foundations.files`).

A summary records what produced it (``provenance``: chapter, profile, parameters, data, the
pipeline's inputs digest, the git commit). A run whose parameters are not the profile's table
never writes into the published ``<root>/<profile>/``: it goes to
``<root>/custom/<profile>-<digest of the parameters>/<chapter>/`` (:func:`summary_dir`).
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Mapping

__all__ = ["results_root", "results_dir", "save_summary", "load_summary", "summary_dir",
           "overrides", "parameters_digest", "provenance"]

from conservae_lib.foundations.files import REPO_ROOT, CorruptResultError, clean_json, load_json, save_json
from conservae_lib.foundations.parameters import declaration


def results_root() -> Path:
    """``$CONSERVAE_RESULTS`` or ``./results``."""
    return Path(os.environ.get("CONSERVAE_RESULTS", "results")).resolve()


def results_dir(chapter: str, profile: str) -> Path:
    """The folder of one chapter's results under one profile (created)."""
    path = results_root() / profile / chapter
    path.mkdir(parents=True, exist_ok=True)
    return path


def _git_commit() -> str | None:
    """``git rev-parse HEAD`` of the code's checkout, or None (no git, not a checkout)."""
    import subprocess

    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent,
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and len(commit) == 40 else None


def parameters_digest(parameters: Mapping[str, Any]) -> str:
    """Eight hex digits naming a set of parameters (sorted JSON, SHA-256)."""
    text = json.dumps(clean_json(dict(parameters)), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _chapter_parameters(cfg: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in cfg.items() if k not in ("profile", "chapter")}


def overrides(chapter: str, profile: str, parameters: Mapping[str, Any] | None) -> list[str]:
    """The names of the parameters that differ from the declared values of ``chapter`` under ``profile``
    (empty for a run with the published profile's parameters, or when either is unknown)."""
    if parameters is None:
        return []
    try:
        table = declaration(chapter).table(profile)
    except ValueError:
        return []
    clean = clean_json(dict(parameters))
    names = sorted(set(table) | set(clean))
    return [n for n in names if clean_json(table.get(n)) != clean.get(n)]


#: The profiles whose results the repository publishes (under ``results/<profile>/``).
PUBLISHED_PROFILES = ("paper", "full")


def summary_dir(chapter: str, profile: str, parameters: Mapping[str, Any] | None = None) -> Path:
    """Where a chapter's summary goes: ``<root>/<profile>/<chapter>/`` for the profile's own
    parameters, else ``<root>/custom/<profile>-<digest>/<chapter>/``, so that a run with overrides never
    replaces the published numbers (``<root>`` is :func:`results_root`). The repository's own published
    folders (``results/paper``, ``results/full``) are written by the pipeline's published run alone (its
    kernel has ``CONSERVAE_PUBLISH``): any other run of a chapter there — by hand, by papermill — writes to
    ``<root>/unpublished/<profile>/<chapter>/``."""
    if overrides(chapter, profile, parameters):
        return results_root() / "custom" / f"{profile}-{parameters_digest(parameters or {})}" / chapter
    if profile in PUBLISHED_PROFILES and not os.environ.get("CONSERVAE_PUBLISH") and _is_repository_results(results_root()):
        return results_root() / "unpublished" / profile / chapter
    return results_root() / profile / chapter


def _is_repository_results(root: Path) -> bool:
    return root.resolve() == (REPO_ROOT / "results").resolve()


def provenance(chapter: str, profile: str, parameters: Mapping[str, Any] | None,
               data: str | None = None) -> dict[str, Any]:
    """What produced a summary: chapter, profile, parameters, data, the pipeline's inputs digest
    (``$CONSERVAE_INPUTS_DIGEST``, None when absent), the git commit (None when unavailable) and
    the names of the parameters that differ from the profile's (empty for a published run)."""
    return {
        "chapter": chapter, "profile": profile,
        "parameters": None if parameters is None else clean_json(dict(parameters)),
        "overrides": overrides(chapter, profile, parameters),
        "data": data,
        "inputs_digest": os.environ.get("CONSERVAE_INPUTS_DIGEST") or None,
        "commit": _git_commit(),
    }


def _data_of(summary: Mapping[str, Any]) -> str | None:
    """A data description found in a summary: its ``data`` entry or its claims' ``data``."""
    data = summary.get("data")
    if isinstance(data, str):
        return data
    if isinstance(data, Mapping) and data:
        return "; ".join(str(v) for v in data.values())
    found = []
    for c in summary.get("claims", []) or []:
        if isinstance(c, Mapping) and c.get("data") and c["data"] not in found:
            found.append(str(c["data"]))
    return "; ".join(found) or None


def save_summary(cfg: Mapping[str, Any], summary: Mapping[str, Any], data: str | None = None) -> Path:
    """Save the numbers a chapter reports (read by the scorecard) as ``summary.json``.

    ``cfg`` is the chapter's :class:`conservae_lib.foundations.parameters.Config` (it carries ``chapter``,
    ``profile`` and the parameters the run used — the only record of them, never rebuilt from what was typed
    into a notebook); the summary gets a ``provenance`` entry (see :func:`provenance`; ``data`` describes the
    data set, by default taken from the summary or its claims). Where it goes: :func:`summary_dir` — a run
    whose parameters differ from the profile's table is written under ``<root>/custom/<profile>-<digest>/``,
    one that is not the pipeline's published run under ``<root>/unpublished/``, and one printed line says so.
    """
    if not isinstance(cfg, Mapping) or "chapter" not in cfg or "profile" not in cfg:
        raise ValueError("save_summary needs the chapter's cfg from PARAMETERS.resolve (it names the chapter and the "
                         "profile).")
    chapter, profile, parameters = cfg["chapter"], cfg["profile"], _chapter_parameters(cfg)
    if not isinstance(summary, Mapping):
        raise TypeError(f"a chapter summary must be a dict; got {type(summary).__name__}.")
    out = dict(summary)
    out["provenance"] = provenance(chapter, profile, parameters, data if data is not None else _data_of(summary))
    folder = summary_dir(chapter, profile, parameters)
    path = save_json(folder / "summary.json", out)
    try:
        shown = os.path.relpath(path)
    except ValueError:
        shown = str(path)
    if out["provenance"]["overrides"]:
        print(f"parameters differ from profile '{profile}' ({', '.join(out['provenance']['overrides'])}): "
              f"summary written to {shown}, not to the published results/{profile}/.")
    elif folder.parent.parent.name == "unpublished":
        print(f"not the pipeline's published run: summary written to {shown}, not to the published results/{profile}/ "
              f"(python -m conservae_lib run --profile {profile} writes those).")
    return path


def load_summary(chapter: str, profile: str) -> dict[str, Any] | None:
    """A chapter's saved summary, or None if the chapter has not run under that profile."""
    path = results_root() / profile / chapter / "summary.json"
    if not path.exists():
        return None
    summary = load_json(path)
    if not isinstance(summary, dict):
        raise CorruptResultError(f"results file {path} is not a chapter summary (a JSON object); delete it and re-run the chapter.")
    return summary


def full_profile_summary(chapter: str, profile: str) -> dict[str, Any] | None:
    """The ``full`` profile's saved summary of ``chapter`` (full MNIST), to show beside a run under
    ``profile``: None when the run is itself under ``full`` (its own tables are full MNIST's) or when
    the full profile has not run."""
    return None if profile == "full" else load_summary(chapter, "full")
