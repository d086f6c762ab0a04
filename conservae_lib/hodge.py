"""Extracting the conservative part of a 2-D vector field: a grid Helmholtz–Hodge solver and auto-encoders.

Helmholtz–Hodge on a box. On a bounded domain Ω a field F splits as F = ∇φ + G with G
divergence-free, but the split is unique only once boundary conditions are fixed
{cite}`bhatia2013helmholtz`. :func:`helmholtz_hodge` computes the split with *natural*
(normal-flow) boundary conditions: φ minimises ∫_Ω |∇φ − F|² dA, i.e. it solves the Neumann
problem Δφ = ∇·F in Ω, ∂φ/∂n = F·n on ∂Ω. The remainder G = F − ∇φ is divergence-free and
tangential to the boundary; any harmonic gradient (curl- and divergence-free) is absorbed into
∇φ. So ∇φ is *the best gradient-field fit of F on the box in L²* — which is what an auto-encoder
whose field is a gradient (a tied one, Corollary 1) approaches when trained by least squares on
points spread uniformly over the box. Discretisation: φ on the grid nodes, the least-squares
problem posed on grid edges (difference quotient of φ against the mean of F at the two ends,
trapezoid weights at the boundary), solved as a sparse graph-Laplacian system with scipy; the
conservative components are then np.gradient(φ) (second order). O(h²) accurate.

Auto-encoders. :func:`extract_conservative` fits an auto-encoder r (eq. 1) so that r(x) − x ≈ F
at the given sample points (targets x + F(x)), by L-BFGS as the paper's Figure 4 experiment
(which used BFGS); :func:`fit_field_lbfgs` does the same at the paper's length — a budget of
full-batch L-BFGS iterations, the loss and gradient accumulated over chunks of the grid — and
:func:`score_model` refuses to score a collapsed (dead or constant) network, whose field c − x
would pass for the conservative part of Figure 4's F. A tied model can only represent gradient
fields; an untied one can represent F itself. ``inputs="values"`` reproduces instead the protocol of the authors' released code,
which trains an ordinary (contractive, tied) auto-encoder on the *field values* F(x_i) as data,
without the points x_i, and then draws r(x) − x on the grid.

:data:`FIELDS` holds test fields with a known split. Chapter: *Extracting the conservative part
of a vector field* (06_hodge_2d), Figure 4 and the section *Decomposing the vector field* (eq. 16).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch

from .models import AutoEncoder
from .training import fit

Tensor = torch.Tensor
Array = np.ndarray
Pair = tuple[Array, Array]

__all__ = [
    "helmholtz_hodge", "extract_conservative", "Extraction", "fit_field_lbfgs", "score_model",
    "score_extraction", "format_run_row", "plot_learning_curves", "collapse_points", "field_values", "relative_error", "nonconservative_fraction",
    "TestField", "FIELDS", "sample_grid", "model_on_grid", "model_curl_on_grid", "error_row", "format_error_row", "grid_curl", "plot_grid_field",
]


# ----------------------------------------------------------------------------- classical solver
def _check_grid(U: Array, V: Array, x: Array, y: Array) -> tuple[Array, Array, Array, Array, float, float]:
    U, V = np.asarray(U, dtype=float), np.asarray(V, dtype=float)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.ndim != 1 or y.ndim != 1 or len(x) < 3 or len(y) < 3:
        raise ValueError(f"x and y must be 1-D coordinate arrays with at least 3 points; got shapes {x.shape}, {y.shape}.")
    if U.shape != (len(y), len(x)) or V.shape != U.shape:
        raise ValueError(f"U and V must have shape (len(y), len(x)) = {(len(y), len(x))}; got {U.shape} and {V.shape}.")
    if not (np.all(np.isfinite(U)) and np.all(np.isfinite(V))):
        raise ValueError("U and V must be finite (no NaN or infinity).")
    dx, dy = np.diff(x), np.diff(y)
    for name, d in (("x", dx), ("y", dy)):
        if not (np.all(d > 0) and np.allclose(d, d[0], rtol=1e-6, atol=0)):
            raise ValueError(f"{name} must be increasing and equally spaced (a regular grid).")
    return U, V, x, y, float(dx[0]), float(dy[0])


def helmholtz_hodge(U: Array, V: Array, x: Array, y: Array) -> tuple[Array, Array, Array]:
    """Conservative part ∇φ of the field (U, V) on a regular grid, with natural boundary conditions.

    ``U``, ``V``: components of shape (len(y), len(x)); ``x``, ``y``: increasing, equally
    spaced coordinates. Returns ``(Uc, Vc, phi)``: the components of ∇φ and the potential φ
    (mean zero) on the same grid, where φ minimises ∫ |∇φ − F|² over the box (the L² projection
    of F onto gradient fields; Neumann condition ∂φ/∂n = F·n). See the module docstring.
    """
    U, V, x, y, dx, dy = _check_grid(U, V, x, y)
    ny, nx = U.shape
    idx = np.arange(nx * ny).reshape(ny, nx)
    # Horizontal edges (i, j)→(i, j+1) and vertical edges (i, j)→(i+1, j).
    h_from, h_to = idx[:, :-1].ravel(), idx[:, 1:].ravel()
    v_from, v_to = idx[:-1, :].ravel(), idx[1:, :].ravel()
    h_rhs = 0.5 * (U[:, :-1] + U[:, 1:]).ravel()
    v_rhs = 0.5 * (V[:-1, :] + V[1:, :]).ravel()
    # Trapezoid weights across the edge direction: half weight on boundary rows/columns.
    wy = np.ones(ny)
    wy[[0, -1]] = 0.5
    wx = np.ones(nx)
    wx[[0, -1]] = 0.5
    h_w = np.repeat(wy, nx - 1) * dx * dy
    v_w = np.tile(wx, ny - 1) * dx * dy
    n_h, n_v = len(h_from), len(v_from)
    rows = np.concatenate([np.arange(n_h), np.arange(n_h), n_h + np.arange(n_v), n_h + np.arange(n_v)])
    cols = np.concatenate([h_from, h_to, v_from, v_to])
    vals = np.concatenate([np.full(n_h, -1 / dx), np.full(n_h, 1 / dx), np.full(n_v, -1 / dy), np.full(n_v, 1 / dy)])
    G = sp.csr_matrix((vals, (rows, cols)), shape=(n_h + n_v, nx * ny))
    w = np.concatenate([h_w, v_w])
    b = np.concatenate([h_rhs, v_rhs])
    GtW = G.T.multiply(w).tocsr()
    A = (GtW @ G).tocsc()
    rhs = GtW @ b
    # The Laplacian is singular (constants); pin φ at node 0, then remove the mean.
    phi = np.zeros(nx * ny)
    phi[1:] = spla.spsolve(A[1:, 1:], rhs[1:])
    phi = phi.reshape(ny, nx)
    phi -= phi.mean()
    Uc = np.gradient(phi, x, axis=1, edge_order=2)
    Vc = np.gradient(phi, y, axis=0, edge_order=2)
    return Uc, Vc, phi


# ----------------------------------------------------------------------------- error measures
def _as_pair(F: Any) -> Pair:
    if isinstance(F, (tuple, list)) and len(F) == 2:
        return np.asarray(F[0], dtype=float), np.asarray(F[1], dtype=float)
    arr = np.asarray(F.detach().cpu() if isinstance(F, torch.Tensor) else F, dtype=float)
    if arr.ndim == 2 and arr.shape[1] == 2:
        return arr[:, 0], arr[:, 1]
    raise ValueError(f"a field must be a pair (U, V) or an N × 2 array; got shape {arr.shape}.")


def relative_error(F: Any, reference: Any) -> float:
    """‖F − reference‖ / ‖reference‖ over the grid (plain sums of squares of both components)."""
    U, V = _as_pair(F)
    Ur, Vr = _as_pair(reference)
    if U.shape != Ur.shape:
        raise ValueError(f"fields have different shapes: {U.shape} and {Ur.shape}.")
    den = math.sqrt(float((Ur**2).sum() + (Vr**2).sum()))
    if den == 0:
        raise ValueError("the reference field is zero; a relative error is undefined.")
    return math.sqrt(float(((U - Ur) ** 2).sum() + ((V - Vr) ** 2).sum())) / den


def nonconservative_fraction(U: Array, V: Array, x: Array, y: Array) -> float:
    """‖F − ∇φ‖ / ‖F‖ with ∇φ the best gradient fit on the box: 0 for a gradient field."""
    Uc, Vc, _ = helmholtz_hodge(U, V, x, y)
    return relative_error((Uc, Vc), (U, V))


# ----------------------------------------------------------------------------- auto-encoders
INPUTS = ("points", "values")


def extract_conservative(
    points: Any,
    vectors: Any,
    tied: bool = True,
    *,
    hidden: int = 200,
    activation: str = "relu",
    epochs: int = 15,
    optimizer: str = "lbfgs",
    lr: float = 1.0,
    batch_size: int | None = None,
    contraction: float = 0.0,
    encoder_contraction: float = 0.0,
    noise: float = 0.0,
    inputs: str = "points",
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    device: str = "cpu",
    progress: bool = False,
    desc: str | None = None,
    threads: int | None = 1,
) -> AutoEncoder:
    """Fit an auto-encoder whose field r(x) − x approximates the sampled field; return the model.

    ``points`` and ``vectors`` are N × 2 arrays (the samples x_i and F(x_i)). With the default
    ``inputs="points"`` the model is trained on inputs x_i with targets x_i + F(x_i), so that
    r(x) − x ≈ F (Figure 4); a tied model (``tied=True``, the default) has a gradient field
    (Corollary 1), so what it learns is a conservative approximation of F. ``contraction`` adds
    eq. (10)'s ‖∂r/∂x‖²_F penalty, ``encoder_contraction`` the classic CAE penalty ‖∂h/∂x‖²_F.
    ``inputs="values"`` is the authors' released protocol: an ordinary auto-encoder trained on
    the values F(x_i) alone (inputs = targets = F(x_i)); ``points`` is then not used for training.
    Training is :func:`conservae_lib.training.fit` (one L-BFGS call of ≤ 20 iterations per epoch
    by default), seeded by ``seed``. Evaluate the result with ``model.field`` or :func:`field_values`.
    ``threads`` (default 1) is the number of torch CPU threads used while fitting, restored
    afterwards: these models are small, and one thread is the fastest on a busy CPU (defaults on
    a 100 × 100 grid: about 25 s on a loaded 2-core machine; with 2 threads about 60 s).
    """
    if inputs not in INPUTS:
        raise ValueError(f"inputs must be one of {', '.join(INPUTS)}; got {inputs!r}.")
    X = torch.as_tensor(np.asarray(points, dtype=float), dtype=dtype)
    Fv = torch.as_tensor(np.asarray(vectors, dtype=float), dtype=dtype)
    if X.ndim != 2 or X.shape[1] != 2 or Fv.shape != X.shape:
        raise ValueError(f"points and vectors must both be N × 2 arrays; got shapes {tuple(X.shape)} and {tuple(Fv.shape)}.")
    if len(X) == 0:
        raise ValueError("no samples: points is empty.")
    if not (torch.isfinite(X).all() and torch.isfinite(Fv).all()):
        raise ValueError("points and vectors must be finite (no NaN or infinity).")
    model = AutoEncoder(2, hidden, activation=activation, tied=tied, seed=seed, dtype=dtype)
    if inputs == "points":
        train_in, train_out = X, X + Fv
    else:
        train_in, train_out = Fv, None
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be a positive integer or None; got {threads!r}.")
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        fit(model, train_in, train_out, epochs=epochs, batch_size=batch_size, lr=lr, optimizer=optimizer,
            contraction=contraction, encoder_contraction_weight=encoder_contraction, noise=noise, seed=seed,
            device=device, progress=progress, desc=desc or f"{'tied' if tied else 'untied'} AE on {inputs}")
    finally:
        torch.set_num_threads(previous)
    return model.cpu()


@dataclass
class Extraction:
    """The result of :func:`fit_field_lbfgs`: the model and how its training went.

    ``losses[k]`` is the mean squared error ‖r(x_i) − x_i − F(x_i)‖² after ``iterations[k]``
    L-BFGS iterations (``iterations[0] = 0``: the untrained model); ``evaluations`` counts loss
    and gradient evaluations over the whole training set (line-search trials included).
    """

    model: AutoEncoder
    losses: list[float]
    iterations: list[int]
    evaluations: int
    train_time_s: float

    @property
    def final_loss(self) -> float:
        return self.losses[-1]

    @property
    def n_iterations(self) -> int:
        return self.iterations[-1]


def _chunked_loss_and_grad(model: AutoEncoder, X: Tensor, T: Tensor, chunk_size: int) -> Tensor:
    """Mean over all N points of ‖r(x_i) − t_i‖², with its gradient accumulated chunk by chunk.

    Same value and gradient as the full batch (up to rounding); chunks of ~1,000 points keep the
    N × H hidden activities in cache, about four times faster on a CPU than one 10⁴ × 1,000 batch.
    """
    total = torch.zeros((), dtype=X.dtype, device=X.device)
    n = len(X)
    for i in range(0, n, chunk_size):
        part = ((model(X[i:i + chunk_size]) - T[i:i + chunk_size]) ** 2).sum() / n
        part.backward()
        total += part.detach()
    return total


def fit_field_lbfgs(
    points: Any,
    vectors: Any,
    tied: bool = True,
    *,
    hidden: int = 1000,
    activation: str = "relu",
    iterations: int = 500,
    history_size: int = 50,
    block: int = 25,
    chunk_size: int = 1000,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    device: str | torch.device = "cpu",
    threads: int | None = 1,
    progress: bool = False,
    desc: str | None = None,
) -> Extraction:
    """Figure 4's training at the paper's length: ``iterations`` full-batch quasi-Newton steps.

    Fits an auto-encoder (eq. 1; ``hidden`` units, seeded by ``seed``) so that r(x) − x ≈ F at
    the samples (inputs x_i, targets x_i + F(x_i)), by L-BFGS (torch, strong-Wolfe line search,
    ``history_size`` pairs) for ``iterations`` iterations — the paper's "500 epochs using BFGS",
    read as 500 iterations of a full-batch method (one iteration = one pass over the grid, plus
    its line-search trials). The iterations run in blocks of ``block`` (the loss is recorded
    after each block); training stops earlier only when L-BFGS makes no more progress
    (gradient below 1e-7 or no change in loss) or the loss becomes non-finite. Deterministic:
    same arguments, same numbers. Chapter: 06_hodge_2d (Figure 4).
    """
    for name, v in (("iterations", iterations), ("history_size", history_size), ("block", block), ("chunk_size", chunk_size)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive integer; got {v!r}.")
    X = torch.as_tensor(np.asarray(points, dtype=float), dtype=dtype)
    Fv = torch.as_tensor(np.asarray(vectors, dtype=float), dtype=dtype)
    if X.ndim != 2 or X.shape[1] != 2 or Fv.shape != X.shape or len(X) == 0:
        raise ValueError(f"points and vectors must both be non-empty N × 2 arrays; got shapes {tuple(X.shape)} and {tuple(Fv.shape)}.")
    if not (torch.isfinite(X).all() and torch.isfinite(Fv).all()):
        raise ValueError("points and vectors must be finite (no NaN or infinity).")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be a positive integer or None; got {threads!r}.")
    from .runtime import select_device

    dev = select_device(device)
    model = AutoEncoder(2, hidden, activation=activation, tied=tied, seed=seed, dtype=dtype).to(dev)
    X, T = X.to(dev), (X + Fv).to(dev)
    params = list(model.parameters())
    opt = torch.optim.LBFGS(params, lr=1.0, max_iter=block, history_size=history_size, line_search_fn="strong_wolfe")
    evaluations = 0

    def closure() -> Tensor:
        nonlocal evaluations
        evaluations += 1
        opt.zero_grad()
        return _chunked_loss_and_grad(model, X, T, chunk_size)

    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        with torch.no_grad():
            losses, done = [float(((model(X) - T) ** 2).sum(dim=1).mean())], [0]
        steps = range(0, iterations, block)
        if progress:
            from tqdm.auto import tqdm

            steps = tqdm(steps, desc=desc or f"{'tied' if tied else 'untied'} AE, L-BFGS", leave=False)
        t0 = time.perf_counter()
        for _ in steps:
            opt.param_groups[0]["max_iter"] = k = min(block, iterations - done[-1])
            opt.param_groups[0]["max_eval"] = k * 5 // 4
            opt.step(closure)
            n_iter = int(opt.state[params[0]].get("n_iter", 0))
            with torch.no_grad():
                loss = float(((model(X) - T) ** 2).sum(dim=1).mean())
            if n_iter == done[-1] and math.isfinite(loss):
                break  # converged: L-BFGS made no further step
            losses.append(loss)
            done.append(n_iter)
            if n_iter >= iterations or not math.isfinite(loss):
                break
        train_time = time.perf_counter() - t0
    finally:
        torch.set_num_threads(previous)
    return Extraction(model.cpu(), losses, done, evaluations, train_time)


def field_values(model: torch.nn.Module, points: Any) -> Array:
    """The model's field r(x) − x at N × 2 points, as an N × 2 NumPy array."""
    dtype = next(model.parameters()).dtype
    X = torch.as_tensor(np.asarray(points, dtype=float), dtype=dtype)
    with torch.no_grad():
        return model.field(X).double().cpu().numpy()


