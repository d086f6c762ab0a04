"""Algorithm 1 in high dimension: learning the conservative part of a continuum of MNIST fields.

The paper's section *Extracting the conservative vector field through learning* (Algorithm 1,
Table 2, Figure 5), as its text states it:

1. a conservative field F_K — an auto-encoder (W_K, R_K) trained on MNIST — and a non-conservative
   one — an untied auto-encoder with random parameters (W_0, R_0) (:func:`train_mnist_autoencoder`,
   :func:`random_untied_autoencoder`). Table 2 has two rows: "CVF = Tied AE" (F_K trained as a
   tied auto-encoder) and "CVF = Untied AE" (F_K trained as an untied one) — :data:`CVF_ROWS`;
2. the interpolated models θ_β = β θ_K + (1 − β) θ_0 (:func:`interpolate_parameters`), in Table 2's
   convention (β = 1 is the trained model; Algorithm 1's formula writes the weights the other way
   round, see the errata);
3. for each β, points sampled uniformly in the data space [0, 1]^D (:func:`sample_uniform_points`)
   with the field's values there, and a fresh **tied** auto-encoder trained to reproduce that field
   (Algorithm 1, step 6; :func:`fit_to_field`, targets x + F(x) = r_β(x)) — in both rows;
4. the energy of eq. (3)/(4) of each learned tied model at MNIST test images x and at corrupted
   copies x̃, and the fraction of pairs with E(x) > E(x̃) (:func:`energy_difference`,
   :func:`fraction_higher`). The corruption has two readings (:data:`READINGS`): the text's
   salt-and-pepper noise and step 8's x̃ ~ Binomial, read as independent Bernoulli pixels whose
   probability is the mean intensity ("ink") of the training images (:func:`binomial_images`).

What a learner *can* learn is measured against references computed from the target itself
(:func:`conservative_references`): over the cube the target is almost linear, so its average
Jacobian J̄ gives the best linear field, its symmetric part S = (J̄ + J̄ᵀ)/2 the best conservative
linear field, and S projected on the positive semi-definite matrices of rank ≤ H the best field a
tied *sigmoid* auto-encoder can reach (its Jacobian W diag(σ′) Wᵀ is positive semi-definite). A
learner *fits* when its held-out relative error is within :data:`FIT_MARGIN` of that floor
(:func:`learner_fits`); Table 2 cells of learners that did not fit get no verdict.

Extras, labelled as such in the chapter: an untied learner on the tied row, whose "energy"
difference is the line integral of its field along the segment x̃ → x (:func:`segment_integral`,
path-dependent: :func:`path_dependence_ratio`); trivial energies −½‖x‖², −½‖x − x̄‖² and the
learned model's own term −½‖x − c‖² (:func:`quadratic_energy`); corruptions that keep the norm
(:func:`permute_pixels`, :func:`rescale_to_norm`).

:func:`run_experiment` runs every seed (learners in a pool of processes on CPU, each training run
checkpointed), :func:`summarize` aggregates, :func:`table2`, :func:`fit_table`, :func:`controls_table`
and :func:`plot_learning_curves` (Figure 5) show, and :func:`table2_cell` and friends prepare the
numbers that the chapter hands to :func:`conservae_lib.ledger.judge`.
Chapter: *Algorithm 1 on MNIST* (07_mnist_conservative_part).
"""
from __future__ import annotations

import copy
import hashlib
import json
import math
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import torch

from . import energy, fields, training
from .models import AutoEncoder

Tensor = torch.Tensor

__all__ = [
    "CVF_ROWS", "CORRUPTIONS", "READINGS", "FIT_MARGIN", "LEARNERS",
    "derive_seed", "interpolate_parameters", "random_untied_autoencoder", "train_mnist_autoencoder",
    "subsample", "sample_uniform_points", "field_targets", "fit_to_field", "relative_field_error",
    "average_jacobian", "conservative_references", "symmetric_part_distance", "learner_fits", "plateaued",
    "salt_and_pepper", "binomial_images", "ink", "permute_pixels", "rescale_to_norm", "corrupt",
    "quadratic_energy", "segment_integral", "energy_difference", "fraction_higher", "path_dependence_ratio",
    "run_directory", "run_seed", "train_learners_in_pool", "run_experiment", "summarize", "seed_values", "fmt_stat",
    "table2", "fit_table", "controls_table", "plot_learning_curves", "learning_curves",
    "table2_cell", "trend_values", "below_one_values", "fig5_values", "alg1_values", "claim_inputs", "reading_gaps",
]

#: Table 2's rows: how the conservative field F_K = (W_K, R_K) was trained on MNIST.
CVF_ROWS: tuple[str, ...] = ("tied", "untied")

#: Corruptions x → x̃. ``salt_and_pepper`` (the text) and ``binomial`` (Algorithm 1, step 8) are the
#: paper's two readings; ``permuted`` and ``salt_and_pepper_same_norm`` are controls.
CORRUPTIONS: tuple[str, ...] = ("salt_and_pepper", "binomial", "permuted", "salt_and_pepper_same_norm")

#: The paper's readings of x̃ and the name the ledger records them under (None: the primary one,
#: the corruption named in the text and in the ledger's statistic).
READINGS: dict[str, str | None] = {"salt_and_pepper": None, "binomial": "binomial"}

#: A learner fits its target when its held-out relative error exceeds the best its model class can
#: reach (:func:`conservative_references`) by at most this much (absolute, in units of the
#: target's variation over the cube).
FIT_MARGIN = 0.1

#: Learners trained on each row: the paper's tied learner on both rows; the untied learner (an
#: extra, Figure 5's solid curves) on the tied row only.
LEARNERS: dict[str, tuple[str, ...]] = {"tied": ("tied", "untied"), "untied": ("tied",)}


# ------------------------------------------------------------------------------ seeds
def derive_seed(seed: int, *tags: Any) -> int:
    """A reproducible sub-seed for one random stream of one repetition (e.g. ``(0, "uniform")``).

    Every random object of a repetition — models, samples, corruptions — gets its own stream, so
    changing how many of one are drawn never shifts another.
    """
    text = json.dumps([int(seed), *[str(t) for t in tags]])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


