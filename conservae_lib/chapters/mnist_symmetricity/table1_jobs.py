"""The runs a profile of chapter 04 asks for: the settings of each Table 1 cell and reading, as job lists.

From the chapter's configuration (``PARAMETERS.resolve(...)``, declared in :mod:`.parameters`, its only defaults): the base
:class:`~conservae_lib.chapters.mnist_symmetricity.empirical.Settings`, the optimiser readings, ε of eq. (10) per optimiser and CAE
cell (:func:`cell_settings`), the second CAE reading (Rifai's λ‖∂h/∂x‖²_F), the sensitivity runs, the data, and
the data-set check (some cells once more on other data, :func:`load_check_data`); :func:`train_table1` trains
them all, for the chapter and for the command line ``python -m conservae_lib pretrain PROFILE``
(:mod:`conservae_lib.tooling.cli`).
Chapter: *Empirical conservativeness on MNIST* (``notebooks/04_mnist_symmetricity.md``).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from conservae_lib.data.mnist import MNIST
from conservae_lib.foundations.limits import DATA_SIZES
from conservae_lib.foundations.parameters import Config
from .empirical import GRID, RunResult, RunSpec, Settings, train_runs
from .ingredients import reading_decay, weight_decay_jobs
from .readings import choose_epsilon, epsilon_jobs, lead_reading, primary_readings, reading_summary

__all__ = ["OPTIMIZER_LABELS", "settings_from", "cell_settings", "grid_jobs", "optimizer_settings", "by_optimizer",
           "rifai_jobs", "seeds_from", "variations_from", "sensitivity_jobs", "load_data", "Table1Runs", "train_table1",
           "adopted_readings",
           "load_check_data", "data_check_jobs", "UNCHOSEN_CAE_WEIGHT"]

#: How the book names the optimisers (``training.OPTIMIZERS``).
OPTIMIZER_LABELS: dict[str, str] = {"adam": "Adam", "sgd": "SGD, momentum 0.9", "sgd_plain": "plain SGD",
                                    "lbfgs": "L-BFGS"}


#: The CAE weight of the base settings, before ε is chosen: no run trains with it (an AE has no penalty, and
#: every CAE run gets its own ε, :func:`cell_settings`, or λ, :func:`rifai_jobs`); it is what the base settings
#: record in the chapter's summary, so it stays the value the published summaries hold.
UNCHOSEN_CAE_WEIGHT: float = 0.1


def settings_from(cfg: Config) -> Settings:
    """The base :class:`Settings` of a chapter configuration
    (:data:`~conservae_lib.chapters.mnist_symmetricity.parameters.PARAMETERS`), with eq. (10) as the CAE
    penalty and the first optimiser reading; :func:`optimizer_settings` gives each reading its own optimiser
    and learning rate, :func:`cell_settings` each CAE cell its ε once
    :func:`~conservae_lib.chapters.mnist_symmetricity.readings.choose_epsilon` has chosen it. Refuses, naming the parameter,
    values that cannot work together."""
    cells = {s.key for s in GRID}
    unknown = [k for k in cfg.data_check_cells if k not in cells]
    if unknown:
        raise ValueError(f"parameter 'data_check_cells' names {unknown[0]!r}, which is not a Table 1 cell; the cells "
                         f"are {', '.join(s.key for s in GRID)}.")
    sizes = DATA_SIZES.get(cfg.data_check_source)
    if sizes is not None and cfg.data_check_n_train > sizes[0]:
        raise ValueError(f"parameter 'data_check_n_train' got {cfg.data_check_n_train!r}, but it must be at most "
                         f"{sizes[0]}, the number of training images of data_check_source {cfg.data_check_source!r}.")
    for name, value in (("eps_epochs", cfg.eps_epochs), ("sens_epochs", cfg.sens_epochs)):
        if value > cfg.epochs:
            raise ValueError(f"parameter {name!r} got {value!r}, but it must be at most epochs ({cfg.epochs}), "
                             "since its runs are compared with the main runs at that epoch.")
    if len(cfg.optimizers) != len(cfg.lrs) or not cfg.optimizers:
        raise ValueError(f"parameters 'optimizers' and 'lrs' must be non-empty and of one length; got "
                         f"{len(cfg.optimizers)} and {len(cfg.lrs)}.")
    return Settings(H=cfg.H, epochs=cfg.epochs, batch_size=cfg.batch_size, lr=float(cfg.lrs[0]),
                    optimizer=cfg.optimizers[0], cae_weight=UNCHOSEN_CAE_WEIGHT, alpha=float(cfg.alpha),
                    n_eval=cfg.n_eval, metrics_every=cfg.metrics_every, checkpoint_every=cfg.checkpoint_every,
                    device=cfg.device, contraction="eq10", weight_decay=0.0)  # the paper states none


def cell_settings(settings: Settings, spec: RunSpec, eps: Mapping[str, float] | None = None) -> Settings:
    """The settings of one cell: ``settings`` for an AE, with the cell's ε of eq. (10) for a CAE."""
    if spec.model == "AE":
        return settings
    if eps is None or spec.key not in eps:
        raise ValueError(f"cell {spec.key} needs its ε (choose_epsilon) before it can be trained.")
    return replace(settings, contraction="eq10", cae_weight=float(eps[spec.key]))