# ----------------------------------------------------------------------------- test fields
@dataclass(frozen=True)
class TestField:
    """A 2-D field F = ∇φ + S with a stated split (``conservative`` = ∇φ, ``potential`` = φ)."""

    name: str
    description: str
    conservative: Callable[[Array, Array], Pair]
    rotational: Callable[[Array, Array], Pair]
    potential: Callable[[Array, Array], Array]
    boundary_orthogonal: bool  # True when S is tangential on ∂[−1, 1]²: then ∇φ is also the L² fit

    def total(self, X: Array, Y: Array) -> Pair:
        (a, b), (c, d) = self.conservative(X, Y), self.rotational(X, Y)
        return a + c, b + d


def _gauss(X: Array, Y: Array, cx: float, cy: float, s: float) -> Array:
    return np.exp(-((X - cx) ** 2 + (Y - cy) ** 2) / (2 * s * s))


def _bump_grad(X: Array, Y: Array) -> Pair:
    g = _gauss(X, Y, 0.3, 0.2, 0.35)
    return -(X - 0.3) / 0.35**2 * g, -(Y - 0.2) / 0.35**2 * g


def _vortex(X: Array, Y: Array) -> Pair:
    # ∇⊥ψ = (∂ψ/∂y, −∂ψ/∂x) of ψ = 0.5 · Gaussian centred at (−0.4, −0.3), width 0.3.
    g = 0.5 * _gauss(X, Y, -0.4, -0.3, 0.3)
    return -(Y + 0.3) / 0.09 * g, (X + 0.4) / 0.09 * g


