"""Tests of conservae_lib.core.conditions and .sufficient: the conservativeness test, the constructions of eq. (8)
and their families, the space of conservative decoders, and the recovery of C and E.
Chapters: *Conservative auto-encoders* and *When is an untied auto-encoder conservative?*."""
import pytest
import torch

from conservae_lib.core import conditions as cd
from conservae_lib.core import decoder_space as ds
from conservae_lib.core import sufficient as sf
from conservae_lib.chapters.sufficient_condition import report as sr
from conservae_lib.chapters.sufficient_condition import survey as sv
from conservae_lib.core.fields import jacobian_symmetricity
from conservae_lib.core.models import AutoEncoder, glorot

DT = torch.float64


def _w(D, H, seed=0, scale=2.0):
    return scale * glorot(D, H, torch.Generator().manual_seed(seed), DT)


def _x(n, D, seed=1, scale=1.0):
    return scale * torch.randn(n, D, generator=torch.Generator().manual_seed(seed), dtype=DT)


# ------------------------------------------------------------- existing public functions
@pytest.mark.parametrize("act", ["sigmoid", "tanh", "softplus", "relu", "linear"])
def test_scaled_tied_decoder_is_conservative_for_every_activation(act):
    W = _w(4, 6)
    m = cd.scaled_tied(W, torch.linspace(-0.5, 2.0, 6, dtype=DT), activation=act)
    out = cd.check_conservative(m, _x(16, 4), n_loops=4)
    assert out["asym_max"] < 1e-12
    assert out["circulation_max"] < (1e-3 if act == "relu" else 1e-10)


def test_symmetric_mixing_is_conservative_for_linear_h_only():
    W = _w(4, 6)
    A = torch.randn(6, 6, generator=torch.Generator().manual_seed(3), dtype=DT)
    S = A + A.T
    x = _x(16, 4)
    assert cd.check_conservative(cd.symmetric_mixing(W, S, activation="linear"), x, n_loops=4)["asym_max"] < 1e-12
    out = cd.check_conservative(cd.symmetric_mixing(W, S, activation="sigmoid"), x, n_loops=4)
    assert out["asym_max"] > 1e-4 and out["circulation_mean"] > 1e-4


def test_symmetric_mixing_rejects_a_non_symmetric_matrix():
    with pytest.raises(ValueError, match="symmetric"):
        cd.symmetric_mixing(_w(4, 3), torch.arange(9, dtype=DT).reshape(3, 3))


def test_random_untied_model_fails_the_conservativeness_test():
    m = AutoEncoder(4, 6, "sigmoid", seed=5, dtype=DT)
    out = cd.check_conservative(m, _x(16, 4), n_loops=8)
    assert out["asym_max"] > 1e-3 and out["circulation_mean"] > 1e-3 and out["path_dependence_max"] > 1e-4


def test_check_conservative_accepts_a_plain_callable_field():
    out = cd.check_conservative(lambda x: torch.stack([-x[:, 1], x[:, 0]], 1), _x(8, 2), n_loops=4)
    assert "sym_mean" not in out
    assert out["circulation_mean"] == pytest.approx(1.0, abs=1e-9)  # a pure rotation


# ------------------------------------------------------------- eq. (8)–(9)
def test_commuting_matrix_commutes_and_is_positive_definite_even_with_repeated_eigenvalues():
    W = _w(6, 3)  # W Wᵀ has a 3-fold zero eigenvalue
    M = W @ W.T
    C = sf.commuting_matrix(M, seed=2)
    assert torch.allclose(C, C.T)
    assert (C @ M - M @ C).norm() < 1e-12 * (C @ M).norm()
    assert torch.linalg.eigvalsh(C).min() >= 0.5 - 1e-12


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_eq8_decoder_makes_the_jacobian_symmetric_at_the_frozen_diagonal(seed):
    g = torch.Generator().manual_seed(seed)
    W = _w(5, 7, seed)
    A = torch.randn(7, 7, generator=g, dtype=DT)
    E = A + A.T
    delta = torch.rand(7, generator=g, dtype=DT)
    Wd = W * delta
    C = sf.commuting_matrix(Wd @ E @ Wd.T, seed=seed)
    R = sf.sufficient_condition_decoder(W, C, E, delta)
    J = (R * delta) @ W.T
    assert (J - J.T).norm() < 1e-12 * J.norm()
    assert sf.commutation_residual(C, W, E, delta) < 1e-12