# ------------------------------------------------------------------------------ the continuum of fields
def interpolate_parameters(conservative: AutoEncoder, random: AutoEncoder, beta: float) -> AutoEncoder:
    """The model θ_β = β θ_K + (1 − β) θ_0 of Algorithm 1, step 4 (W, R, b and c alike).

    ``conservative`` is θ_K (trained on the data, tied or untied), ``random`` θ_0. β = 1 gives the
    trained model, β = 0 the random one: Table 2's convention (Algorithm 1's formula writes
    β θ_0 + (1 − β) θ_K; see the errata). The result is an untied model.
    """
    if not (isinstance(beta, (int, float)) and not isinstance(beta, bool) and 0.0 <= beta <= 1.0):
        raise ValueError(f"beta must be a number in [0, 1]; got {beta!r}.")
    if conservative.W.shape != random.W.shape:
        raise ValueError(f"the two models must have the same shape; got {tuple(conservative.W.shape)} and {tuple(random.W.shape)}.")
    if conservative.activation.name != random.activation.name:
        raise ValueError("the two models must use the same activation.")
    b = float(beta)
    with torch.no_grad():
        mix = [b * p.detach() + (1.0 - b) * q.detach() for p, q in (
            (conservative.W, random.W), (conservative.R, random.R), (conservative.b, random.b), (conservative.c, random.c))]
    return AutoEncoder.from_weights(*mix, activation=conservative.activation)


def random_untied_autoencoder(D: int, H: int, activation: str, seed: int) -> AutoEncoder:
    """θ_0 of Algorithm 1, step 2: an untied model with Glorot-uniform W and R and zero biases."""
    return AutoEncoder(D, H, activation=activation, tied=False, seed=seed)


def train_mnist_autoencoder(
    x_train: Tensor, H: int, activation: str, *, tied: bool, epochs: int, batch_size: int, lr: float, seed: int,
    checkpoint: Path | None = None, device: str = "auto", progress: bool = True,
) -> tuple[AutoEncoder, training.History]:
    """θ_K of Algorithm 1, step 3: an auto-encoder trained to reconstruct the data set — tied for
    Table 2's row "CVF = Tied AE", untied for "CVF = Untied AE"."""
    model = AutoEncoder(x_train.shape[1], H, activation=activation, tied=tied, seed=seed)
    hist = training.fit(model, x_train, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, device=device,
                        progress=progress, desc=f"{'tied' if tied else 'untied'} AE on MNIST", checkpoint=checkpoint)
    return model.cpu(), hist


def subsample(x: Tensor, n: int, seed: int) -> Tensor:
    """n rows of x chosen at random without replacement (all of them, in a random order, when
    n ≥ len(x)); the MNIST files are sorted by digit, so the first n rows would not do."""
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise ValueError(f"n must be a positive integer; got {n!r}.")
    g = torch.Generator().manual_seed(int(seed))
    return x[torch.randperm(len(x), generator=g)[:n]]


def sample_uniform_points(n: int, D: int, seed: int, low: float = 0.0, high: float = 1.0) -> Tensor:
    """n points drawn uniformly from the data space [low, high]^D (Algorithm 1, step 4)."""
    if n <= 0 or D <= 0:
        raise ValueError(f"need n > 0 points in D > 0 dimensions; got n={n}, D={D}.")
    g = torch.Generator().manual_seed(int(seed))
    return low + (high - low) * torch.rand(n, D, generator=g)


@torch.no_grad()
def field_targets(target: AutoEncoder, x: Tensor) -> Tensor:
    """Training targets x + F(x) = r(x) for learning the field F = r − x (Algorithm 1, step 4)."""
    return x + target.cpu().field(x)


def _variation(r: Tensor) -> Tensor:
    """Σ‖r − mean r‖² over the rows: the part of a reconstruction that an auto-encoder has to learn
    (every auto-encoder's field contains −x, and a constant is one bias, so neither counts)."""
    return ((r - r.mean(dim=0, keepdim=True)) ** 2).sum().clamp_min(1e-30)


@torch.no_grad()
def relative_field_error(learned: AutoEncoder | Callable[[Tensor], Tensor], target: AutoEncoder | Callable[[Tensor], Tensor],
                         x: Tensor) -> float:
    """Σ‖F_learned(x) − F_target(x)‖² / Σ‖r_target(x) − mean r_target‖² over the points.

    The numerator is the squared distance between the two fields (= ‖r_learned − r_target‖², the
    −x parts cancel); the denominator is the variation of the target's reconstruction, so 0 is a
    perfect fit and 1 is no better than the best constant reconstruction. Either argument may be
    any function x ↦ r(x) (e.g. a reference field of :func:`conservative_references`).
    """
    t = target(x)
    return float(((learned(x) - t) ** 2).sum() / _variation(t))


@torch.no_grad()
def average_jacobian(target: AutoEncoder, x: Tensor) -> Tensor:
    """J̄ = R diag(mean_x h′(Wᵀx + b)) Wᵀ: the Jacobian ∂r/∂x of eq. (5) averaged over the points x."""
    d = target.hidden_derivative(x).mean(dim=0)
    return (target.R * d) @ target.W.T


@torch.no_grad()
def conservative_references(target: AutoEncoder, x_fit: Tensor, x_eval: Tensor, H: int) -> dict[str, float]:
    """How well three reference fields reproduce ``target`` on the held-out points ``x_eval``
    (relative errors as in :func:`relative_field_error`), all linear: r(x) ≈ a + M (x − m) with m
    the mean of ``x_fit``, a the mean of r there, and M one of

    * ``linear``: the average Jacobian J̄ (:func:`average_jacobian`) — how linear the target is;
    * ``symmetric``: S = (J̄ + J̄ᵀ)/2 — a conservative field (the gradient of a quadratic), the
      target's conservative part when the target is linear (its antisymmetric part is the rest);
    * ``tied_floor``: S with its negative eigenvalues set to 0 and only its H largest kept — the best
      linear field whose Jacobian is positive semi-definite of rank ≤ H, which is what a tied
      sigmoid auto-encoder's Jacobian W diag(σ′) Wᵀ always is.

    Also returns ``negative_share``: the share of ‖S‖²_F in negative eigenvalues.
    """
    t = copy.deepcopy(target).double()
    xf, xe = x_fit.double(), x_eval.double()
    m = xf.mean(dim=0)
    a = t(xf).mean(dim=0)
    J = average_jacobian(t, xf)
    S = 0.5 * (J + J.T)
    ev, V = torch.linalg.eigh(S)
    keep = torch.zeros_like(ev, dtype=torch.bool)
    keep[torch.argsort(ev, descending=True)[:int(H)]] = True
    P = (V * torch.where(keep, ev.clamp_min(0.0), torch.zeros_like(ev))) @ V.T
    out = {}
    for name, M in (("linear", J), ("symmetric", S), ("tied_floor", P)):
        out[name] = relative_field_error(lambda x, M=M: a + (x - m) @ M.T, t, xe)
    out["negative_share"] = float((ev.clamp_max(0.0) ** 2).sum() / (ev ** 2).sum().clamp_min(1e-30))
    return out