def _sine_cons(X: Array, Y: Array) -> Pair:
    # ∇φ for φ = sin(πx/2)·cos(πy/4).
    return (math.pi / 2) * np.cos(math.pi * X / 2) * np.cos(math.pi * Y / 4), -(math.pi / 4) * np.sin(math.pi * X / 2) * np.sin(math.pi * Y / 4)


def _sine_cell(X: Array, Y: Array) -> Pair:
    # ∇⊥ψ for ψ = sin(πx)·sin(πy), which vanishes on the boundary of [−1, 1]².
    return math.pi * np.sin(math.pi * X) * np.cos(math.pi * Y), -math.pi * np.cos(math.pi * X) * np.sin(math.pi * Y)


FIELDS: dict[str, TestField] = {
    "spiral_sink": TestField(
        "spiral_sink", "the paper's F = (−x + y, −x − y): sink (−x, −y) plus rotation (y, −x)",
        lambda X, Y: (-X, -Y), lambda X, Y: (Y, -X), lambda X, Y: -(X**2 + Y**2) / 2, False),
    "bump_vortex": TestField(
        "bump_vortex", "gradient of a Gaussian bump at (0.3, 0.2) plus a Gaussian vortex at (−0.4, −0.3)",
        _bump_grad, _vortex, lambda X, Y: _gauss(X, Y, 0.3, 0.2, 0.35), False),
    "sine_cell": TestField(
        "sine_cell", "∇ of sin(πx/2)cos(πy/4) plus the cellular flow ∇⊥[sin(πx) sin(πy)]",
        _sine_cons, _sine_cell, lambda X, Y: np.sin(math.pi * X / 2) * np.cos(math.pi * Y / 4), True),
}


