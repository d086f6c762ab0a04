"""Claims of conservae_lib.core.hodge (chapter 06_hodge_2d): the grid Helmholtz–Hodge solver (eq. 16),
the grid curl with the solver's stencils and the error measures."""
import math

import numpy as np
import pytest

from conservae_lib.core import hodge
from conservae_lib.data.vector_fields import FIELDS, sample_grid


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
    g = sample_grid(FIELDS["sine_cell"], 100)
    Uc, Vc, _ = hodge.helmholtz_hodge(*g["F"], g["x"], g["y"])
    assert hodge.relative_error((Uc, Vc), g["conservative"]) < 1e-3


def test_potential_matches_the_known_potential_up_to_a_constant():
    g = sample_grid(FIELDS["sine_cell"], 80)
    _, _, phi = hodge.helmholtz_hodge(*g["F"], g["x"], g["y"])
    ref = g["phi"] - g["phi"].mean()
    assert np.abs(phi - ref).max() < 2e-3 * np.abs(ref).max()


def test_remainder_is_orthogonal_to_gradients_so_the_fit_is_least_squares():
    g = sample_grid(FIELDS["spiral_sink"], 80)
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
    g = sample_grid(FIELDS["spiral_sink"], 100)
    Uc, Vc, _ = hodge.helmholtz_hodge(*g["F"], g["x"], g["y"])
    assert hodge.relative_error((Uc, Vc), g["F"]) < hodge.relative_error(g["conservative"], g["F"]) - 0.05
    assert 0.35 < hodge.relative_error((Uc, Vc), g["conservative"]) < 0.45
    assert np.abs(hodge.grid_curl(Uc, Vc, g["x"], g["y"])).max() < 1e-6


@pytest.mark.parametrize("bad, word", [
    (lambda x, y, U: (U[:, :-1], U, x, y), "shape"),
    (lambda x, y, U: (U, U, x**3, y), "equally spaced"),
    (lambda x, y, U: (U * np.nan, U, x, y), "finite"),
])
def test_helmholtz_hodge_and_grid_curl_refuse_bad_grids(bad, word):
    x, y, X, Y = _grid(10)
    with pytest.raises(ValueError, match=word):
        hodge.helmholtz_hodge(*bad(x, y, X))
    with pytest.raises(ValueError, match=word):
        hodge.grid_curl(*bad(x, y, X))


def test_solver_output_has_zero_grid_curl_everywhere_boundary_included():
    g = sample_grid(FIELDS["bump_vortex"], 50)
    Uc, Vc, _ = hodge.helmholtz_hodge(*g["F"], g["x"], g["y"])
    assert np.abs(hodge.grid_curl(Uc, Vc, g["x"], g["y"])).max() < 1e-9
    assert np.abs(hodge.grid_curl(*g["F"], g["x"], g["y"])).max() > 1.0


def test_grid_curl_matches_the_exact_curl_of_a_smooth_field_up_to_the_edges():
    x, y, X, Y = _grid(201)
    U, V = -Y * X**2, X * Y**2 + np.sin(X)  # curl = y² + cos x + x²
    c = hodge.grid_curl(U, V, x, y)
    exact = Y**2 + np.cos(X) + X**2
    assert np.abs(c - exact).max() < 1e-3  # second order at the edges too


def test_grid_curl_is_second_order_at_the_edges_so_a_gradient_has_no_boundary_curl():
    # With first-order edges (np.gradient's default) a gradient field shows a boundary curl of
    # order h; with the solver's second-order stencils it is O(h²) everywhere, edges included.
    x, y, X, Y = _grid(40)
    U, V = 2 * X * Y + np.cos(X) * Y**3, X**2 + 3 * np.sin(X) * Y**2  # ∇(x² y + sin x · y³)
    ours = hodge.grid_curl(U, V, x, y)
    first_order = np.gradient(V, x, axis=1) - np.gradient(U, y, axis=0)
    assert np.abs(ours).max() < 0.01 < 0.1 < np.abs(first_order).max()
    assert np.abs(first_order[1:-1, 1:-1] - ours[1:-1, 1:-1]).max() < 1e-12  # same interior stencil


def test_relative_error_takes_pairs_and_point_arrays_and_refuses_a_zero_reference():
    g = sample_grid(FIELDS["spiral_sink"], 7)
    assert hodge.relative_error(g["vectors"], (g["F"][0].ravel(), g["F"][1].ravel())) == 0
    half = (0.5 * g["F"][0], 0.5 * g["F"][1])
    assert hodge.relative_error(half, g["F"]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="reference field is zero"):
        hodge.relative_error(g["F"], (0 * g["F"][0], 0 * g["F"][1]))
    with pytest.raises(ValueError, match="different shapes"):
        hodge.relative_error(g["F"], (g["F"][0][:-1], g["F"][1][:-1]))


def test_nonconservative_fraction_is_zero_for_a_gradient_and_not_for_a_rotation():
    g = sample_grid(FIELDS["spiral_sink"], 30)
    assert hodge.nonconservative_fraction(*g["conservative"], g["x"], g["y"]) < 1e-8
    assert hodge.nonconservative_fraction(*g["F"], g["x"], g["y"]) > 0.3
