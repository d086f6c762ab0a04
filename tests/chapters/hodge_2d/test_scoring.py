"""Claims of conservae_lib.chapters.hodge_2d.scoring (chapter 06_hodge_2d): a model's field on the grid,
its errors against the paper's F and its best gradient fit, and the refusal of collapsed models."""
import numpy as np
import pytest
import torch

from conservae_lib import AutoEncoder
from conservae_lib.core.hodge import grid_curl, helmholtz_hodge
from conservae_lib.data.vector_fields import FIELDS, sample_grid
from conservae_lib.chapters.hodge_2d import scoring
from conservae_lib.chapters.hodge_2d import figures as hodge_figures


def test_error_row_against_a_given_field_reports_its_size_not_fs_decomposition():
    g = sample_grid(FIELDS["spiral_sink"], 20)
    S = (g["rotational"][0], g["rotational"][1])  # the rotation part, whose stated conservative part is zero
    half = (0.5 * S[0], 0.5 * S[1])
    e = scoring.error_row(half, g, g["conservative"], given=S)
    assert np.isnan(e["err_stated"]) and np.isnan(e["err_l2fit"])
    assert e["size_vs_given"] == pytest.approx(0.5) and e["err_F"] == pytest.approx(0.5)
    plain = scoring.error_row(g["conservative"], g, g["conservative"])
    assert plain["err_stated"] == 0 and "size_vs_given" not in plain
    row = hodge_figures.format_error_row("m", plain)
    assert row["method"] == "m" and row["vs stated conservative part"] == "0"


def test_model_on_grid_equals_the_field_at_the_grid_points():
    g = sample_grid(FIELDS["spiral_sink"], 7)
    model = AutoEncoder(2, 6, "relu", tied=False, seed=2, dtype=torch.float64)
    U, V = scoring.model_on_grid(model, g)
    assert np.array_equal(np.stack([U.ravel(), V.ravel()], axis=1), scoring.field_values(model, g["points"]))


def test_model_curl_of_a_tied_model_vanishes_and_of_an_untied_one_not():
    g = sample_grid(FIELDS["spiral_sink"], 9)
    tied = AutoEncoder(2, 6, "relu", tied=True, seed=2, dtype=torch.float64)
    untied = AutoEncoder(2, 6, "tanh", tied=False, seed=2, dtype=torch.float64)
    assert scoring.model_curl_on_grid(tied, g).shape == (9, 9)
    assert np.abs(scoring.model_curl_on_grid(tied, g)).max() < 1e-12
    assert np.abs(scoring.model_curl_on_grid(untied, g)).max() > 1e-3


def test_score_model_marks_a_constant_network_and_a_diverged_run_and_scores_a_live_one():
    g = sample_grid(FIELDS["spiral_sink"], 10)
    best = helmholtz_hodge(*g["F"], g["x"], g["y"])[:2]
    silent = AutoEncoder(2, 8, "relu", seed=0, dtype=torch.float64)
    with torch.no_grad():
        silent.b.fill_(-100.0)
    assert "dead" in scoring.score_model(silent, g, best)["collapsed"]
    flat = AutoEncoder(2, 8, "linear", seed=0, dtype=torch.float64)
    with torch.no_grad():
        flat.R_param.zero_()
    assert "constant on the grid" in scoring.score_model(flat, g, best)["collapsed"]
    live = AutoEncoder(2, 8, "relu", seed=0, dtype=torch.float64)
    assert scoring.score_model(live, g, best)["collapsed"] is None
    assert scoring.score_model(live, g, best, losses=[1.0, float("inf")])["collapsed"].startswith("training diverged")
    assert scoring.score_model(live, g, best, degenerate="the loss never fell")["collapsed"] == "the loss never fell"


def test_least_squares_reference_differs_from_the_stated_part_by_a_harmonic_gradient():
    ref = scoring.least_squares_reference(40)
    assert 0.35 < ref.gap < 0.45
    hu, hv = ref.harmonic
    curl = grid_curl(hu, hv, ref.grid["x"], ref.grid["y"])
    div = np.gradient(hu, ref.grid["x"], axis=1) + np.gradient(hv, ref.grid["y"], axis=0)
    assert np.abs(curl).max() < 1e-9 and np.abs(div[2:-2, 2:-2]).max() < 0.05
    lines = hodge_figures.describe_reference(ref).splitlines()
    assert len(lines) == 3 and lines[0].startswith("best gradient fit vs stated conservative part: ")
    assert lines[1].rindex(" ") == lines[2].rindex(" ")  # the numbers line up