def sample_grid(field: TestField, n: int = 100, box: Sequence[float] = (-1, 1, -1, 1)) -> dict[str, Any]:
    """The field on an n × n grid: ``x``, ``y``, ``points`` (n² × 2, y outer), ``F``, ``Fc``, ``Fs``, ``phi``.

    ``F``, ``Fc`` (stated conservative part, also under ``conservative``) and ``Fs`` (stated
    rotational part, also under ``rotational``) are pairs of (n, n) arrays; ``vectors`` is F as an n² × 2 array in the order of ``points``.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 3:
        raise ValueError(f"n must be an integer ≥ 3; got {n!r}.")
    x = np.linspace(box[0], box[1], n)
    y = np.linspace(box[2], box[3], n)
    X, Y = np.meshgrid(x, y)
    F, Fc, Fs = field.total(X, Y), field.conservative(X, Y), field.rotational(X, Y)
    points = np.stack([X.ravel(), Y.ravel()], axis=1)
    vectors = np.stack([F[0].ravel(), F[1].ravel()], axis=1)
    return {"x": x, "y": y, "points": points, "vectors": vectors, "F": F, "Fc": Fc, "Fs": Fs,
            "conservative": Fc, "rotational": Fs, "phi": field.potential(X, Y)}


# ----------------------------------------------------------------------------- comparisons
def model_on_grid(model: torch.nn.Module, grid: dict[str, Any]) -> Pair:
    """The model's field r(x) − x on the grid of :func:`sample_grid`, as a pair of (ny, nx) arrays."""
    v = field_values(model, grid["points"])
    shape = (len(grid["y"]), len(grid["x"]))
    return v[:, 0].reshape(shape), v[:, 1].reshape(shape)


