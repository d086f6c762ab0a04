"""Algorithm 1 in high dimension: learning the conservative part of a continuum of MNIST fields.

The paper's section *Extracting the conservative vector field through learning* (Algorithm 1,
Table 2, Figure 5), as its text states it:

1. a conservative field F_K — an auto-encoder (W_K, R_K) trained on MNIST — and a non-conservative
   one — an untied auto-encoder with random parameters (W_0, R_0) (:func:`train_mnist_autoencoder`,
   :func:`random_untied_autoencoder`). Table 2 has two rows: "CVF = Tied AE" (F_K trained as a
   tied auto-encoder) and "CVF = Untied AE" (F_K trained as an untied one) —
   :data:`conservae_lib.table2.CVF_ROWS`;
2. the interpolated models θ_β = β θ_K + (1 − β) θ_0 (:func:`interpolate_parameters`), in Table 2's
   convention (β = 1 is the trained model; Algorithm 1's formula writes the weights the other way
   round, see the errata);
3. for each β, points sampled uniformly in the data space [0, 1]^D (:func:`sample_uniform_points`)
   with the field's values there, and a fresh **tied** auto-encoder trained to reproduce that field
   (Algorithm 1, step 6; :func:`fit_to_field`, targets x + F(x) = r_β(x)) — in both rows; on the
   tied row also an untied learner, an extra (:data:`LEARNERS`);
4. the energy of eq. (3)/(4) of each learned model at MNIST test images x and at corrupted copies x̃
   (:mod:`conservae_lib.corruption`), and the fraction of pairs with E(x) > E(x̃)
   (:mod:`conservae_lib.table2`); how well each learner fitted (:mod:`conservae_lib.field_fit`).

:func:`run_experiment` runs every seed (learners in a pool of processes on CPU,
:func:`train_learners_in_pool`), :func:`run_seed` one repetition; every training run checkpoints
into :func:`run_directory`. The numbers handed to the ledger come from
:mod:`conservae_lib.alg1_claims`, the tables and Figure 5 from :mod:`conservae_lib.alg1_report`.
Chapter: *Algorithm 1 on MNIST* (07_mnist_conservative_part).
"""
from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any, Callable, Mapping

import torch

from . import energy, fields, training
from .corruption import CORRUPTIONS, corrupt, ink
from .field_fit import (conservative_references, learner_fits, plateaued, relative_field_error,
                        symmetric_part_distance, variation)
from .models import AutoEncoder
from .table2 import (CVF_ROWS, energy_difference, fractions_higher, path_dependence_ratio, quadratic_fractions,
                     segment_integral)

Tensor = torch.Tensor

__all__ = [
    "LEARNERS", "derive_seed", "interpolate_parameters", "random_untied_autoencoder", "train_mnist_autoencoder",
    "subsample", "sample_uniform_points", "field_targets", "fit_to_field",
    "run_directory", "run_seed", "train_learners_in_pool", "run_experiment",
]

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


# ------------------------------------------------------------------------------ the learners
@torch.no_grad()
def field_targets(target: AutoEncoder, x: Tensor) -> Tensor:
    """Training targets x + F(x) = r(x) for learning the field F = r − x (Algorithm 1, step 4)."""
    return x + target.cpu().field(x)


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
            scale = float(variation(t_eval))

        def held_out_error(m: AutoEncoder) -> dict[str, float]:
            dev = next(m.parameters()).device
            out = m(x_eval.to(dev)).cpu()
            return {"rel_error": float(((out - t_eval) ** 2).sum()) / scale}

        metrics = held_out_error

    hist = training.fit(model, x, targets, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, metrics=metrics,
                        device=device, progress=progress, desc=desc, checkpoint=checkpoint)
    return model.cpu(), hist


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


def _learner_entry(learned: AutoEncoder, hist: training.History, target64: AutoEncoder, x_field: Tensor,
                   x_eval: Tensor, xt: Tensor, corrupted: Mapping[str, Tensor], nodes: int, floor: float) -> dict[str, Any]:
    """What one learner learned (:mod:`conservae_lib.field_fit`: errors, fit, distance to the
    target's symmetric part) and its Table 2 fractions per corruption (:mod:`conservae_lib.table2`),
    evaluated in float64."""
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
            "fraction": fractions_higher(lambda xc: energy_difference(l64, xt, xc, nodes), corrupted),
            "closed_form_energy": energy.decoder_scales(l64) is not None,
        }
        entry["fits"] = learner_fits(entry["rel_error_uniform"], floor)
        if learned.tied:
            entry["quadratic_term"] = quadratic_fractions(xt, corrupted, l64.c)
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
    trivial = {"-½‖x‖²": quadratic_fractions(xt, corrupted, None), "-½‖x − x̄‖²": quadratic_fractions(xt, corrupted, x_mean)}

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
                    "target_variation": float(variation(target64(xe64))) / len(xe64),
                    "references": refs,
                    "target_fraction": fractions_higher(lambda xc: energy_difference(target64, xt, xc, nodes), corrupted),
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