def test_eq8_with_a_non_commuting_C_is_not_symmetric():
    W = _w(5, 7)
    E = torch.eye(7, dtype=DT)
    A = torch.randn(5, 5, generator=torch.Generator().manual_seed(4), dtype=DT)
    C = A + A.T
    R = sf.sufficient_condition_decoder(W, C, E)
    J = R @ W.T
    assert (J - J.T).norm() > 1e-3 * J.norm()
    assert sf.commutation_residual(C, W, E) > 1e-3


def test_sufficient_condition_decoder_rejects_non_symmetric_or_misshaped_matrices():
    W = _w(3, 4)
    with pytest.raises(ValueError, match="symmetric"):
        sf.sufficient_condition_decoder(W, torch.triu(torch.ones(3, 3, dtype=DT)), torch.eye(4, dtype=DT))
    with pytest.raises(ValueError, match="4 × 4"):
        sf.sufficient_condition_decoder(W, torch.eye(3, dtype=DT), torch.eye(3, dtype=DT))


def test_linear_family_is_conservative_everywhere_with_its_quadratic_energy():
    con = sf.linear_family(_w(5, 4), b=torch.ones(4, dtype=DT), c=torch.ones(5, dtype=DT), seed=1)
    x = _x(20, 5, scale=3.0)
    assert (1 - jacobian_symmetricity(con.model, x)).max() < 1e-12
    assert sf.affine_energy_gradient_error(con.model, x) < 1e-10


def test_relu_region_family_is_conservative_inside_its_region_and_not_outside():
    W = _w(4, 8, 3)
    b = torch.tensor([0.8, -0.7, 0.9, -1.2, 0.6, 1.1, -0.9, 0.7], dtype=DT)
    x0 = torch.zeros(1, 4, dtype=DT)
    con = sf.relu_region_family(W, b, x0, seed=2)
    inradius = float((b.abs() / W.norm(dim=0)).min())
    inside = sf.relu_region_points(con.model, x0, 20, radius=0.9 * inradius)
    assert (sf.activation_pattern(con.model, inside) == (b > 0)).all()
    assert (1 - jacobian_symmetricity(con.model, inside)).max() < 1e-12
    assert sf.affine_energy_gradient_error(con.model, inside, con.d) < 1e-10
    outside = _x(50, 4, scale=3.0)
    assert (1 - jacobian_symmetricity(con.model, outside)).mean() > 1e-3


def test_relu_region_points_reports_a_radius_too_large():
    t = torch.arange(6, dtype=DT) * (torch.pi / 3)
    W = torch.stack([torch.cos(t), torch.sin(t)])  # the region of 0 is a hexagon of inradius 0.01
    m = AutoEncoder.from_weights(W, W, torch.full((6,), 0.01, dtype=DT), None, "relu")
    with pytest.raises(ValueError, match="smaller radius"):
        sf.relu_region_points(m, torch.zeros(1, 2, dtype=DT), 50, radius=10.0)


def test_pointwise_family_is_symmetric_at_x0_only():
    W = _w(4, 6)
    b = 0.5 * torch.ones(6, dtype=DT)
    x0 = torch.tensor([[0.3, -0.2, 0.1, 0.4]], dtype=DT)
    con = sf.pointwise_family(W, b, x0, "sigmoid", seed=1)
    with torch.no_grad():
        assert float(1 - jacobian_symmetricity(con.model, x0)) < 1e-12
        assert float((1 - jacobian_symmetricity(con.model, x0 + 1.0)).min()) > 1e-6
    prof = sv.distance_profile(con, x0, [1e-3, 1e-2], n_dirs=8)
    assert prof[1]["asym_mean"] / prof[0]["asym_mean"] == pytest.approx(100, rel=0.05)  # ∝ distance²