def error_row(field: Pair, grid: dict[str, Any], l2_fit: Pair, given: Pair | None = None) -> dict[str, float]:
    """Relative L² errors of a field against the stated conservative part, the best gradient fit
    (``l2_fit``, from :func:`helmholtz_hodge`) and F, and its own non-conservative fraction.

    ``given`` is the field the method was trained on when it is not the grid's F (the rotation
    control of chapter 06, whose stated conservative part is zero): then ``err_F`` is measured
    against ``given``, the two errors against F's decomposition are NaN, and ``size_vs_given``
    is the learned field's L² size relative to ``given``'s."""
    U, V = field
    row = {
        "err_stated": relative_error(field, grid["Fc"]),
        "err_l2fit": relative_error(field, l2_fit),
        "err_F": relative_error(field, grid["F"]),
        "nonconservative": nonconservative_fraction(U, V, grid["x"], grid["y"]),
    }
    if given is not None:
        size = float(np.sqrt((U ** 2 + V ** 2).sum() / (given[0] ** 2 + given[1] ** 2).sum()))
        row.update(err_stated=float("nan"), err_l2fit=float("nan"), err_F=relative_error(field, given),
                   size_vs_given=size)
    return row


def format_error_row(name: str, e: dict[str, float], key: str = "method") -> dict[str, str]:
    """One table row of :func:`error_row`'s numbers, formatted for the page."""
    from .report import fmt, fmt_small

    if e.get("collapsed"):
        name = f"{name} [collapsed]"
    return {key: name, "vs stated conservative part": fmt(e["err_stated"], 3), "vs best gradient fit": fmt(e["err_l2fit"], 3),
            "vs input field": fmt(e["err_F"], 3), "non-conservative fraction": fmt_small(e["nonconservative"], floor=1e-6)}


