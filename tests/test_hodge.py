"""Claims of conservae_lib.hodge (chapter 06_hodge_2d): grid Helmholtz–Hodge solver and AE extraction."""
import math

import numpy as np
import pytest
import torch

from conservae_lib import AutoEncoder, fields, hodge


def _grid(n=60):
    x = np.linspace(-1, 1, n)
    y = np.linspace(-1, 1, n)
    X, Y = np.meshgrid(x, y)
    return x, y, X, Y


def test_gradient_of_a_quadratic_is_returned_unchanged():
    x, y, X, Y = _grid(41)
    U, V = 2 * X + 0.5 * Y + 1, 0.5 * X - 3 * Y
    Uc, Vc, phi = hodge.helmholtz_hodge(U, V, x, y)
    assert hodge.relative_error((Uc, Vc), (U, V)) < 1e-9
    assert abs(phi.mean()) < 1e-12


def test_known_split_with_boundary_tangential_rotation_is_recovered_to_1e_3():
    # sine_cell: the rotational part's stream function vanishes on the box, so the stated split
    # is the least-squares one; second-order scheme: error < 1e-3 on a 100 × 100 grid.
    g = hodge.sample_grid(hodge.FIELDS["sine_cell"], 100)
    Uc, Vc, _ = hodge.helmholtz_hodge(*g["F"], g["x"], g["y"])
    assert hodge.relative_error((Uc, Vc), g["Fc"]) < 1e-3


def test_potential_matches_the_known_potential_up_to_a_constant():
    g = hodge.sample_grid(hodge.FIELDS["sine_cell"], 80)
    _, _, phi = hodge.helmholtz_hodge(*g["F"], g["x"], g["y"])
    ref = g["phi"] - g["phi"].mean()
    assert np.abs(phi - ref).max() < 2e-3 * np.abs(ref).max()


def test_remainder_is_orthogonal_to_gradients_so_the_fit_is_least_squares():
    g = hodge.sample_grid(hodge.FIELDS["spiral_sink"], 80)
    U, V = g["F"]
    Uc, Vc, _ = hodge.helmholtz_hodge(U, V, g["x"], g["y"])
    X, Y = np.meshgrid(g["x"], g["y"])
    for gq in [(2 * X, 0 * Y), (Y, X), (np.cos(2 * X) * Y, np.sin(2 * X) / 2), (0 * X, 3 * Y**2)]:
        inner = np.sum((U - Uc) * gq[0] + (V - Vc) * gq[1])
        scale = math.sqrt(np.sum((U - Uc) ** 2 + (V - Vc) ** 2) * np.sum(gq[0] ** 2 + gq[1] ** 2))
        assert abs(inner) < 2e-2 * scale


def test_on_the_square_the_rotation_has_a_large_harmonic_gradient_part():
    # The paper's split (−x, −y) + (y, −x) is not the L² projection on [−1, 1]²: the best
    # gradient fit is closer to F and differs from (−x, −y) by ≈ 40 %.
    g = hodge.sample_grid(hodge.FIELDS["spiral_sink"], 100)
    Uc, Vc, _ = hodge.helmholtz_hodge(*g["F"], g["x"], g["y"])
    assert hodge.relative_error((Uc, Vc), g["F"]) < hodge.relative_error(g["Fc"], g["F"]) - 0.05
    assert 0.35 < hodge.relative_error((Uc, Vc), g["Fc"]) < 0.45
    curl = fields.curl_2d_grid(Uc, Vc, g["x"], g["y"])
    assert np.abs(curl[2:-2, 2:-2]).max() < 1e-6


@pytest.mark.parametrize("bad, word", [
    (lambda x, y, U: (U[:, :-1], U, x, y), "shape"),
    (lambda x, y, U: (U, U, x**3, y), "equally spaced"),
    (lambda x, y, U: (U * np.nan, U, x, y), "finite"),
])
def test_helmholtz_hodge_refuses_bad_grids(bad, word):
    x, y, X, Y = _grid(10)
    with pytest.raises(ValueError, match=word):
        hodge.helmholtz_hodge(*bad(x, y, X))


def _small(name, n=14):
    return hodge.sample_grid(hodge.FIELDS[name], n)


def test_tied_extraction_is_exactly_conservative():
    g = _small("spiral_sink")
    m = hodge.extract_conservative(g["points"], g["vectors"], tied=True, hidden=30, epochs=3)
    pts = torch.as_tensor(g["points"])
    assert fields.curl_2d(m, pts).abs().max() < 1e-12


def test_tied_extraction_recovers_a_representable_gradient_field():
    # F = ∇(−x²/4 − y²/4 + x/5): Jacobian −I/2 ⪰ −I, reachable by a tied ReLU model.
    x, y, X, Y = _grid(15)
    pts = np.stack([X.ravel(), Y.ravel()], axis=1)
    vec = np.stack([-X.ravel() / 2 + 0.2, -Y.ravel() / 2], axis=1)
    m = hodge.extract_conservative(pts, vec, tied=True, hidden=40, epochs=8)
    assert hodge.relative_error(hodge.field_values(m, pts), vec) < 0.05


def test_untied_extraction_fits_the_whole_field_rotation_included():
    g = _small("spiral_sink")
    m = hodge.extract_conservative(g["points"], g["vectors"], tied=False, hidden=40, epochs=8)
    learned = hodge.field_values(m, g["points"])
    assert hodge.relative_error(learned, g["vectors"]) < 0.05
    Fc = np.stack([g["Fc"][0].ravel(), g["Fc"][1].ravel()], axis=1)
    assert hodge.relative_error(learned, Fc) > 0.9


