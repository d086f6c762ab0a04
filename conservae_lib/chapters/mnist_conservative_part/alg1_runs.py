"""Chapter 07's runs: Algorithm 1 over every seed, checkpointed.

:func:`run_experiment` runs every seed (the learners in a pool of processes on CPU,
:func:`train_learners_in_pool`), :func:`run_seed` one repetition with the steps of
:mod:`conservae_lib.chapters.mnist_conservative_part.algorithm1`; every training run checkpoints into :func:`run_directory`, so a
re-run with the same parameters reloads instead of training. The chapter's parameters are declared in
:mod:`conservae_lib.chapters.mnist_conservative_part.parameters`. Chapter: *Algorithm 1 on MNIST* (07_mnist_conservative_part).
"""
from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any, Mapping

import torch

from conservae_lib.core import energy, fields
from conservae_lib.foundations.parameters import Config
from conservae_lib.training import trainer
from conservae_lib.training.pool import run_in_processes, threads_per_worker
from conservae_lib.training.progress import progress_bar
from .algorithm1 import (LEARNERS, derive_seed, fit_to_field, interpolate_parameters, random_untied_autoencoder, sample_uniform_points, train_mnist_autoencoder)
from .corruption import CORRUPTIONS, corrupt, ink
from .field_fit import (conservative_part_distances, learner_fits, plateaued, references_at, relative_field_error,
                        variation)
from conservae_lib.core.models import AutoEncoder
from .table2 import (CVF_ROWS, energy_difference, fractions_higher, path_dependence_ratio, quadratic_fractions, segment_integral)

Tensor = torch.Tensor


def run_directory(cfg: Config, root: Path) -> Path:
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


def _setting(cfg: Config, x_train: Tensor, seed: int, run_dir: Path | None, progress: bool):
    """The models and points one repetition shares: θ_K of both rows, θ_0, the field points and
    the held-out points (trained models come from their checkpoints when these exist)."""
    D, H, act = x_train.shape[1], int(cfg.H), str(cfg.activation)
    cvf = {}
    for row in CVF_ROWS:
        cvf[row] = train_mnist_autoencoder(
            x_train, H, act, tied=(row == "tied"), epochs=int(cfg.mnist_epochs), batch_size=int(cfg.batch_size),
            lr=float(cfg.lr), seed=derive_seed(seed, "cvf", row), checkpoint=_ckpt(run_dir, seed, f"cvf_{row}"),
            device=cfg.device, progress=progress)
    random = random_untied_autoencoder(D, H, act, derive_seed(seed, "random"))
    x_field = sample_uniform_points(int(cfg.n_field_points), D, derive_seed(seed, "uniform"))
    x_eval = sample_uniform_points(int(cfg.n_eval_points), D, derive_seed(seed, "uniform-eval"))
    return cvf, random, x_field, x_eval


def _learner(cfg: Config, target: AutoEncoder, x_field: Tensor, x_eval: Tensor, seed: int, row: str,
             learner: str, beta: float, run_dir: Path | None, progress: bool) -> tuple[AutoEncoder, trainer.History]:
    tag = f"cvf_{row}_beta{_beta_tag(beta)}_{learner}"
    return fit_to_field(
        target, x_field, tied=(learner == "tied"), H=int(cfg.H), activation=str(cfg.activation),
        epochs=int(cfg.field_epochs), batch_size=int(cfg.field_batch_size), lr=float(cfg.field_lr),
        seed=derive_seed(seed, tag), x_eval=x_eval, checkpoint=_ckpt(run_dir, seed, tag), device=cfg.device,
        progress=progress, desc=f"CVF {row}, β={beta:g}, {learner} learner")


def _learner_job(cfg: Config, x_train: Tensor, seed: int, row: str, learner: str, beta: float,
                 run_dir: str) -> None:
    """One learner in a worker process; its result reaches the parent through its checkpoint."""
    cvf, random, x_field, x_eval = _setting(cfg, x_train, seed, Path(run_dir), progress=False)
    target = interpolate_parameters(cvf[row][0], random, beta)
    _learner(cfg, target, x_field, x_eval, seed, row, learner, beta, Path(run_dir), progress=False)