def collapse_points(grid: dict[str, Any], n: int = 400) -> Tensor:
    """About ``n`` grid points spread over the whole box (every k-th point), for collapse checks."""
    points = np.asarray(grid["points"], dtype=float)
    return torch.as_tensor(points[::max(1, len(points) // n)])


def score_model(model: torch.nn.Module, grid: dict[str, Any], best_fit: Pair, losses: Sequence[float] = (),
                degenerate: str | None = None, given: Pair | None = None) -> dict[str, Any]:
    """:func:`error_row` of a trained model's field on ``grid``, plus ``collapsed``: ``None`` or why
    the model must not be scored (:func:`conservae_lib.curl_training.collapse_reason`). A dead or
    constant network has the field c − x, which on Figure 4's F *is* the stated conservative part,
    so it would pass for a recovery although it learned nothing about F; the least-squares
    optimum of a tied model (the best gradient fit, whose harmonic part is not zero) is not
    constant, so a constant r means training failed. The errors are still reported (NaN when the
    field is not finite); a chapter must not hand a collapsed model's numbers to the ledger.
    Chapter 06_hodge_2d."""
    from .curl_training import collapse_reason

    reason = collapse_reason(model, collapse_points(grid), losses, degenerate)
    field = model_on_grid(model, grid)
    if np.isfinite(field[0]).all() and np.isfinite(field[1]).all():
        row: dict[str, Any] = error_row(field, grid, best_fit, given)
    else:
        nan = float("nan")
        row = dict(err_stated=nan, err_l2fit=nan, err_F=nan, nonconservative=nan)
        if given is not None:
            row["size_vs_given"] = nan
    row["collapsed"] = reason
    return row


def score_extraction(run: Extraction, grid: dict[str, Any], best_fit: Pair) -> dict[str, Any]:
    """:func:`score_model` of a :func:`fit_field_lbfgs` run, with its iterations, evaluations and final loss."""
    row = score_model(run.model, grid, best_fit, run.losses)
    row.update(iterations=run.n_iterations, evaluations=run.evaluations, final_loss=run.final_loss)
    return row


def format_run_row(kind: str, seed: int, e: dict[str, Any]) -> dict[str, str]:
    """One row of chapter 06's Figure 4 table: a main model, its training and its errors."""
    from .report import fmt, fmt_small

    small = e["err_F"] < 1e-2  # False for NaN
    return {"model": kind, "seed": str(seed), "iterations": str(e["iterations"]), "final loss": fmt(e["final_loss"], 3),
            "vs stated conservative part": fmt(e["err_stated"], 3), "vs best gradient fit": fmt(e["err_l2fit"], 3),
            "vs input field": fmt_small(e["err_F"], floor=1e-6) if small else fmt(e["err_F"], 3),
            "scored": "no: collapsed" if e["collapsed"] else "yes"}


def plot_learning_curves(ax, runs: dict[str, Sequence[Extraction]], colors: dict[str, str] | None = None):
    """Training loss against L-BFGS iterations, one line per run (label = kind, one colour per kind)."""
    colors = colors or {"tied": "tab:blue", "untied": "tab:red"}
    for kind, group in runs.items():
        for i, run in enumerate(group):
            ax.semilogy(run.iterations, run.losses, "-o", ms=2, color=colors.get(kind), alpha=0.8,
                        label=kind if i == 0 else None)
    ax.set(xlabel="L-BFGS iterations", ylabel="training loss (mean squared error)")
    ax.legend()
    return ax


def model_curl_on_grid(model: torch.nn.Module, grid: dict[str, Any]) -> Array:
    """Exact curl of the model's field (from its Jacobian, Proposition 2) on the grid, shape (ny, nx)."""
    from .fields import curl_2d

    dtype = next(model.parameters()).dtype
    with torch.no_grad():
        c = curl_2d(model, torch.as_tensor(np.asarray(grid["points"], dtype=float), dtype=dtype))
    return c.detach().double().cpu().numpy().reshape(len(grid["y"]), len(grid["x"]))


def grid_curl(U: Array, V: Array, x: Array, y: Array) -> Array:
    """∂V/∂x − ∂U/∂y on the grid by second-order differences (one-sided second order at the edges).

    The x- and y-difference operators act on different axes and commute, so the curl of a field
    that :func:`helmholtz_hodge` returns (np.gradient of φ with the same stencils) is zero to rounding.
    """
    U, V, x, y, _, _ = _check_grid(U, V, x, y)
    return np.gradient(V, x, axis=1, edge_order=2) - np.gradient(U, y, axis=0, edge_order=2)


def plot_grid_field(ax, x: Array, y: Array, U: Array, V: Array, title: str | None = None, stride: int | None = None,
                    background: str | Array | None = "curl", scale: float | None = None):
    """Arrows of a field given on a grid, over its finite-difference curl (``background="curl"``),
    a given curl map (an array, e.g. :func:`model_curl_on_grid`), its magnitude (``"norm"``) or
    nothing (``None``). ``scale`` fixes the arrow scale across panels."""
    import matplotlib.pyplot as plt

    stride = stride or max(1, len(x) // 16)
    if background is not None:
        is_curl = not isinstance(background, str) or background == "curl"
        if isinstance(background, str):
            Z = grid_curl(U, V, x, y) if background == "curl" else np.hypot(U, V)
        else:
            Z = np.asarray(background, dtype=float)
        if is_curl:
            lim = max(float(np.abs(Z).max()), 1e-3)
            im = ax.imshow(Z, origin="lower", extent=(x[0], x[-1], y[0], y[-1]), cmap="RdBu_r", vmin=-lim, vmax=lim)
        else:
            im = ax.imshow(Z, origin="lower", extent=(x[0], x[-1], y[0], y[-1]), cmap="Greys")
        plt.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    s = (slice(None, None, stride), slice(None, None, stride))
    X, Y = np.meshgrid(x, y)
    ax.quiver(X[s], Y[s], U[s], V[s], angles="xy", pivot="mid", width=0.005, scale=scale)
    ax.set(xlim=(x[0], x[-1]), ylim=(y[0], y[-1]), aspect="equal")
    if title:
        ax.set_title(title, fontsize=10)
    return ax