@torch.no_grad()
def symmetric_part_distance(learned: AutoEncoder, target: AutoEncoder, x_fit: Tensor, x_eval: Tensor) -> float:
    """√(Σ‖r_learned − r_S‖² / Σ‖r_S − mean r_S‖²) on ``x_eval``, with r_S(x) = a + S(x − m) the
    conservative (symmetric) linear part of ``target`` (:func:`conservative_references`): how far
    the learner is from the target's conservative component, relative to that component's
    variation (the −x of both fields cancels). The statistic of the ledger's claim ``alg1``."""
    t = copy.deepcopy(target).double()
    xf, xe = x_fit.double(), x_eval.double()
    m, a = xf.mean(dim=0), t(xf).mean(dim=0)
    J = average_jacobian(t, xf)
    S = 0.5 * (J + J.T)
    l64 = copy.deepcopy(learned).double()
    return math.sqrt(relative_field_error(l64, lambda x: a + (x - m) @ S.T, xe))


def learner_fits(rel_error: float, floor: float, margin: float = FIT_MARGIN) -> bool:
    """The chapter's rule for "the learner fitted its target": held-out relative error ≤ the best
    its model class can reach (``floor``, :func:`conservative_references`) + ``margin``."""
    return bool(math.isfinite(rel_error) and rel_error <= floor + margin)


def plateaued(curve: Sequence[float], tail: float = 0.2, rtol: float = 0.05) -> bool:
    """Whether a per-epoch error curve has levelled off: over its last ``tail`` share of epochs it
    fell by at most ``rtol`` of its value there."""
    c = [float(v) for v in curve]
    if len(c) < 3:
        return False
    k = max(1, int(round(tail * (len(c) - 1))))
    start, end = c[-1 - k], c[-1]
    return bool(start - end <= rtol * abs(start))


def fit_to_field(
    target: AutoEncoder, x: Tensor, *, tied: bool, H: int, activation: str, epochs: int, batch_size: int,
    lr: float, seed: int, x_eval: Tensor | None = None, checkpoint: Path | None = None,
    device: str = "auto", progress: bool = True, desc: str = "fit field",
) -> tuple[AutoEncoder, training.History]:
    """Train a fresh auto-encoder so that its field r(x) − x reproduces ``target``'s at the points x
    (Algorithm 1, step 6; the paper's learner is tied, ``tied=False`` is the chapter's extra).

    The loss is the trainer's ‖r(x) − (x + F(x))‖², the squared distance between the two fields at
    x. The output bias c starts at the mean target (the constant part of the field, which any
    learner matches in its first steps anyway). With ``x_eval`` each epoch also records
    ``rel_error``, :func:`relative_field_error` on those held-out points.
    """
    target = copy.deepcopy(target).cpu().float()
    model = AutoEncoder(x.shape[1], H, activation=activation, tied=tied, seed=seed)
    targets = field_targets(target, x)
    with torch.no_grad():
        model.c.copy_(targets.mean(dim=0))
    metrics: Callable[[AutoEncoder], dict[str, float]] | None = None
    if x_eval is not None:
        with torch.no_grad():
            t_eval = target(x_eval)
            scale = float(_variation(t_eval))

        def metrics(m: AutoEncoder) -> dict[str, float]:
            dev = next(m.parameters()).device
            out = m(x_eval.to(dev)).cpu()
            return {"rel_error": float(((out - t_eval) ** 2).sum()) / scale}

    hist = training.fit(model, x, targets, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, metrics=metrics,
                        device=device, progress=progress, desc=desc, checkpoint=checkpoint)
    return model.cpu(), hist


# ------------------------------------------------------------------------------ corruptions
def salt_and_pepper(x: Tensor, level: float, seed: int) -> Tensor:
    """x̃: each pixel, with probability ``level``, replaced by 0 or 1 (equally likely) — the
    corruption the paper's text names."""
    if not 0.0 <= level <= 1.0:
        raise ValueError(f"corruption_level must be in [0, 1]; got {level!r}.")
    g = torch.Generator().manual_seed(int(seed))
    hit = torch.rand(x.shape, generator=g) < level
    value = (torch.rand(x.shape, generator=g) < 0.5).to(x.dtype)
    return torch.where(hit, value, x)


def ink(x: Tensor) -> float:
    """The mean pixel intensity of a set of images (for MNIST in [0, 1], about 0.13)."""
    return float(x.double().mean())


def binomial_images(shape: Sequence[int], p: float, seed: int, dtype: torch.dtype = torch.float64) -> Tensor:
    """x̃ ~ Binomial of Algorithm 1, step 8, read as binary images of independent Bernoulli(p)
    pixels (Binomial(1, p) per pixel), drawn independently of the clean images."""
    if not (isinstance(p, (int, float)) and 0.0 <= p <= 1.0):
        raise ValueError(f"the pixel probability p must be in [0, 1]; got {p!r}.")
    g = torch.Generator().manual_seed(int(seed))
    return (torch.rand(tuple(shape), generator=g, dtype=torch.float64) < p).to(dtype)


def permute_pixels(x: Tensor, seed: int) -> Tensor:
    """Each image's pixels in an independent random order: the same norm and the same intensity
    histogram, none of the spatial structure of a digit."""
    g = torch.Generator().manual_seed(int(seed))
    idx = torch.argsort(torch.rand(x.shape, generator=g), dim=1)
    return torch.gather(x, 1, idx)


def rescale_to_norm(x_tilde: Tensor, x: Tensor) -> Tensor:
    """x̃ scaled, image by image, to the Euclidean norm of x."""
    n_t = x_tilde.norm(dim=1, keepdim=True)
    return x_tilde * (x.norm(dim=1, keepdim=True) / n_t.clamp_min(1e-30))


def corrupt(x: Tensor, kind: str, level: float, seed: int, p: float | None = None) -> Tensor:
    """The corrupted images x̃ for one of :data:`CORRUPTIONS` (``p``: the pixel probability of
    ``binomial``, by default the mean intensity of x)."""
    if kind == "salt_and_pepper":
        return salt_and_pepper(x, level, seed)
    if kind == "binomial":
        return binomial_images(x.shape, ink(x) if p is None else p, seed, x.dtype)
    if kind == "permuted":
        return permute_pixels(x, seed)
    if kind == "salt_and_pepper_same_norm":
        return rescale_to_norm(salt_and_pepper(x, level, seed), x)
    raise ValueError(f"corruption must be one of {', '.join(CORRUPTIONS)}; got {kind!r}.")


# ------------------------------------------------------------------------------ energies
def quadratic_energy(x: Tensor, c: Tensor | None = None) -> Tensor:
    """The trivial energy −½‖x − c‖² (the last term of eq. 3 alone; c = 0 by default)."""
    return -0.5 * ((x - (0 if c is None else c)) ** 2).sum(dim=1)