def grid_jobs(settings: Settings, seeds: Sequence[int], model: str | None = None,
              eps: Mapping[str, float] | None = None) -> list[tuple[RunSpec, Settings, int]]:
    """(configuration, settings, seed) for the Table 1 cells of ``model`` (None: all), seed-major."""
    return [(s, cell_settings(settings, s, eps), seed) for seed in seeds for s in GRID if model in (None, s.model)]


def optimizer_settings(settings: Settings, cfg: Config) -> dict[str, Settings]:
    """The optimiser readings of the chapter: name (the optimiser's) → its settings, from the
    profile's ``optimizers`` and ``lrs``; everything else as in ``settings``."""
    if len(set(cfg.optimizers)) != len(cfg.optimizers):
        raise ValueError(f"parameter 'optimizers' names an optimiser twice: {cfg.optimizers!r}.")
    return {o: replace(settings, optimizer=o, lr=float(lr)) for o, lr in zip(cfg.optimizers, cfg.lrs)}


def by_optimizer(runs: Iterable[RunResult]) -> dict[str, list[RunResult]]:
    """Runs grouped by their optimiser, in Table 1's order within each group."""
    out: dict[str, list[RunResult]] = {}
    for r in runs:
        out.setdefault(r.settings.optimizer, []).append(r)
    order = [g.key for g in GRID]
    return {k: sorted(v, key=lambda r: (order.index(r.spec.key), r.seed)) for k, v in out.items()}


def rifai_jobs(settings: Settings, weight: float, seed: int) -> list[tuple[RunSpec, Settings, int]]:
    """The CAE cells under the second reading, Rifai's λ‖∂h/∂x‖²_F with λ = ``weight`` (one seed)."""
    rifai = replace(settings, contraction="rifai", cae_weight=float(weight))
    return [(s, rifai, seed) for s in GRID if s.model == "CAE"]


def seeds_from(cfg: Config) -> list[int]:
    """``n_seeds`` consecutive seeds starting at ``seed``."""
    return [cfg.seed + i for i in range(cfg.n_seeds)]


def variations_from(cfg: Config, lr: float) -> list[tuple[str, str, Any]]:
    """The one-at-a-time changes of the sensitivity table: learning rate ``lr`` × each of
    ``sens_lr_factor`` (AE, sigmoid and ReLU), batch size (AE sigmoid) and α (AE sigmoid+wl and
    ReLU+wl); ε has its own table."""
    out: list[tuple[str, str, Any]] = []
    out += [(k, "lr", float(lr * f)) for f in cfg.sens_lr_factor for k in ("AE.sigmoid", "AE.relu")]
    out += [("AE.sigmoid", "batch_size", int(v)) for v in cfg.sens_batch_size]
    out += [(k, "alpha", float(v)) for v in cfg.sens_alpha for k in ("AE.sigmoid_wl", "AE.relu_wl")]
    return out