def test_as_matrix_checks_shape_and_symmetry_and_names_the_matrix():
    A = torch.tensor([[1.0, 2.0], [2.0, 3.0]], dtype=DT)
    assert sf.as_matrix("C", A, (2, 2), symmetric=True) is A
    assert torch.equal(sf.as_matrix("W", [[1.0, 2.0, 3.0]]), torch.tensor([[1.0, 2.0, 3.0]]))
    with pytest.raises(ValueError, match="W must be a 2-D matrix; got shape"):
        sf.as_matrix("W", torch.zeros(3, dtype=DT))
    with pytest.raises(ValueError, match="E must be a 3 × 3 matrix; got shape"):
        sf.as_matrix("E", A, (3, 3))
    with pytest.raises(ValueError, match="C must be symmetric"):
        sf.as_matrix("C", torch.tensor([[1.0, 2.0], [0.0, 1.0]], dtype=DT), symmetric=True)


def test_affine_energy_refuses_a_smooth_activation():
    with pytest.raises(ValueError, match="linear or ReLU"):
        sf.affine_energy(AutoEncoder(2, 3, "sigmoid", dtype=DT), _x(3, 2))


# ------------------------------------------------------------- the space of conservative decoders
@pytest.mark.parametrize("act,family", [("sigmoid", "nonlinear"), ("tanh", "nonlinear"), ("softplus", "nonlinear"),
                                        ("relu", "nonlinear"), ("linear", "linear")])
@pytest.mark.parametrize("D,H", [(4, 6), (6, 4)])
def test_conservative_decoder_space_has_the_derived_dimension(act, family, D, H):
    W = _w(D, H, 7)
    b = 0.5 * torch.randn(H, generator=torch.Generator().manual_seed(8), dtype=DT)
    sp = ds.conservative_decoder_space(W, b, act, _x(64, D, scale=2.0))
    assert sp.dim == ds.expected_decoder_dimension(D, H, family)


def test_only_rescaled_tied_decoders_are_conservative_for_a_sigmoid():
    W = _w(4, 6)
    sp = ds.conservative_decoder_space(W, torch.zeros(6, dtype=DT), "sigmoid", _x(64, 4, scale=2.0))
    assert sp.contains(W * torch.arange(1, 7, dtype=DT)) < 1e-12
    assert sp.contains(torch.randn(4, 6, generator=torch.Generator().manual_seed(0), dtype=DT)) > 0.1


def test_linear_dimension_formulas_on_hand_checked_values():
    assert ds.expected_decoder_dimension(3, 2, "linear") == 3  # R = W S, S symmetric 2 × 2
    assert ds.expected_decoder_dimension(2, 3, "linear") == 3 + 2  # RWᵀ symmetric (3) + Z Wᵀ = 0 (2·1)
    assert ds.expected_decoder_dimension(3, 4, "relu_region", active=1) == 1 + 9
    with pytest.raises(ValueError, match="family"):
        ds.expected_decoder_dimension(3, 4, "quadratic")
    with pytest.raises(ValueError, match="active"):
        ds.expected_decoder_dimension(3, 4, "relu_region")


# ------------------------------------------------------------- recovering C and E
@pytest.mark.parametrize("D,H", [(5, 3), (3, 5), (4, 4)])
def test_recover_CE_reproduces_R_and_contains_the_known_pair(D, H):
    W = _w(D, H, 11)
    con = sf.linear_family(W, seed=4)
    rec = ds.recover_CE(W, con.model.R.detach())
    assert rec.message == "ok"
    assert rec.residual < 1e-10
    assert rec.contains(con.C, con.E) < 1e-10
    assert rec.commutator < 1e-10
    assert float(torch.trace(rec.C)) == pytest.approx(D)


