"""The library imports in one direction: each module only from its own layer or the layers above it
(CONTRIBUTING.md, "Layout"), with no exception."""
from __future__ import annotations

from pathlib import Path

from conservae_lib.staleness import _module_imports as library_imports

LIB = Path(__file__).resolve().parents[2] / "conservae_lib"

LAYERS: list[set[str]] = [
    {"ledger", "ledger_rules", "ledger_claims", "parameters", "files"},
    {"activations", "models", "fields", "energy", "contraction", "conditions", "sufficient", "decoder_space", "densities"},
    {"data", "toy_data"},
    {"runtime", "progress", "optimizers", "collapse", "training", "batched"},
    {"local", "local_summary", "sufficient_survey", "empirical", "symmetry_metrics", "table1_jobs", "table1", "readings", "curl_training", "hodge", "hodge_experiments", "algorithm1", "alg1_runs",
     "corruption", "field_fit", "table2", "alg1_claims", "reproducibility", "benchmark", "training_speed", "propositions"},
    {"plotting", "report", "glue", "local_figures", "sufficient_report", "curl_figures", "alg1_report", "table1_report", "table1_figures", "hodge_figures",
     "performance_report", "reproducibility_report", "propositions_report"},
    {"results", "scorecard", "scorecard_data", "scorecard_sources", "profiles", "pipeline", "notebook_files", "staleness", "cli", "booktools", "book_runs", "__main__", "__init__"},
]

def layer_of(module: str) -> int:
    for i, layer in enumerate(LAYERS):
        if module in layer:
            return i
    raise AssertionError(f"conservae_lib/{module}.py is in no layer of tests/book/test_layers.py (and CONTRIBUTING.md)")


def test_every_module_belongs_to_one_layer():
    modules = {p.stem for p in LIB.glob("*.py")}
    listed = set().union(*LAYERS)
    assert modules - listed == set(), "add the module to a layer"
    assert listed - modules == set(), "a layer names a module that no longer exists"


def test_library_imports_only_from_its_own_layer_or_above():
    leaks = set()
    for path in sorted(LIB.glob("*.py")):
        for dep in library_imports(path):
            if (LIB / f"{dep}.py").exists() and layer_of(dep) > layer_of(path.stem):
                leaks.add((path.stem, dep))
    assert not leaks, f"imports against the layering (CONTRIBUTING.md, Layout): {sorted(leaks)}"


def test_the_layer_check_catches_an_upward_import(tmp_path):
    fake = tmp_path / "models.py"
    fake.write_text("from .pipeline import run\nfrom conservae_lib.results import save_json\n")
    deps = library_imports(fake)
    assert deps == {"pipeline", "results"}
    assert all(layer_of(d) > layer_of("models") for d in deps)