def sensitivity_jobs(settings: Settings, cfg: Config) -> list[tuple[RunSpec, Settings, int]]:
    """The runs behind :func:`sensitivity` (trained in the same pool as the others)."""
    specs = {s.key: s for s in GRID}
    short = replace(settings, epochs=cfg.sens_epochs)
    return [(specs[k], replace(short, **{name: v}), cfg.seed) for k, name, v in variations_from(cfg, settings.lr)]


def load_data(cfg: Config) -> MNIST:
    """MNIST as the chapter's ``data_source`` / ``data_root`` / ``n_train`` / ``n_test`` ask."""
    from conservae_lib.data.mnist import load_mnist

    return load_mnist(cfg.data_source, cfg.data_root, seed=cfg.seed, n_train=cfg.n_train, n_test=cfg.n_test)


@dataclass
class Table1Runs:
    """Every run chapter 04 trains under a profile, and what the blind rules decided from them.

    ``eps``: per optimiser reading, ε of eq. (10) per CAE cell (the ε rule applied under that optimiser);
    ``eps_rows``: one row per short ε run (with its ``optimizer``); ``seed0``: per optimiser, its first-seed
    runs of the eight cells; ``summaries``: their :func:`~conservae_lib.chapters.mnist_symmetricity.readings.reading_summary`;
    ``coprimary``: the primary reading(s) (:func:`~conservae_lib.chapters.mnist_symmetricity.readings.primary_readings`);
    ``lead``: the co-primary that trains the single-reading extras
    (:func:`~conservae_lib.chapters.mnist_symmetricity.readings.lead_reading`); ``runs``: per co-primary, every seed of the eight
    cells in Table 1's order; ``rifai``: the CAE cells under Rifai's penalty (lead, first seed); ``check_data``,
    ``check_runs``: the data-set check (lead, first seed; None and [] when there is none); ``decay_runs``: the
    weight-decay study (:mod:`~conservae_lib.chapters.mnist_symmetricity.ingredients`; lead, first seed); ``every``:
    every run on the chapter's own data, each once; ``readings``: each optimiser reading's settings."""

    eps: dict[str, dict[str, float]]
    eps_rows: list[dict[str, Any]]
    eps_runs: list[RunResult]
    seed0: dict[str, list[RunResult]]
    summaries: dict[str, dict[str, Any]]
    coprimary: list[str]
    lead: str
    runs: dict[str, list[RunResult]]
    rifai: list[RunResult]
    check_data: MNIST | None
    check_runs: list[RunResult]
    decay_runs: list[RunResult]
    decay_lambda: float | None
    decay_reading: list[RunResult]
    every: list[RunResult] = field(repr=False)
    readings: dict[str, Settings] = field(default_factory=dict, repr=False)

    @property
    def other_readings(self) -> dict[str, list[RunResult]]:
        """The readings that are not co-primary: other optimisers and Rifai's penalty (one seed), and the lead under
    the weight decay of :func:`~conservae_lib.chapters.mnist_symmetricity.ingredients.reading_decay` (every seed)."""
        return {**{o: rs for o, rs in self.seed0.items() if o not in self.coprimary}, "rifai": self.rifai,
                **({f"weight decay {self.decay_lambda:g}": self.decay_reading} if self.decay_reading else {})}


