"""Claims of conservae_lib.chapters.hodge_2d.hodge (chapter 06_hodge_2d): grid Helmholtz–Hodge solver, test fields, error measures."""
import math

import numpy as np
import pytest
import torch

from conservae_lib import AutoEncoder
from conservae_lib.core import fields
from conservae_lib.chapters.hodge_2d import hodge
from conservae_lib.chapters.hodge_2d import figures as hodge_figures


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
    assert hodge.relative_error((Uc, Vc), g["conservative"]) < 1e-3


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
    assert hodge.relative_error((Uc, Vc), g["F"]) < hodge.relative_error(g["conservative"], g["F"]) - 0.05
    assert 0.35 < hodge.relative_error((Uc, Vc), g["conservative"]) < 0.45
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


def test_solver_output_has_zero_grid_curl_everywhere_boundary_included():
    g = hodge.sample_grid(hodge.FIELDS["bump_vortex"], 50)
    Uc, Vc, _ = hodge.helmholtz_hodge(*g["F"], g["x"], g["y"])
    assert np.abs(hodge.grid_curl(Uc, Vc, g["x"], g["y"])).max() < 1e-9
    assert np.abs(hodge.grid_curl(*g["F"], g["x"], g["y"])).max() > 1.0


def test_error_row_against_a_given_field_reports_its_size_not_fs_decomposition():
    g = hodge.sample_grid(hodge.FIELDS["spiral_sink"], 20)
    S = (g["rotational"][0], g["rotational"][1])  # the rotation part, whose stated conservative part is zero
    half = (0.5 * S[0], 0.5 * S[1])
    e = hodge.error_row(half, g, g["conservative"], given=S)
    assert np.isnan(e["err_stated"]) and np.isnan(e["err_l2fit"])
    assert e["size_vs_given"] == pytest.approx(0.5) and e["err_F"] == pytest.approx(0.5)
    plain = hodge.error_row(g["conservative"], g, g["conservative"])
    assert plain["err_stated"] == 0 and "size_vs_given" not in plain
    row = hodge_figures.format_error_row("m", plain)
    assert row["method"] == "m" and row["vs stated conservative part"] == "0"


def test_grid_curl_differs_from_fields_curl_2d_grid_only_at_the_edges():
    # Why hodge keeps its own curl: with second-order edges (the solver's stencils) the solver's
    # output is curl-free on the boundary too; fields.curl_2d_grid's first-order edges are not.
    g = hodge.sample_grid(hodge.FIELDS["spiral_sink"], 40)
    Uc, Vc, _ = hodge.helmholtz_hodge(*g["F"], g["x"], g["y"])
    ours, theirs = hodge.grid_curl(Uc, Vc, g["x"], g["y"]), fields.curl_2d_grid(Uc, Vc, g["x"], g["y"])
    assert np.allclose(ours[1:-1, 1:-1], theirs[1:-1, 1:-1], atol=1e-12)
    assert np.abs(ours).max() < 1e-9 < 0.1 < np.abs(theirs).max()


def test_sample_grid_lies_on_the_plotting_grid_and_splits_f():
    from conservae_lib.core.fields import grid_2d

    g = hodge.sample_grid(hodge.FIELDS["bump_vortex"], 9)
    x, y, pts = grid_2d((-1, 1, -1, 1), 9)
    assert np.array_equal(g["x"], x) and np.array_equal(g["points"], pts.numpy())
    for total, c, r in zip(g["F"], g["conservative"], g["rotational"]):
        assert np.allclose(total, c + r)
    assert np.array_equal(g["vectors"][:, 0], g["F"][0].ravel())


def test_model_on_grid_equals_the_field_at_the_grid_points():
    g = hodge.sample_grid(hodge.FIELDS["spiral_sink"], 7)
    model = AutoEncoder(2, 6, "relu", tied=False, seed=2, dtype=torch.float64)
    U, V = hodge.model_on_grid(model, g)
    assert np.array_equal(np.stack([U.ravel(), V.ravel()], axis=1), hodge.field_values(model, g["points"]))


def test_least_squares_reference_differs_from_the_stated_part_by_a_harmonic_gradient():
    ref = hodge.least_squares_reference(40)
    assert 0.35 < ref.gap < 0.45
    hu, hv = ref.harmonic
    curl = hodge.grid_curl(hu, hv, ref.grid["x"], ref.grid["y"])
    div = np.gradient(hu, ref.grid["x"], axis=1) + np.gradient(hv, ref.grid["y"], axis=0)
    assert np.abs(curl).max() < 1e-9 and np.abs(div[2:-2, 2:-2]).max() < 0.05
    lines = hodge_figures.describe_reference(ref).splitlines()
    assert len(lines) == 3 and lines[0].startswith("best gradient fit vs stated conservative part: ")
    assert lines[1].rindex(" ") == lines[2].rindex(" ")  # the numbers line up
