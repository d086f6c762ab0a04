"""Claims of conservae_lib.data.vector_fields (chapter 06_hodge_2d): 2-D test fields with a stated split."""
import numpy as np
import pytest

from conservae_lib.core.fields import grid_2d
from conservae_lib.data import vector_fields


def test_sample_grid_lies_on_the_plotting_grid_and_splits_f():
    g = vector_fields.sample_grid(vector_fields.FIELDS["bump_vortex"], 9)
    x, y, pts = grid_2d((-1, 1, -1, 1), 9)
    assert np.array_equal(g["x"], x) and np.array_equal(g["points"], pts.numpy())
    for total, c, r in zip(g["F"], g["conservative"], g["rotational"]):
        assert np.allclose(total, c + r)
    assert np.array_equal(g["vectors"][:, 0], g["F"][0].ravel())


@pytest.mark.parametrize("name", sorted(vector_fields.FIELDS))
def test_each_stated_conservative_part_is_the_gradient_of_its_potential_and_the_rest_is_divergence_free(name):
    g = vector_fields.sample_grid(vector_fields.FIELDS[name], 201)
    x, y = g["x"], g["y"]
    gu, gv = np.gradient(g["phi"], x, axis=1, edge_order=2), np.gradient(g["phi"], y, axis=0, edge_order=2)
    cu, cv = g["conservative"]
    assert np.abs(gu - cu).max() < 1e-3 * np.abs(cu).max() + 1e-3 and np.abs(gv - cv).max() < 1e-3 * np.abs(cv).max() + 1e-3
    ru, rv = g["rotational"]
    div = np.gradient(ru, x, axis=1, edge_order=2) + np.gradient(rv, y, axis=0, edge_order=2)
    assert np.abs(div).max() < 1e-2 * max(np.abs(ru).max(), np.abs(rv).max())


def test_only_sine_cell_has_a_rotational_part_tangential_on_the_box():
    assert {n for n, f in vector_fields.FIELDS.items() if f.boundary_orthogonal} == {"sine_cell"}
    g = vector_fields.sample_grid(vector_fields.FIELDS["sine_cell"], 21)
    ru, rv = g["rotational"]
    assert np.abs(ru[:, [0, -1]]).max() < 1e-12 and np.abs(rv[[0, -1], :]).max() < 1e-12  # S·n = 0


def test_sample_grid_refuses_a_grid_of_fewer_than_three_points():
    with pytest.raises(ValueError, match="n must be"):
        vector_fields.sample_grid(vector_fields.FIELDS["spiral_sink"], 2)
