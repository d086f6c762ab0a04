"""The library imports in one direction: each module only from its own layer or the layers above it
(CONTRIBUTING.md, "Layout"). The leaks that remain are listed here by name, so a new one fails."""
from __future__ import annotations

from pathlib import Path

from conservae_lib.pipeline import _module_imports as library_imports

LIB = Path(__file__).resolve().parent.parent / "conservae_lib"

LAYERS: list[set[str]] = [
    {"ledger"},
    {"activations", "models", "fields", "energy", "contraction", "conditions", "sufficient", "decoder_space", "densities"},
    {"data", "toy_data"},
    {"runtime", "training", "batched"},
    {"local", "sufficient_survey", "empirical", "table1_jobs", "table1", "readings", "curl_training", "hodge", "hodge_experiments", "algorithm1",
     "corruption", "field_fit", "table2", "alg1_claims", "reproducibility", "benchmark"},
    {"plotting", "report", "scorecard", "glue", "local_figures", "alg1_report", "table1_report", "table1_figures", "hodge_figures"},
    {"results", "profiles", "pipeline", "booktools", "__main__", "__init__"},
]

#: Imports against the layering that exist today; remove an entry when its leak is fixed.
KNOWN_LEAKS: set[tuple[str, str]] = {
    ('benchmark', 'report'),
    ('benchmark', 'results'),
    ('conditions', 'report'),
    ('sufficient_survey', 'report'),
    ('curl_training', 'plotting'),
    ('curl_training', 'report'),
    ('empirical', 'results'),
    ('table1_jobs', 'profiles'),
    ('table1_jobs', 'results'),
    ('hodge', 'plotting'),
    ('hodge', 'report'),
    ('scorecard', 'profiles'),
    ('scorecard', 'results'),
    ('training', 'results'),
}


def layer_of(module: str) -> int:
    for i, layer in enumerate(LAYERS):
        if module in layer:
            return i
    raise AssertionError(f"conservae_lib/{module}.py is in no layer of tests/test_layers.py (and CONTRIBUTING.md)")


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
    new = leaks - KNOWN_LEAKS
    assert not new, f"imports against the layering (CONTRIBUTING.md, Layout): {sorted(new)}"
    fixed = KNOWN_LEAKS - leaks
    assert not fixed, f"these leaks are gone: remove them from KNOWN_LEAKS: {sorted(fixed)}"


def test_the_layer_check_catches_an_upward_import(tmp_path):
    fake = tmp_path / "models.py"
    fake.write_text("from .pipeline import run\nfrom conservae_lib.results import save_json\n")
    deps = library_imports(fake)
    assert deps == {"pipeline", "results"}
    assert all(layer_of(d) > layer_of("models") for d in deps)