def _mnist_job(cfg: Config, x_train: Tensor, seed: int, row: str, run_dir: str) -> None:
    """One MNIST model θ_K in a worker process, into its checkpoint."""
    train_mnist_autoencoder(
        x_train, int(cfg.H), str(cfg.activation), tied=(row == "tied"), epochs=int(cfg.mnist_epochs),
        batch_size=int(cfg.batch_size), lr=float(cfg.lr), seed=derive_seed(seed, "cvf", row),
        checkpoint=_ckpt(Path(run_dir), seed, f"cvf_{row}"), device=cfg.device, progress=False)


def train_learners_in_pool(cfg: Config, x_train: Tensor, run_dir: Path, workers: int, progress: bool = True) -> None:
    """Train every learner of every seed in a pool of ``workers`` processes
    (:func:`conservae_lib.training.pool.run_in_processes`, ``cpu_threads // workers`` torch threads each) into its
    checkpoint; :func:`run_seed` then reads them back. The MNIST models are trained first (all of them, before any
    learner), so that no two workers write one checkpoint. Several small single-threaded trainings use a CPU's
    cores better than one trained with all threads."""
    seeds = [int(s) for s in cfg.seeds]
    threads = threads_per_worker(workers, cfg.cpu_threads)
    mnist = [(cfg, x_train, s, row, str(run_dir)) for s in seeds for row in CVF_ROWS]
    learners = [(cfg, x_train, s, row, learner, float(b), str(run_dir)) for s in seeds for row in CVF_ROWS
                for learner in LEARNERS[row] for b in cfg.betas]
    # first the MNIST models (every learner of a seed needs them), then the learners
    run_in_processes(_mnist_job, mnist, workers, threads, progress, "MNIST models")
    run_in_processes(_learner_job, learners, workers, threads, progress, "learners")