def segment_integral(model: AutoEncoder, a: Tensor, b: Tensor, n_nodes: int = 64,
                     chunk_elements: int = 2**23) -> Tensor:
    """∫ (r(y) − y) · dy along the straight segments a → b (each N × D), one value per row.

    For a conservative field this is E(b) − E(a) (eq. 2). Along y(t) = a + t(b − a) the
    pre-activation W^T y + b is affine in t, so the exact field values at every Gauss–Legendre node
    cost no extra matrix products: with δ = b − a, u(t) = u(a) + t W^T δ and
    F(y(t)) · δ = h(u(t)) · (R^T δ) + c · δ − (a + tδ) · δ.
    Rows are processed in chunks of at most ``chunk_elements`` hidden values (memory).
    """
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"a and b must be N × D batches of one shape; got {tuple(a.shape)} and {tuple(b.shape)}.")
    t, w = np.polynomial.legendre.leggauss(int(n_nodes))
    t = torch.as_tensor((t + 1) / 2, dtype=a.dtype)
    w = torch.as_tensor(w / 2, dtype=a.dtype)
    chunk = max(1, int(chunk_elements // (int(n_nodes) * model.H)))
    out = []
    with torch.no_grad():
        for i in range(0, len(a), chunk):
            ai, bi = a[i:i + chunk], b[i:i + chunk]
            delta = bi - ai
            u_a = model.preactivation(ai)                      # n × H
            du = delta @ model.W                               # n × H
            v = delta @ model.R                                # n × H  (R^T δ per row)
            h = model.activation(u_a[:, None, :] + t[None, :, None] * du[:, None, :])  # n × nodes × H
            hidden_part = ((h * v[:, None, :]).sum(dim=2) * w).sum(dim=1)
            linear_part = delta @ model.c - (ai * delta).sum(dim=1) - 0.5 * (delta ** 2).sum(dim=1)
            out.append(hidden_part + linear_part)
    return torch.cat(out)


def energy_difference(model: AutoEncoder, x: Tensor, x_tilde: Tensor, n_nodes: int = 64) -> Tensor:
    """E(x) − E(x̃) per image pair.

    Models with a closed-form energy (tied, or R = W diag(λ)) use eq. (3)–(4) through
    :func:`conservae_lib.energy.potential`; any other model uses :func:`segment_integral` from x̃ to
    x, a path-dependent quantity when the field is not conservative.
    """
    with torch.no_grad():
        if energy.decoder_scales(model) is not None:
            return energy.potential(model, x) - energy.potential(model, x_tilde)
        return segment_integral(model, x_tilde, x, n_nodes)


def path_dependence_ratio(model: AutoEncoder, x: Tensor, x_tilde: Tensor, n_nodes: int = 64) -> float:
    """mean |∫_{x̃→x} − ∫_{x̃→0→x}| / mean |∫_{x̃→x}|: how much the "energy difference" of a field
    changes when the path goes through the origin. 0 (to quadrature error) for a conservative field."""
    direct = segment_integral(model, x_tilde, x, n_nodes)
    zero = torch.zeros_like(x)
    detour = segment_integral(model, x_tilde, zero, n_nodes) + segment_integral(model, zero, x, n_nodes)
    return float((direct - detour).abs().mean() / direct.abs().mean().clamp_min(1e-30))


def fraction_higher(delta: Tensor, scale: Tensor | None = None, rtol: float = 1e-9) -> float:
    """The fraction of pairs with E(x) > E(x̃), from δ = E(x) − E(x̃); exact ties (|δ| ≤ rtol·scale,
    e.g. −½‖x‖² under a pixel permutation) count one half, as a coin flip would."""
    delta = torch.as_tensor(delta, dtype=torch.float64)
    tol = rtol * (torch.ones_like(delta) if scale is None else torch.as_tensor(scale, dtype=torch.float64).abs())
    tie = delta.abs() <= tol
    return float(((delta > tol).double() + 0.5 * tie.double()).mean())


# ------------------------------------------------------------------------------ one repetition
def run_directory(cfg: Mapping[str, Any], root: Path) -> Path:
    """``root/run-<digest>``: checkpoints of one parameter set (all but ``device``, ``cpu_threads``,
    ``workers`` and ``seeds``), so a re-run with the same parameters resumes and a run with other
    parameters never reads foreign checkpoints. Each seed's runs live in their own ``seed<n>/``
    folder and depend on no other seed, so adding or dropping seeds reuses the others."""
    key = {k: v for k, v in cfg.items() if k not in ("device", "profile", "chapter", "cpu_threads", "workers", "seeds")}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:12]
    path = Path(root) / f"run-{digest}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _beta_tag(beta: float) -> str:
    return f"{beta:g}"


def _ckpt(run_dir: Path | None, seed: int, name: str) -> Path | None:
    return None if run_dir is None else Path(run_dir) / f"seed{seed}" / f"{name}.pt"


def _setting(cfg: Mapping[str, Any], x_train: Tensor, seed: int, run_dir: Path | None, progress: bool):
    """The models and points one repetition shares: θ_K of both rows, θ_0, the field points and
    the held-out points (trained models come from their checkpoints when these exist)."""
    D, H, act = x_train.shape[1], int(cfg["H"]), str(cfg["activation"])
    cvf = {}
    for row in CVF_ROWS:
        cvf[row] = train_mnist_autoencoder(
            x_train, H, act, tied=(row == "tied"), epochs=int(cfg["mnist_epochs"]), batch_size=int(cfg["batch_size"]),
            lr=float(cfg["lr"]), seed=derive_seed(seed, "cvf", row), checkpoint=_ckpt(run_dir, seed, f"cvf_{row}"),
            device=cfg["device"], progress=progress)
    random = random_untied_autoencoder(D, H, act, derive_seed(seed, "random"))
    x_field = sample_uniform_points(int(cfg["n_field_points"]), D, derive_seed(seed, "uniform"))
    x_eval = sample_uniform_points(int(cfg["n_eval_points"]), D, derive_seed(seed, "uniform-eval"))
    return cvf, random, x_field, x_eval


def _learner(cfg: Mapping[str, Any], target: AutoEncoder, x_field: Tensor, x_eval: Tensor, seed: int, row: str,
             learner: str, beta: float, run_dir: Path | None, progress: bool) -> tuple[AutoEncoder, training.History]:
    tag = f"cvf_{row}_beta{_beta_tag(beta)}_{learner}"
    return fit_to_field(
        target, x_field, tied=(learner == "tied"), H=int(cfg["H"]), activation=str(cfg["activation"]),
        epochs=int(cfg["field_epochs"]), batch_size=int(cfg["field_batch_size"]), lr=float(cfg["field_lr"]),
        seed=derive_seed(seed, tag), x_eval=x_eval, checkpoint=_ckpt(run_dir, seed, tag), device=cfg["device"],
        progress=progress, desc=f"CVF {row}, β={beta:g}, {learner} learner")


def _learner_job(cfg: Mapping[str, Any], x_train: Tensor, seed: int, row: str, learner: str, beta: float,
                 run_dir: str) -> None:
    """One learner in a worker process; its result reaches the parent through its checkpoint."""
    cvf, random, x_field, x_eval = _setting(cfg, x_train, seed, Path(run_dir), progress=False)
    target = interpolate_parameters(cvf[row][0], random, beta)
    _learner(cfg, target, x_field, x_eval, seed, row, learner, beta, Path(run_dir), progress=False)


def _mnist_job(cfg: Mapping[str, Any], x_train: Tensor, seed: int, row: str, run_dir: str) -> None:
    """One MNIST model θ_K in a worker process, into its checkpoint."""
    train_mnist_autoencoder(
        x_train, int(cfg["H"]), str(cfg["activation"]), tied=(row == "tied"), epochs=int(cfg["mnist_epochs"]),
        batch_size=int(cfg["batch_size"]), lr=float(cfg["lr"]), seed=derive_seed(seed, "cvf", row),
        checkpoint=_ckpt(Path(run_dir), seed, f"cvf_{row}"), device=cfg["device"], progress=False)


def _pool_initializer(threads: int) -> None:
    torch.set_num_threads(threads)


def train_learners_in_pool(cfg: Mapping[str, Any], x_train: Tensor, run_dir: Path, workers: int,
                           progress: bool = True) -> None:
    """Train every learner of every seed in a pool of ``workers`` processes (one torch thread
    each, or ``cpu_threads // workers``) into its checkpoint; :func:`run_seed` then reads them
    back. The MNIST models are trained first (all of them, before any learner), so that no two
    workers write one checkpoint. Several small single-threaded trainings use a CPU's cores better than one
    trained with all threads."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    seeds = [int(s) for s in cfg["seeds"]]
    jobs = [(s, row, learner, float(b)) for s in seeds for row in CVF_ROWS for learner in LEARNERS[row]
            for b in cfg["betas"]]
    threads = max(1, int(cfg.get("cpu_threads") or torch.get_num_threads()) // workers)
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=multiprocessing.get_context("spawn"),
                             initializer=_pool_initializer, initargs=(threads,)) as pool:
        # first the MNIST models (every learner of a seed needs them), then the learners
        stages: list[tuple[str, Callable[[], list]]] = [
            ("MNIST models", lambda: [pool.submit(_mnist_job, dict(cfg), x_train, s, row, str(run_dir))
                                      for s in seeds for row in CVF_ROWS]),
            ("learners", lambda: [pool.submit(_learner_job, dict(cfg), x_train, s, row, learner, b, str(run_dir))
                                  for s, row, learner, b in jobs])]
        for stage, submit in stages:
            futures = submit()
            done = as_completed(futures)
            if progress:
                from tqdm.auto import tqdm

                done = tqdm(done, total=len(futures), desc=f"{stage} ({workers} processes)", leave=False)
            for fut in done:
                fut.result()  # re-raise a worker's error here


def _fractions(delta_of: Callable[[Tensor], Tensor], corrupted: Mapping[str, Tensor]) -> dict[str, float]:
    return {k: fraction_higher(delta_of(xc)) for k, xc in corrupted.items()}


def _quadratic_fractions(xt: Tensor, corrupted: Mapping[str, Tensor], c: Tensor | None) -> dict[str, float]:
    out = {}
    for k, xc in corrupted.items():
        e_x, e_c = quadratic_energy(xt, c), quadratic_energy(xc, c)
        out[k] = fraction_higher(e_x - e_c, e_x.abs() + e_c.abs())
    return out


def _learner_entry(learned: AutoEncoder, hist: training.History, target64: AutoEncoder, x_field: Tensor,
                   x_eval: Tensor, xt: Tensor, corrupted: Mapping[str, Tensor], nodes: int, floor: float) -> dict[str, Any]:
    l64 = copy.deepcopy(learned).double()
    rel_curve = [float(v) for v in hist.column("rel_error")]
    with torch.no_grad():
        entry: dict[str, Any] = {
            "loss_curve": [float(v) for v in hist.column("loss")],
            "rel_error_curve": rel_curve,
            "final_loss": float(hist.last("loss")),
            "rel_error_uniform": relative_field_error(l64, target64, x_eval.double()),
            "rel_error_mnist": relative_field_error(l64, target64, xt),
            "floor": floor,
            "plateaued": plateaued(rel_curve),
            "symmetric_part_distance": symmetric_part_distance(l64, target64, x_field, x_eval),
            "fraction": _fractions(lambda xc: energy_difference(l64, xt, xc, nodes), corrupted),
            "closed_form_energy": energy.decoder_scales(l64) is not None,
        }
        entry["fits"] = learner_fits(entry["rel_error_uniform"], floor)
        if learned.tied:
            entry["quadratic_term"] = _quadratic_fractions(xt, corrupted, l64.c)
            # the closed form (eq. 4) and the line integral must agree for a conservative model
            cf = energy_difference(l64, xt, corrupted["salt_and_pepper"], nodes)
            li = segment_integral(l64, corrupted["salt_and_pepper"], xt, nodes)
            entry["quadrature_error"] = float((cf - li).abs().max() / cf.abs().max().clamp_min(1e-30))
        else:
            entry["symmetricity_mnist"] = float(fields.jacobian_symmetricity(l64, xt).mean())
            entry["path_dependence"] = path_dependence_ratio(l64, xt, corrupted["salt_and_pepper"], nodes)
    return entry


def run_seed(
    cfg: Mapping[str, Any], x_train: Tensor, x_test: Tensor, seed: int, run_dir: Path | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Algorithm 1 for one repetition ``seed``: both rows of Table 2, every β of ``cfg.betas``.

    ``cfg`` needs: H, activation, betas, mnist_epochs, batch_size, lr (the MNIST models),
    field_epochs, field_batch_size, field_lr, n_field_points, n_eval_points (the learners),
    corruption_level, quadrature_nodes, device. Training runs checkpoint into ``run_dir/seed<seed>/``
    when ``run_dir`` is given (re-running resumes). Returns plain numbers: per row and β the target's
    Jacobian symmetricity, the reference errors (:func:`conservative_references`), and for each
    learner its curves, errors, fit and energy fractions per corruption.
    """
    from tqdm.auto import tqdm

    H, nodes = int(cfg["H"]), int(cfg["quadrature_nodes"])
    cvf, random, x_field, x_eval = _setting(cfg, x_train, seed, run_dir, progress)

    # Evaluation in float64 (ties and small differences are then meaningful).
    xt = x_test.double()
    p = ink(x_train)
    corrupted = {k: corrupt(xt, k, float(cfg["corruption_level"]), derive_seed(seed, "corrupt", k), p=p)
                 for k in CORRUPTIONS}
    x_mean = x_train.double().mean(dim=0)
    trivial = {"-½‖x‖²": _quadratic_fractions(xt, corrupted, None), "-½‖x − x̄‖²": _quadratic_fractions(xt, corrupted, x_mean)}

    out: dict[str, Any] = {"seed": int(seed), "binomial_p": p, "trivial": trivial, "cvf": {}}
    betas = [float(b) for b in cfg["betas"]]
    for row in CVF_ROWS:
        model_k, hist_k = cvf[row]
        rows = []
        bar = tqdm(betas, desc=f"seed {seed}, CVF {row}: β", leave=False) if progress else betas
        for beta in bar:
            target = interpolate_parameters(model_k, random, beta)
            target64 = copy.deepcopy(target).double()
            with torch.no_grad():
                xe64 = x_eval.double()
                refs = conservative_references(target64, x_field, x_eval, H)
                entry: dict[str, Any] = {
                    "beta": beta,
                    "target_symmetricity": float(fields.jacobian_symmetricity(target64, xe64).mean()),
                    "target_variation": float(_variation(target64(xe64))) / len(xe64),
                    "references": refs,
                    "target_fraction": _fractions(lambda xc: energy_difference(target64, xt, xc, nodes), corrupted),
                    "target_path_dependence": path_dependence_ratio(target64, xt, corrupted["salt_and_pepper"], nodes),
                    "learners": {},
                }
            for learner in LEARNERS[row]:
                learned, hist = _learner(cfg, target, x_field, x_eval, seed, row, learner, beta, run_dir, progress)
                floor = refs["tied_floor"] if learner == "tied" else refs["linear"]
                entry["learners"][learner] = _learner_entry(learned, hist, target64, x_field, x_eval, xt, corrupted,
                                                            nodes, floor)
            rows.append(entry)
        out["cvf"][row] = {"mnist_final_loss": float(hist_k.last("loss")),
                           "mnist_loss_curve": [float(v) for v in hist_k.column("loss")], "rows": rows}
    return out


def run_experiment(cfg: Mapping[str, Any], x_train: Tensor, x_test: Tensor, run_dir: Path | None = None,
                   progress: bool = True) -> list[dict[str, Any]]:
    """:func:`run_seed` for every seed of ``cfg.seeds``. With ``cfg.workers`` > 1, a checkpoint
    folder and a CPU device, the learners are first trained in a pool of processes
    (:func:`train_learners_in_pool`) and then read back from their checkpoints."""
    import warnings

    from .runtime import select_device

    seeds = [int(s) for s in cfg["seeds"]]
    workers = int(cfg.get("workers") or 1)
    with warnings.catch_warnings():
        # tqdm.auto warns once that ipywidgets is missing; the bars fall back to text (or are
        # silenced by TQDM_DISABLE=1), so the warning is only noise on the page.
        warnings.filterwarnings("ignore", message=".*IProgress not found.*")
        from tqdm.auto import tqdm

        if workers > 1 and run_dir is not None and select_device(cfg["device"]).type == "cpu":
            train_learners_in_pool(cfg, x_train, Path(run_dir), workers, progress)
        return [run_seed(cfg, x_train, x_test, s, run_dir, progress)
                for s in (tqdm(seeds, desc="seeds") if progress else seeds)]


# ------------------------------------------------------------------------------ aggregation
def _stats(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for one value)."""
    a = np.asarray(values, dtype=float)
    return float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else 0.0


def _get(entry: Mapping[str, Any], path: str) -> Any:
    for part in path.split("/"):
        entry = entry[part]
    return entry


def seed_values(runs: Sequence[Mapping[str, Any]], row: str, path: str) -> dict[float, list[Any]]:
    """Per β, one value per seed of ``path`` (e.g. ``"learners/tied/fraction/binomial"``,
    ``"references/tied_floor"``) in Table 2's row ``row``."""
    out: dict[float, list[Any]] = {}
    for i, entry in enumerate(runs[0]["cvf"][row]["rows"]):
        out[entry["beta"]] = [_get(run["cvf"][row]["rows"][i], path) for run in runs]
    return out


def _paths(entry: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Every numeric leaf below ``entry`` (curves excluded), as "a/b/c" paths."""
    out = []
    for k, v in entry.items():
        p = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out += _paths(v, p + "/")
        elif isinstance(v, (int, float)) and k != "beta":
            out.append(p)
    return out


def summarize(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Means and standard deviations over seeds of every per-β number, organised as
    ``{"betas": [...], "<row>:<path>": {β: (mean, sd)}}`` with ``path`` as in :func:`seed_values`
    (booleans such as ``learners/tied/fits`` become the share of seeds)."""
    betas = [r["beta"] for r in runs[0]["cvf"][CVF_ROWS[0]]["rows"]]
    out: dict[str, Any] = {"betas": betas, "n_seeds": len(runs), "binomial_p": _stats([r["binomial_p"] for r in runs])}
    for row in CVF_ROWS:
        for path in _paths(runs[0]["cvf"][row]["rows"][0]):
            vals = seed_values(runs, row, path)
            out[f"{row}:{path}"] = {b: _stats([float(v) for v in vs]) for b, vs in vals.items()}
        out[f"{row}:mnist_final_loss"] = _stats([r["cvf"][row]["mnist_final_loss"] for r in runs])
    out["trivial"] = {name: {k: _stats([run["trivial"][name][k] for run in runs]) for k in CORRUPTIONS}
                      for name in runs[0]["trivial"]}
    return out


# ------------------------------------------------------------------------------ tables and Figure 5
def fmt_stat(stat: Sequence[float], digits: int = 4) -> str:
    """A (mean, sd) pair of :func:`summarize` as "m ± s" with ``digits`` decimals."""
    m, s = stat[0], stat[1]
    return f"{m:.{digits}f} ± {s:.{digits}f}"


_pm = fmt_stat


_ROW_LABEL = {"tied": "CVF = Tied AE", "untied": "CVF = Untied AE"}
_CORRUPTION_LABEL = {"salt_and_pepper": "salt & pepper", "binomial": "binomial", "permuted": "pixels permuted",
                     "salt_and_pepper_same_norm": "salt & pepper, same norm"}


def _paper(row: str, beta: float) -> float | None:
    from . import ledger

    cid = f"table2.{row}.b{beta:.1f}"
    return ledger.CLAIMS[cid].paper if cid in ledger.CLAIMS else None


def table2(summary: Mapping[str, Any]):
    """Table 2 side by side: per row (how F_K was trained), the paper's fractions E(x) > E(x̃) and
    ours (tied learner, mean ± sd over seeds) under both readings of x̃, and how many seeds'
    learners fitted; one column per β; a DataFrame of strings."""
    import pandas as pd

    n = summary["n_seeds"]
    rows = {}
    for row in CVF_ROWS:
        label = _ROW_LABEL[row]
        paper = [_paper(row, b) for b in summary["betas"]]
        rows[(label, "paper")] = ["—" if p is None else f"{p:.4f}" for p in paper]
        for k in READINGS:
            rows[(label, f"ours, {_CORRUPTION_LABEL[k]}")] = [
                _pm(summary[f"{row}:learners/tied/fraction/{k}"][b]) for b in summary["betas"]]
        rows[(label, "learner fitted (seeds)")] = [
            f"{round(summary[f'{row}:learners/tied/fits'][b][0] * n)} of {n}" for b in summary["betas"]]
    df = pd.DataFrame(rows, index=[f"β = {b:.1f}" for b in summary["betas"]]).T
    df.index.names = ["row", ""]
    return df


def fit_table(summary: Mapping[str, Any]):
    """What the learners learned, per row and β: the target's Jacobian symmetricity; the held-out
    relative error of the best linear, conservative (symmetric) linear and positive semi-definite
    fields (:func:`conservative_references`); each learner's held-out relative error, its distance
    to the target's symmetric part and its relative error at the MNIST test images (far from the
    uniform points it was trained on); how many seeds fitted and levelled off."""
    import pandas as pd

    n = summary["n_seeds"]
    records = []
    for row in CVF_ROWS:
        for b in summary["betas"]:
            g = lambda path: summary[f"{row}:{path}"][b]  # noqa: E731
            rec = {
                "CVF": row, "β": f"{b:.1f}",
                "sym(∂r_β/∂x)": _pm(g("target_symmetricity"), 3),
                "best linear": _pm(g("references/linear"), 3),
                "best conservative (symmetric)": _pm(g("references/symmetric"), 3),
                "tied floor (PSD)": _pm(g("references/tied_floor"), 3),
                "tied learner": _pm(g("learners/tied/rel_error_uniform"), 3),
                "tied: fits / levelled": f"{round(g('learners/tied/fits')[0] * n)} / {round(g('learners/tied/plateaued')[0] * n)} of {n}",
                "tied: distance to symmetric part": _pm(g("learners/tied/symmetric_part_distance"), 3),
                "tied: error at MNIST test images": _pm(g("learners/tied/rel_error_mnist"), 3),
            }
            if f"{row}:learners/untied/rel_error_uniform" in summary:
                rec["untied learner (extra)"] = _pm(g("learners/untied/rel_error_uniform"), 3)
                rec["untied: fits / levelled"] = (f"{round(g('learners/untied/fits')[0] * n)} / "
                                                  f"{round(g('learners/untied/plateaued')[0] * n)} of {n}")
            else:
                rec["untied learner (extra)"] = rec["untied: fits / levelled"] = "—"
            records.append(rec)
    return pd.DataFrame(records).set_index(["CVF", "β"])


def controls_table(summary: Mapping[str, Any], row: str = "tied"):
    """Fraction E(x) > E(x̃) for every energy (rows) and corruption (columns) at each β of one
    Table 2 row, plus the trivial energies, as a DataFrame of strings (mean ± sd over seeds)."""
    import pandas as pd

    records = []
    for name, stats in summary["trivial"].items():
        records.append({"energy": f"trivial {name}", "β": "—", **{_CORRUPTION_LABEL[k]: _pm(stats[k], 3) for k in CORRUPTIONS}})
    labels = [("target_fraction", "target field r_β − x (line integral)"),
              ("learners/tied/fraction", "tied learner (eq. 4)"),
              ("learners/tied/quadratic_term", "its term −½‖x − c‖² alone"),
              ("learners/untied/fraction", "untied learner, line integral (extra)")]
    for b in summary["betas"]:
        for path, label in labels:
            if f"{row}:{path}/{CORRUPTIONS[0]}" not in summary:
                continue
            records.append({"energy": label, "β": f"{b:.1f}",
                            **{_CORRUPTION_LABEL[k]: _pm(summary[f"{row}:{path}/{k}"][b], 3) for k in CORRUPTIONS}})
    return pd.DataFrame(records).set_index(["energy", "β"])


def learning_curves(runs: Sequence[Mapping[str, Any]], row: str, learner: str,
                    key: str = "loss_curve") -> dict[float, tuple[np.ndarray, np.ndarray]]:
    """Per β, the mean and sd over seeds of a learner's per-epoch curve (epoch 0 = before training)."""
    out = {}
    for b, curves in seed_values(runs, row, f"learners/{learner}/{key}").items():
        a = np.array(curves, dtype=float)
        out[b] = (a.mean(axis=0), a.std(axis=0, ddof=1) if len(a) > 1 else np.zeros(a.shape[1]))
    return out


def plot_learning_curves(runs: Sequence[Mapping[str, Any]]):
    """Figure 5: learning curves of the learners for every β — the training loss ‖r(x) − r_β(x)‖²
    (left, the paper's quantity) and the held-out relative error (right, comparable across β) —
    tied learners dashed (row CVF = Tied AE) and dotted (row CVF = Untied AE), the untied learner
    (extra, row CVF = Tied AE) solid. Means over seeds with ±1 sd bands."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4))
    betas = [r["beta"] for r in runs[0]["cvf"]["tied"]["rows"]]
    colors = dict(zip(betas, plt.cm.viridis(np.linspace(0, 0.9, len(betas)))))
    styles = [("tied", "tied", "--"), ("untied", "tied", ":"), ("tied", "untied", "-")]
    for ax, key, ylabel in ((axes[0], "loss_curve", "training loss ‖r(x) − r_β(x)‖²"),
                            (axes[1], "rel_error_curve", "held-out relative error")):
        for row, learner, style in styles:
            for beta, (m, s) in learning_curves(runs, row, learner, key).items():
                ep = np.arange(1, len(m)) if key == "loss_curve" else np.arange(len(m))
                m, s = (m[1:], s[1:]) if key == "loss_curve" else (m, s)
                ax.plot(ep, m, style, color=colors[beta],
                        label=f"β = {beta:.1f}" if (row, learner) == ("tied", "tied") else None)
                ax.fill_between(ep, m - s, m + s, color=colors[beta], alpha=0.12, lw=0)
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
    axes[0].legend(title="tied learner: CVF tied (dashed), CVF untied (dotted);\nuntied learner (solid)",
                   fontsize=8, title_fontsize=8)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------ numbers for the ledger
def _not_fitted(runs: Sequence[Mapping[str, Any]], row: str, betas: Sequence[float]) -> str | None:
    """The reason why a claim on the tied learners of ``row`` at ``betas`` cannot be judged, or None
    when every seed's learner fitted (:func:`learner_fits`)."""
    bad = []
    for b in betas:
        for run, err, floor, fits in zip(runs, *(seed_values(runs, row, f"learners/tied/{q}")[b]
                                                  for q in ("rel_error_uniform", "floor", "fits"))):
            if not fits:
                bad.append(f"β = {b:.1f}, seed {run['seed']}: {err:.3f} > {floor:.3f} + {FIT_MARGIN}")
    if not bad:
        return None
    return "the learner did not fit (held-out relative error above the tied floor + margin: " + "; ".join(bad[:3]) + \
        (f"; {len(bad) - 3} more" if len(bad) > 3 else "") + ")"


def _beta(runs: Sequence[Mapping[str, Any]], row: str, beta: float) -> float:
    for entry in runs[0]["cvf"][row]["rows"]:
        if abs(entry["beta"] - beta) < 1e-9:
            return entry["beta"]
    raise ValueError(f"β = {beta} was not run; the run has β in {[e['beta'] for e in runs[0]['cvf'][row]['rows']]}.")


def table2_cell(runs: Sequence[Mapping[str, Any]], row: str, beta: float, corruption: str = "salt_and_pepper") -> dict[str, Any]:
    """What the chapter hands to ``ledger.judge`` for one Table 2 cell: ``values`` (the tied
    learner's fraction E(x) > E(x̃), one per seed), ``control`` (the same fraction for the learned
    energy's own quadratic term −½‖x − c‖² alone, which knows nothing of how the field varies) and
    ``not_tested`` (a reason when a seed's learner did not fit, else None)."""
    b = _beta(runs, row, beta)
    return {"values": seed_values(runs, row, f"learners/tied/fraction/{corruption}")[b],
            "control": seed_values(runs, row, f"learners/tied/quadratic_term/{corruption}")[b],
            "not_tested": _not_fitted(runs, row, [b])}


def _curves(runs: Sequence[Mapping[str, Any]], row: str, path: str, betas: Sequence[float]) -> list[list[float]]:
    vals = seed_values(runs, row, path)
    return [[float(vals[b][i]) for b in betas] for i in range(len(runs))]


def trend_values(runs: Sequence[Mapping[str, Any]], corruption: str = "salt_and_pepper", row: str = "tied") -> dict[str, Any]:
    """For ``table2.trend``: one curve per seed of the tied learner's fraction over β, the control
    curves of its quadratic term, the axis, and ``not_tested`` as in :func:`table2_cell`."""
    betas = [e["beta"] for e in runs[0]["cvf"][row]["rows"]]
    return {"values": _curves(runs, row, f"learners/tied/fraction/{corruption}", betas),
            "control": _curves(runs, row, f"learners/tied/quadratic_term/{corruption}", betas),
            "axis": betas, "not_tested": _not_fitted(runs, row, betas)}


def below_one_values(runs: Sequence[Mapping[str, Any]], corruption: str = "salt_and_pepper", row: str = "tied") -> dict[str, Any]:
    """For ``table2.below-1``: one boolean per β < 1 and seed — fraction at β < fraction at β = 1 —
    for the tied learner and (control) for its quadratic term; ``not_tested`` as above."""
    betas = [e["beta"] for e in runs[0]["cvf"][row]["rows"]]
    top = _beta(runs, row, 1.0)

    def bools(path: str) -> list[bool]:
        v = seed_values(runs, row, path)
        return [bool(v[b][i] < v[top][i]) for b in betas if b < top for i in range(len(runs))]

    return {"values": bools(f"learners/tied/fraction/{corruption}"),
            "control": bools(f"learners/tied/quadratic_term/{corruption}"),
            "n_seeds": len(runs), "not_tested": _not_fitted(runs, row, betas)}


def fig5_values(runs: Sequence[Mapping[str, Any]], row: str = "tied", learner: str = "tied") -> dict[str, Any]:
    """For ``fig5``: one curve per seed of a learner's final training loss over β, and the axis."""
    betas = [e["beta"] for e in runs[0]["cvf"][row]["rows"]]
    return {"values": _curves(runs, row, f"learners/{learner}/final_loss", betas), "axis": betas}


def alg1_values(runs: Sequence[Mapping[str, Any]], row: str = "tied") -> dict[str, Any]:
    """For ``alg1``: per seed, the tied learner's distance to the target's symmetric part
    (:func:`symmetric_part_distance`) averaged over β."""
    betas = [e["beta"] for e in runs[0]["cvf"][row]["rows"]]
    return {"values": [float(np.mean(c)) for c in _curves(runs, row, "learners/tied/symmetric_part_distance", betas)]}


def claim_inputs(runs: Sequence[Mapping[str, Any]], table_section: str = "sec-alg1-table2",
                 learned_section: str = "sec-alg1-learned", fig_section: str = "sec-alg1-fig5") -> list[dict[str, Any]]:
    """Everything chapter 07 hands to :func:`conservae_lib.ledger.judge`, one dict of keyword
    arguments per judgement (``id``, ``values``, and where they apply ``control``, ``not_tested``,
    ``axis``, ``n_seeds``, ``reading``, ``section``): every Table 2 cell of both rows under both
    readings of x̃ (:data:`READINGS`), the trend and "below 1" sentences, the "93 %" sentence
    (primary: Table 2's β = 0.4, the formula's β = 0.6; reading ``table-beta``: Table 2's β = 0.6),
    Figure 5 and Algorithm 1 (primary: row CVF = Tied AE; reading ``cvf-untied``)."""
    from . import ledger

    out: list[dict[str, Any]] = []
    for corruption, reading in READINGS.items():
        for row in CVF_ROWS:
            for entry in runs[0]["cvf"][row]["rows"]:
                b = entry["beta"]
                if f"table2.{row}.b{b:.1f}" not in ledger.CLAIMS:  # a β that Table 2 does not report
                    continue
                out.append({"id": f"table2.{row}.b{b:.1f}", **table2_cell(runs, row, b, corruption),
                            "reading": reading, "section": table_section})
        out.append({"id": "table2.trend", **trend_values(runs, corruption), "reading": reading, "section": table_section})
        out.append({"id": "table2.below-1", **below_one_values(runs, corruption), "reading": reading,
                    "section": table_section})
        out.append({"id": "recover-93", **table2_cell(runs, "tied", 0.4, corruption), "reading": reading,
                    "section": table_section})
    out.append({"id": "recover-93", **table2_cell(runs, "tied", 0.6), "reading": "table-beta", "section": table_section})
    for row, reading in (("tied", None), ("untied", "cvf-untied")):
        out.append({"id": "fig5", **fig5_values(runs, row), "reading": reading, "section": fig_section})
        out.append({"id": "alg1", **alg1_values(runs, row), "reading": reading, "section": learned_section})
    return out


def reading_gaps(summary: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """Per reading of x̃ (:data:`READINGS`) and row, the mean |ours − paper| over Table 2's cells
    (tied learner, mean over seeds), and ``"both rows"``: which reading comes closer to the
    paper's numbers."""
    out: dict[str, dict[str, float]] = {}
    for k in READINGS:
        gaps = {}
        for row in CVF_ROWS:
            d = [abs(summary[f"{row}:learners/tied/fraction/{k}"][b][0] - p)
                 for b in summary["betas"] if (p := _paper(row, b)) is not None]
            gaps[row] = float(np.mean(d))
        gaps["both rows"] = float(np.mean([gaps[r] for r in CVF_ROWS]))
        out[k] = gaps
    return out