def adopted_readings(cfg: Config) -> dict[str, Any] | None:
    """With ``readings_from`` set, the readings that profile's published run of the chapter chose by its blind
    rules (``results/<profile>/mnist_symmetricity/summary.json`` of the repository): the primary optimiser(s),
    the lead and each one's learning rate (ε is chosen again, by its rule on the data of the run that adopts them);
    None otherwise."""
    if cfg.readings_from is None:
        return None
    from conservae_lib.foundations.files import REPO_ROOT, load_json

    path = REPO_ROOT / "results" / cfg.readings_from / "mnist_symmetricity" / "summary.json"
    if not path.is_file():
        raise ValueError(f"parameter 'readings_from' names profile {cfg.readings_from!r}, but {path} does not exist; "
                         f"run the chapter under that profile first.")
    s = load_json(path)
    return {"primary": list(s["primary_optimizers"]), "lead": s["lead_optimizer"],
            "lrs": {o: float(s["settings"][o]["lr"]) for o in s["primary_optimizers"]}}


def _choose_readings(cfg: Config, by_opt: Mapping[str, Settings], train: Any) -> tuple[Any, ...]:
    """Stages 1–2 of :func:`train_table1`: ε per optimiser by its rule, then the primary reading(s) and the lead."""
    ae_jobs = [j for st in by_opt.values() for j in grid_jobs(st, [cfg.seed], "AE")]
    eps_jobs = [j for st in by_opt.values() for j in epsilon_jobs(st, cfg.eps_grid, cfg.eps_epochs, cfg.seed)]
    trained = train(ae_jobs + eps_jobs)
    ae_runs, eps_runs = trained[: len(ae_jobs)], trained[len(ae_jobs):]
    ae_by, eps_by = by_optimizer(ae_runs), by_optimizer(eps_runs)
    eps, eps_rows = {}, []
    for o in by_opt:
        eps[o], rows = choose_epsilon(ae_by[o], eps_by[o], cfg.eps_epochs, cfg.eps_tolerance)
        eps_rows += [{"optimizer": o, **row} for row in rows]
    cae_runs = train([j for o, st in by_opt.items() for j in grid_jobs(st, [cfg.seed], "CAE", eps[o])])
    seed0 = by_optimizer(ae_runs + cae_runs)
    summaries = {o: reading_summary(seed0[o]) for o in by_opt}
    coprimary = primary_readings(summaries)
    return eps, eps_rows, eps_runs, seed0, summaries, coprimary, lead_reading(seed0, coprimary), ae_runs + cae_runs