def _learner_entry(learned: AutoEncoder, hist: trainer.History, target64: AutoEncoder, x_field: Tensor,
                   x_eval: Tensor, xt: Tensor, corrupted: Mapping[str, Tensor], nodes: int,
                   floors: Mapping[str, Any], H: int) -> dict[str, Any]:
    """What one learner learned (:mod:`conservae_lib.chapters.mnist_conservative_part.field_fit`: errors and fit on
    the cube, at the MNIST test images and at their corrupted copies — where Table 2 scores the energy — and its
    distances to the target's conservative part) and its Table 2 fractions per corruption
    (:mod:`conservae_lib.chapters.mnist_conservative_part.table2`), evaluated in float64. ``floors``: the best its
    model class can reach on the cube (``uniform``), at the digits (``mnist``) and per corruption."""
    l64 = copy.deepcopy(learned).double()
    rel_curve = [float(v) for v in hist.column("rel_error")]
    with torch.no_grad():
        entry: dict[str, Any] = {
            "loss_curve": [float(v) for v in hist.column("loss")],
            "rel_error_curve": rel_curve,
            "final_loss": float(hist.last("loss")),
            "rel_error_uniform": relative_field_error(l64, target64, x_eval.double()),
            "rel_error_mnist": relative_field_error(l64, target64, xt),
            "rel_error_corrupted": {k: relative_field_error(l64, target64, xc) for k, xc in corrupted.items()},
            "floor": floors["uniform"],
            "floor_mnist": floors["mnist"],
            "floor_corrupted": dict(floors["corrupted"]),
            "plateaued": plateaued(rel_curve),
            "conservative_part_distance": conservative_part_distances(l64, target64, x_field, x_eval, H),
            "fraction": fractions_higher(lambda xc: energy_difference(l64, xt, xc, nodes), corrupted),
            "closed_form_energy": energy.decoder_scales(l64) is not None,
        }
        entry["fits"] = learner_fits(entry["rel_error_uniform"], floors["uniform"])
        entry["fits_mnist"] = learner_fits(entry["rel_error_mnist"], floors["mnist"])
        entry["fits_corrupted"] = {k: learner_fits(e, floors["corrupted"][k]) for k, e in entry["rel_error_corrupted"].items()}
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
    cfg: Config, x_train: Tensor, x_test: Tensor, seed: int, run_dir: Path | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Algorithm 1 for one repetition ``seed``: both rows of Table 2, every β of ``cfg.betas``.

    ``cfg`` needs: H, activation, betas, mnist_epochs, batch_size, lr (the MNIST models),
    field_epochs, field_batch_size, field_lr, n_field_points, n_eval_points (the learners),
    corruption_level, quadrature_nodes, device. Training runs checkpoint into ``run_dir/seed<seed>/``
    when ``run_dir`` is given (re-running resumes). Returns plain numbers: per row and β the target's
    Jacobian symmetricity, the reference errors (:func:`references_at`: on the cube, at the digits and at their
    corrupted copies), and for each
    learner its curves, errors, fit and energy fractions per corruption.
    """
    H, nodes = int(cfg.H), int(cfg.quadrature_nodes)
    cvf, random, x_field, x_eval = _setting(cfg, x_train, seed, run_dir, progress)

    # Evaluation in float64 (ties and small differences are then meaningful).
    xt = x_test.double()
    p = ink(x_train)
    corrupted = {k: corrupt(xt, k, float(cfg.corruption_level), derive_seed(seed, "corrupt", k), p=p)
                 for k in CORRUPTIONS}
    x_mean = x_train.double().mean(dim=0)
    trivial = {"-½‖x‖²": quadratic_fractions(xt, corrupted, None), "-½‖x − x̄‖²": quadratic_fractions(xt, corrupted, x_mean)}

    out: dict[str, Any] = {"seed": int(seed), "binomial_p": p, "trivial": trivial, "cvf": {}}
    betas = [float(b) for b in cfg.betas]
    for row in CVF_ROWS:
        model_k, hist_k = cvf[row]
        rows = []
        for beta in progress_bar(betas, f"seed {seed}, CVF {row}: β", progress):
            target = interpolate_parameters(model_k, random, beta)
            target64 = copy.deepcopy(target).double()
            with torch.no_grad():
                xe64 = x_eval.double()
                at = references_at(target64, x_field, {"uniform": x_eval, "mnist": xt, **corrupted}, H)
                refs = at["uniform"]
                entry: dict[str, Any] = {
                    "beta": beta,
                    "target_symmetricity": float(fields.jacobian_symmetricity(target64, xe64).mean()),
                    "target_variation": float(variation(target64(xe64))) / len(xe64),
                    "references": refs,
                    "references_mnist": at["mnist"],
                    "references_corrupted": {k: at[k] for k in corrupted},
                    "target_fraction": fractions_higher(lambda xc: energy_difference(target64, xt, xc, nodes), corrupted),
                    "target_path_dependence": path_dependence_ratio(target64, xt, corrupted["salt_and_pepper"], nodes),
                    "learners": {},
                }
            for learner in LEARNERS[row]:
                learned, hist = _learner(cfg, target, x_field, x_eval, seed, row, learner, beta, run_dir, progress)
                ref = "tied_floor" if learner == "tied" else "linear"
                floors = {"uniform": refs[ref], "mnist": at["mnist"][ref], "corrupted": {k: at[k][ref] for k in corrupted}}
                entry["learners"][learner] = _learner_entry(learned, hist, target64, x_field, x_eval, xt, corrupted,
                                                            nodes, floors, H)
            rows.append(entry)
        out["cvf"][row] = {"mnist_final_loss": float(hist_k.last("loss")),
                           "mnist_loss_curve": [float(v) for v in hist_k.column("loss")], "rows": rows}
    return out


def run_experiment(cfg: Config, x_train: Tensor, x_test: Tensor, run_dir: Path | None = None,
                   progress: bool = True) -> list[dict[str, Any]]:
    """:func:`run_seed` for every seed of ``cfg.seeds``. With ``cfg.workers`` > 1, a checkpoint
    folder and a CPU device, the learners are first trained in a pool of processes
    (:func:`train_learners_in_pool`) and then read back from their checkpoints."""
    import warnings

    from conservae_lib.training.runtime import select_device

    seeds = [int(s) for s in cfg.seeds]
    workers = int(cfg.workers)
    with warnings.catch_warnings():
        # tqdm.auto warns once, when the first bar below imports it, that ipywidgets is missing; the
        # bars fall back to text (or are silenced by TQDM_DISABLE=1), so the warning is only noise on the page.
        warnings.filterwarnings("ignore", message=".*IProgress not found.*")
        if workers > 1 and run_dir is not None and select_device(cfg.device).type == "cpu":
            train_learners_in_pool(cfg, x_train, Path(run_dir), workers, progress)
        return [run_seed(cfg, x_train, x_test, s, run_dir, progress)
                for s in progress_bar(seeds, "seeds", progress, leave=True)]
