"""Chapter 92's runs under each setting, their comparisons, and the table and sentences made of them."""
from __future__ import annotations

import torch

from conservae_lib.chapters.reproducibility import reproducibility
from conservae_lib.chapters.reproducibility import report as R
from conservae_lib.chapters.reproducibility.reproducibility import Outcome


def _outcome(loss: float, sym: float, w: float) -> Outcome:
    return Outcome(loss, sym, {"W": torch.full((2, 2), w, dtype=torch.float64)})


RUNS = {"reference": _outcome(1.0, 0.5, 1.0), "repeat": _outcome(1.0, 0.5, 1.0),
        "repeat again": _outcome(1.0, 0.5, 1.0), "float64": _outcome(1.001, 0.5001, 1.01),
        "one ulp": _outcome(1.00001, 0.5, 1.0)}


def test_train_variants_changes_one_setting_at_a_time_and_compares_them():
    g = torch.Generator().manual_seed(0)
    x, x_eval = torch.rand(30, 5, generator=g), torch.rand(8, 5, generator=g)
    runs = reproducibility.train_variants(x, x_eval, threads=[1, 1], H=4, epochs=2, batch_size=10, lr=1e-2, seed=0)
    assert list(runs) == ["reference", "repeat", "repeat again", "float64", "one ulp"]  # no GPU row on a CPU
    c = reproducibility.compare_variants(runs)
    assert list(c) == ["repeat", "threads", "precision", "ulp"]
    assert c["repeat"]["identical"] and c["threads"]["identical"]  # the same thread count repeats
    assert not c["precision"]["identical"] and not c["ulp"]["identical"]


def test_compare_variants_follows_the_chapter_order_and_skips_missing_runs():
    gpu = dict(RUNS, GPU=_outcome(1.0, 0.5, 1.0 + 1e-9))
    assert list(reproducibility.compare_variants(gpu)) == list(reproducibility.COMPARISONS)
    assert "gpu" not in reproducibility.compare_variants(RUNS)


def test_settings_table_and_reference_line():
    table = R.settings_table({"seed": 0, "deterministic": True})
    assert table.to_dict() == {"value": {"seed": "0", "deterministic": "True"}}
    assert R.reference_line(_outcome(0.123456789, 0.98765432, 1.0), 5000, 500, 10, 1) == (
        "reference run (5000 images, H = 500, 10 epochs, 1 thread(s)): final loss 0.1234568, "
        "mean symmetricity 0.9876543")


def test_comparison_table_labels_each_row():
    c = reproducibility.compare_variants(dict(RUNS, GPU=RUNS["reference"]))
    table = R.comparison_table(c, [1, 2], gpu="NVIDIA X")
    assert list(table.index) == ["same settings, run twice (2 thread(s))", "1 vs 2 CPU threads (float32)",
                                 "float32 vs float64", "initial weights moved by one ulp", "GPU (NVIDIA X) vs CPU"]
    assert table.loc["float32 vs float64", "bit-identical"] == "no"
    assert table.loc["GPU (NVIDIA X) vs CPU", "loss digits shared"] == "all"


def test_findings_say_what_was_measured():
    c = reproducibility.compare_variants(RUNS)
    text = R.findings(c, {"sum": False, "matmul": True}, [1, 2], 1 << 20, 384).split("\n")
    assert text[0] == "Re-running with the same settings repeated every bit."
    assert text[1] == ("With 1 and 2 threads, a float32 sum of 1,048,576 numbers gave different bits, a 384 × 384 "
                       "float32 matrix product gave the same bits, and the training run was bit-identical.")
    assert text[2].startswith("A one-ulp change of the initial weights changed the final loss by a relative 1.0e-05 (5 ")
    assert text[3].startswith("No GPU was present")
    with_gpu = reproducibility.compare_variants(dict(RUNS, GPU=RUNS["reference"]))
    assert len(R.findings(with_gpu, {"sum": True, "matmul": True}, [1, 2], 10, 4).split("\n")) == 3