def train_table1(cfg: Config, data: MNIST, checkpoint_dir: str | Path | None, progress: bool = True,
                 workers: int = 1, runs_dir: str | Path | None = None, budget_s: float | None = None) -> Table1Runs:
    """Train what chapter 04 needs, in five stages (each a pool of ``workers`` processes on a CPU):

    1. the AE cells of every optimiser reading (first seed) and, under every optimiser, the short ε runs;
       then ε of eq. (10) per optimiser and CAE cell by :func:`~conservae_lib.chapters.mnist_symmetricity.readings.choose_epsilon`
       against that optimiser's AEs;
    2. the CAE cells of every optimiser reading (first seed), each with its optimiser's ε; then the primary
       reading(s) by the curves' shape and the lead co-primary by reconstruction error — no number of the paper;
       with ``readings_from`` (:func:`adopted_readings`) only that profile's primary optimiser(s) are trained, and
       the primary reading(s) and lead are that profile's;
    3. the other seeds of every co-primary, and with ``extras`` under the lead the second CAE reading (Rifai's
       penalty) and the sensitivity runs;
    4. with ``extras``, the weight-decay study (lead, first seed, every cell × ``wd_grid``;
       :mod:`~conservae_lib.chapters.mnist_symmetricity.ingredients`), then the other seeds of every cell at the λ
       of :func:`~conservae_lib.chapters.mnist_symmetricity.ingredients.reading_decay` (the weight-decay reading);
    5. the data-set check (an extra; lead, first seed) on :func:`load_check_data`'s data.

    With ``runs_dir`` every run is read from its fresh result file there or trained and its file written
    (:func:`~conservae_lib.chapters.mnist_symmetricity.run_files.train_or_load`, ``budget_s`` seconds at most for
    starting runs).
    """
    import time

    settings = settings_from(cfg)
    adopted = adopted_readings(cfg)
    by_opt = ({o: replace(settings, optimizer=o, lr=lr) for o, lr in adopted["lrs"].items()} if adopted
              else optimizer_settings(settings, cfg))
    deadline = None if budget_s is None else time.monotonic() + budget_s

    def train(jobs: Sequence[tuple[RunSpec, Settings, int]], on: MNIST = data) -> list[RunResult]:
        if runs_dir is None:
            return train_runs(jobs, on, checkpoint_dir, progress=progress, workers=workers)
        from .run_files import train_or_load

        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        folder = Path(runs_dir) if on is data else Path(runs_dir) / "data-check"  # a run's name does not say its data
        return train_or_load(jobs, on, checkpoint_dir, folder, progress=progress, workers=workers, budget_s=left)

    eps, eps_rows, eps_runs, seed0, summaries, coprimary, lead, first = _choose_readings(cfg, by_opt, train)
    if adopted:  # the optimiser(s) were chosen there; ε by its rule on this data, above
        coprimary, lead = adopted["primary"], adopted["lead"]
    more = [j for o in coprimary for j in grid_jobs(by_opt[o], seeds_from(cfg)[1:], eps=eps[o])]
    rifai = rifai_jobs(by_opt[lead], cfg.rifai_weight, cfg.seed) if cfg.extras else []
    trained = train(more + rifai + (sensitivity_jobs(by_opt[lead], cfg) if cfg.extras else []))
    every_seed = by_optimizer(sum((seed0[o] for o in coprimary), []) + trained[: len(more)])
    per_cell = {s.key: cell_settings(by_opt[lead], s, eps[lead]) for s in GRID}
    decay_runs = train(weight_decay_jobs(per_cell, cfg.wd_grid, cfg.seed)) if cfg.extras else []
    lam = reading_decay(decay_runs, seed0[lead], cfg.eps_tolerance) if cfg.extras else None
    decay_more = [] if lam is None else train(
        [(spec, st, seed) for seed in seeds_from(cfg)[1:] for spec, st, _ in weight_decay_jobs(per_cell, [lam], seed)])
    decay_reading = [] if lam is None else [r for r in decay_runs if r.settings.weight_decay == lam] + decay_more
    check_data = load_check_data(cfg, data)
    check_runs = train(data_check_jobs(cfg, by_opt[lead], eps[lead]), check_data) if check_data is not None else []
    return Table1Runs(eps, eps_rows, eps_runs, seed0, summaries, coprimary, lead,
                      {o: every_seed[o] for o in coprimary}, trained[len(more): len(more) + len(rifai)], check_data,
                      check_runs, decay_runs, lam, decay_reading, eps_runs + first + trained + decay_runs + decay_more,
                      dict(by_opt))


def load_check_data(cfg: Config, data: MNIST) -> MNIST | None:
    """The data of the data-set check: ``data_check_n_train`` training images of ``data_check_source``
    (from ``data_check_root``) and the chapter's ``n_test`` held-out images of the same source; None when
    that is the chapter's own data (the ``full`` profile), so there is nothing to compare."""
    if cfg.data_check_source == data.source and cfg.data_check_n_train == len(data.x_train):
        return None
    from conservae_lib.data.mnist import load_mnist

    return load_mnist(cfg.data_check_source, cfg.data_check_root, seed=cfg.seed,
                      n_train=cfg.data_check_n_train, n_test=cfg.n_test)


def data_check_jobs(cfg: Config, psettings: Settings, eps: Mapping[str, float]) -> list[tuple[RunSpec, Settings, int]]:
    """The runs of the data-set check: each of ``data_check_cells`` under the primary settings
    ``psettings`` (a CAE cell with its ε), first seed."""
    specs = {s.key: s for s in GRID}
    return [(specs[k], cell_settings(psettings, specs[k], eps), cfg.seed) for k in cfg.data_check_cells]