def test_recover_CE_with_a_frozen_diagonal():
    W = _w(4, 6)
    con = sf.pointwise_family(W, torch.zeros(6, dtype=DT), torch.ones(1, 4, dtype=DT), "tanh", seed=3)
    rec = ds.recover_CE(W, con.model.R.detach(), con.d)
    assert rec.residual < 1e-10 and rec.contains(con.C, con.E) < 1e-10 and rec.commutator < 1e-10


@pytest.mark.parametrize("D,H", [(4, 4), (3, 6), (6, 3), (5, 5)])
def test_solution_set_of_a_random_model_has_the_generic_dimension(D, H):
    # Square case: every matrix is similar to its transpose through a D-dimensional space of
    # symmetric matrices (Taussky–Zassenhaus); in general ((D − H)² + D + H)/2.
    g = torch.Generator().manual_seed(D * 10 + H)
    W = torch.randn(D, H, generator=g, dtype=DT)
    R = torch.randn(D, H, generator=g, dtype=DT)
    rec = ds.recover_CE(W, R)
    assert rec.null_dim == ((D - H) ** 2 + D + H) // 2
    assert rec.residual < 1e-9
    assert rec.commutator > 1e-2  # decomposes, but the commutation of eq. (8) fails: not conservative


@pytest.mark.parametrize("D,H,expected", [(4, 4, 4), (3, 6, 9), (6, 3, 9), (1, 1, 1), (2, 5, 8)])
def test_generic_solution_dimension_counts_unknowns_minus_equations(D, H, expected):
    # symmetric G (D(D+1)/2 unknowns) and E (H(H+1)/2) against D·H equations, counted by hand
    assert D * (D + 1) // 2 + H * (H + 1) // 2 - D * H == expected
    assert ds.generic_solution_dimension(D, H) == expected


def test_recover_CE_rejects_misshaped_R():
    with pytest.raises(ValueError, match="shape"):
        ds.recover_CE(_w(3, 4), torch.zeros(4, 3, dtype=DT))


# ------------------------------------------------------------- perturbations
def test_perturbation_breaks_conservativeness_quadratically_in_symmetricity_linearly_in_circulation():
    m = cd.scaled_tied(_w(5, 8), torch.ones(8, dtype=DT) * 1.5, activation="sigmoid")
    rows = sf.perturbation_sweep(m, _x(16, 5), [1e-5, 1e-4], n_loops=8)
    assert rows[1]["asym_mean"] / rows[0]["asym_mean"] == pytest.approx(100, rel=0.01)
    assert rows[1]["circulation_mean"] / rows[0]["circulation_mean"] == pytest.approx(10, rel=0.01)


def test_family_survey_tables_every_family():
    ex = sv.family_examples(4, 6, seed=0, n_points=12)
    rows = sv.family_survey(ex, n_loops=4)
    assert len(rows) == len(ex) == 5
    assert max(r["asym_inside_max"] for r in rows) < 1e-12
    assert sr.family_table(rows).shape[0] == 5


def test_recover_CE_finds_another_valid_pair_when_the_true_C_is_singular():
    g = torch.Generator().manual_seed(5)
    W = _w(5, 8, 5)
    A = torch.randn(8, 8, generator=g, dtype=DT)
    E = A + A.T
    _, U = torch.linalg.eigh(W @ E @ W.T)
    C = U[:, 2:] @ U[:, 2:].T  # a rank-3 projector commuting with W E Wᵀ
    R = C @ W @ E
    rec = ds.recover_CE(W, R)
    assert rec.message == "ok" and rec.residual < 1e-10 and rec.commutator < 1e-10
    assert rec.null_dim > ((5 - 8) ** 2 + 5 + 8) // 2  # larger than the generic solution set
    assert torch.linalg.matrix_rank(rec.C) == 5


def test_recovery_survey_labels_conservative_and_random_cases():
    rows = sv.recovery_survey(3, 4, n_recover=1)
    assert all(r["n_ok"] == r["n"] for r in rows)
    assert all((r["commutator_max"] < 1e-10) == r["conservative"] for r in rows)