def test_authors_protocol_does_not_depend_on_where_the_vectors_sit():
    g = _small("spiral_sink")
    perm = np.random.default_rng(0).permutation(len(g["points"]))
    kw = dict(tied=True, hidden=20, epochs=2, inputs="values")
    a = hodge.extract_conservative(g["points"], g["vectors"], **kw)
    b = hodge.extract_conservative(g["points"][perm], g["vectors"], **kw)
    assert np.allclose(hodge.field_values(a, g["points"]), hodge.field_values(b, g["points"]), atol=1e-10)


def test_extract_conservative_refuses_bad_input():
    with pytest.raises(ValueError, match="N × 2"):
        hodge.extract_conservative(np.zeros((4, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="inputs must be"):
        hodge.extract_conservative(np.zeros((4, 2)), np.zeros((4, 2)), inputs="grid")


def test_solver_output_has_zero_grid_curl_everywhere_boundary_included():
    g = hodge.sample_grid(hodge.FIELDS["bump_vortex"], 50)
    Uc, Vc, _ = hodge.helmholtz_hodge(*g["F"], g["x"], g["y"])
    assert np.abs(hodge.grid_curl(Uc, Vc, g["x"], g["y"])).max() < 1e-9
    assert np.abs(hodge.grid_curl(*g["F"], g["x"], g["y"])).max() > 1.0


def test_extract_conservative_restores_the_thread_count():
    before = torch.get_num_threads()
    g = _small("spiral_sink", 6)
    hodge.extract_conservative(g["points"], g["vectors"], hidden=5, epochs=1, threads=1)
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="threads"):
        hodge.extract_conservative(g["points"], g["vectors"], threads=0)


def test_error_row_against_a_given_field_reports_its_size_not_fs_decomposition():
    g = hodge.sample_grid(hodge.FIELDS["spiral_sink"], 20)
    S = (g["Fs"][0], g["Fs"][1])  # the rotation part, whose stated conservative part is zero
    half = (0.5 * S[0], 0.5 * S[1])
    e = hodge.error_row(half, g, g["Fc"], given=S)
    assert np.isnan(e["err_stated"]) and np.isnan(e["err_l2fit"])
    assert e["size_vs_given"] == pytest.approx(0.5) and e["err_F"] == pytest.approx(0.5)
    plain = hodge.error_row(g["Fc"], g, g["Fc"])
    assert plain["err_stated"] == 0 and "size_vs_given" not in plain
    row = hodge.format_error_row("m", plain)
    assert row["method"] == "m" and row["vs stated conservative part"] == "0"


def test_chunked_loss_and_gradient_equal_the_full_batch_ones():
    g = hodge.sample_grid(hodge.FIELDS["spiral_sink"], 12)
    X = torch.as_tensor(g["points"])
    T = X + torch.as_tensor(g["vectors"])
    model = AutoEncoder(2, 20, "relu", seed=3, dtype=torch.float64)
    full = ((model(X) - T) ** 2).sum(dim=1).mean()
    full.backward()
    grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    chunked = hodge._chunked_loss_and_grad(model, X, T, chunk_size=7)
    assert float(chunked) == pytest.approx(float(full.detach()), rel=1e-12)
    for p, g_full in zip(model.parameters(), grads):
        assert torch.allclose(p.grad, g_full, rtol=1e-10, atol=1e-14)


def test_lbfgs_fit_stays_within_its_iteration_budget_and_is_deterministic():
    g = hodge.sample_grid(hodge.FIELDS["spiral_sink"], 10)
    a = hodge.fit_field_lbfgs(g["points"], g["vectors"], tied=False, hidden=20, iterations=30, block=10, seed=1)
    b = hodge.fit_field_lbfgs(g["points"], g["vectors"], tied=False, hidden=20, iterations=30, block=10, seed=1)
    assert a.iterations[0] == 0 and 0 < a.n_iterations <= 30
    assert a.losses == b.losses and a.final_loss < a.losses[0]
    assert a.evaluations >= a.n_iterations


def test_lbfgs_fit_of_an_untied_model_learns_the_whole_field_not_its_conservative_part():
    g = hodge.sample_grid(hodge.FIELDS["spiral_sink"], 12)
    run = hodge.fit_field_lbfgs(g["points"], g["vectors"], tied=False, hidden=60, iterations=200, seed=0)
    field = hodge.model_on_grid(run.model, g)
    assert hodge.relative_error(field, g["F"]) < 0.05
    assert hodge.relative_error(field, g["Fc"]) > 0.5


def test_a_silent_network_matches_the_stated_part_but_is_marked_collapsed():
    g = hodge.sample_grid(hodge.FIELDS["spiral_sink"], 10)
    best = hodge.helmholtz_hodge(*g["F"], g["x"], g["y"])[:2]
    silent = AutoEncoder.from_weights(torch.zeros(2, 8, dtype=torch.float64), torch.zeros(2, 8, dtype=torch.float64),
                                      activation="relu")
    row = hodge.score_model(silent, g, best)
    assert row["err_stated"] < 1e-12  # r = 0 gives exactly (−x, −y) ...
    assert row["collapsed"]           # ... and must not be scored
    live = hodge.fit_field_lbfgs(g["points"], g["vectors"], tied=True, hidden=20, iterations=20, seed=0)
    assert hodge.score_extraction(live, g, best)["iterations"] == live.n_iterations


def test_lbfgs_fit_refuses_bad_input():
    g = hodge.sample_grid(hodge.FIELDS["spiral_sink"], 5)
    with pytest.raises(ValueError, match="iterations"):
        hodge.fit_field_lbfgs(g["points"], g["vectors"], iterations=0)
    with pytest.raises(ValueError, match="N × 2"):
        hodge.fit_field_lbfgs(g["points"][:, :1], g["vectors"])
