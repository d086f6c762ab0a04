"""Chapter 04's tables and printed lines: Table 1 in the paper's layout, the readings, the ε rule,
the weight product, baselines, sensitivity, and where our numbers differ from the paper's.

Every number is a fraction turned into percent here (:func:`pct`) or formatted by
``conservae_lib.presentation.report``; the chapter prints what these functions return, so its text outputs are
fixed by them. Chapter: *Empirical conservativeness on MNIST* (``notebooks/04_mnist_symmetricity.md``).
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from conservae_lib.presentation import report
from conservae_lib.data.mnist import MNIST
from conservae_lib.foundations.parameters import Config
from .empirical import GRID, RunResult, Settings, paper_table1
from .readings import curve_shape
from .table1 import data_check_gaps
from .table1_jobs import OPTIMIZER_LABELS, seeds_from

__all__ = ["pct", "table1_frame", "epsilon_frame", "reconstruction_frame", "reconstruction_text", "primary_text",
           "reading_verdicts_frame", "readings_frame", "optimizer_labels", "data_text", "settings_frame", "epsilon_text",
           "epsilon_span_text", "runs_text", "table1_caption", "full_mnist_frame", "wl_and_cae_text",
           "data_check_frame", "data_check_text", "cae_readings_frame", "fig2_text", "filter_cos_frame",
           "weights_product_frame", "hidden_frame", "baseline_rows", "sensitivity_frame", "differences_text", "claims_frame"]


def pct(x: float | None, digits: int = 1) -> str:
    """A fraction as a percentage with ``digits`` decimals (no % sign); "—" for None or NaN."""
    return "—" if x is None or not math.isfinite(x) else f"{100 * x:.{digits}f}"


def epsilon_frame(rows: Sequence[dict[str, Any]], labels: Mapping[str, str]):
    """The ε runs: per optimiser, CAE cell and ε, reconstruction error against the AE's and sym(∂r/∂x) (percent)."""
    return pd.DataFrame([{"optimiser": labels.get(r["optimizer"], r["optimizer"]), "cell": r["config"],
                          "ε": f"{r['eps']:g}", "rec. error / AE's": f"{r['ratio']:.3f}",
                          "within the bound": "yes" if r["within"] else "no", "sym(∂r/∂x) %": pct(r["sym"]),
                          "chosen": "←" if r["chosen"] else ""} for r in rows]).set_index(["optimiser", "cell", "ε"])


def reconstruction_frame(ratios: Mapping[str, Mapping[str, Mapping[str, float]]], labels: Mapping[str, str],
                         tolerance: float, eps_epochs: int, epochs: int) -> pd.DataFrame:
    """The ε rule checked at the length that produces Table 1: per optimiser and CAE cell (first seed), the
    chosen ε and the CAE/AE ratio of held-out reconstruction errors where the rule bounds it and at the end
    (:func:`conservae_lib.chapters.mnist_symmetricity.readings.reconstruction_ratios`)."""
    bound = 1 + tolerance
    return report.frame([{"optimiser": labels.get(o, o), "cell": k, "ε": f"{v['eps']:g}",
                          f"CAE/AE rec. error, epoch {eps_epochs}": report.fmt(v["at_rule"], 3),
                          f"CAE/AE rec. error, epoch {epochs}": report.fmt(v["final"], 3),
                          f"within {bound:g} at the end": "yes" if v["final"] <= bound else "no"}
                         for o, cells in ratios.items() for k, v in cells.items()]).set_index(["optimiser", "cell"])


def readings_frame(summaries: Mapping[str, dict[str, Any]], labels: Mapping[str, str] | None = None):
    """One column per reading: each Table 1 cell's final sym(∂r/∂x) (percent, one seed) and its
    curve's shape, beside the paper's value; last rows: mean |gap| (shown, never used to choose) and curves
    that plateau (the rule's count)."""
    ref = paper_table1()
    labels = labels or {}
    rows = []
    for spec in GRID:
        row = {"configuration": spec.key}
        for name, sm in summaries.items():
            c = sm["cells"].get(spec.key)
            row[labels.get(name, name)] = "—" if c is None else (
                "degenerate" if c["degenerate"] else f"{pct(c['sym'])} ({c['shape']})")
        row["paper"] = pct(ref[spec.key])
        rows.append(row)
    rows.append({"configuration": "mean |ours − paper| (pp)",
                 **{labels.get(n, n): pct(sm["mean_abs_gap"], 1) for n, sm in summaries.items()}, "paper": ""})
    rows.append({"configuration": "curves that rise and plateau",
                 **{labels.get(n, n): f"{sm['n_plateau']} of {sm['n']}" for n, sm in summaries.items()}, "paper": "8 of 8"})
    return pd.DataFrame(rows).set_index("configuration")


def _cell(s: dict[str, Any] | None, digits: int) -> str:
    if s is None:
        return "—"
    if s.get("degenerate"):
        return "degenerate"
    return report.fmt_mean_sd(s["mean"], s["sd"] if s["n"] > 1 else None, digits, decimals=True, scale=100)


def table1_frame(stats: dict[str, dict[str, Any]], digits: int = 1, paper: bool = True,
                 columns: Mapping[str, dict[str, dict[str, Any]]] | None = None):
    """Table 1 as the paper lays it out (rows AE, CAE), each cell "ours ± sd (paper)" in percent.

    With ``columns`` (a label → stats mapping, e.g. ``{"subset": …, "full MNIST": …}``) the
    table has one row per configuration and one column per data set instead, beside the paper's."""
    ref = paper_table1()
    if columns is not None:
        rows = [{"configuration": spec.key, **{label: _cell(st.get(spec.key), digits) for label, st in columns.items()},
                 "paper": f"{100 * ref[spec.key]:.1f}"} for spec in GRID]
        return pd.DataFrame(rows).set_index("configuration")
    rows: dict[str, dict[str, str]] = {}
    for spec in GRID:
        if spec.key not in stats:
            continue
        cell = _cell(stats[spec.key], digits) + (f" ({100 * ref[spec.key]:.1f})" if paper else "")
        rows.setdefault(spec.model, {})[spec.column] = cell
    return pd.DataFrame.from_dict(rows, orient="index")


# ----------------------------------------------------------------------------- set-up
def optimizer_labels(by_opt: Mapping[str, Settings]) -> dict[str, str]:
    """How the book names each optimiser reading: "Adam (0.001)" (name and learning rate)."""
    return {o: f"{OPTIMIZER_LABELS[o]} ({report.fmt(st.lr, 3)})" for o, st in by_opt.items()}


def data_text(mnist: MNIST, x_eval: Any) -> str:
    """The data set, its split and the number of held-out images the metrics average over."""
    return (f"data: {mnist.description}\n"
            f"source: {mnist.source}; {len(mnist.x_train):,} training images, {len(mnist.x_test):,} held-out images, "
            f"metrics averaged over {len(x_eval):,} of them")


def settings_frame(settings: Settings, labels: Mapping[str, str], cfg: Config) -> pd.DataFrame:
    """The settings the paper leaves open, as chosen (section *Data and training set-up*)."""
    return report.frame([
        {"setting": "hidden units H", "value": str(settings.H)},
        {"setting": "epochs", "value": str(settings.epochs)},
        {"setting": "optimiser readings (learning rate)", "value": "; ".join(labels.values())},
        {"setting": "ε of eq. (10)", "value": "per optimiser and CAE cell, by the rule below"},
        {"setting": "batch size", "value": str(settings.batch_size)},
        {"setting": "CAE penalty (primary)", "value": "ε‖∂r/∂x‖²_F, eq. (10); ε by the rule below"},
        {"setting": "CAE penalty (second reading, one seed)", "value": f"λ‖∂h/∂x‖²_F, λ = {report.fmt(cfg.rifai_weight, 3)}"},
        {"setting": "weight length α", "value": report.fmt(settings.alpha, 3)},
        {"setting": "seeds (each primary reading; the others use the first)", "value": ", ".join(map(str, seeds_from(cfg)))},
        {"setting": "input scaling", "value": "pixels / 255 ∈ [0, 1]"},
    ], index="setting")


# ----------------------------------------------------------------------------- ε of eq. (10), the readings
def epsilon_text(cfg: Config, eps: Mapping[str, Mapping[str, float]], labels: Mapping[str, str]) -> str:
    """The ε rule's grid and bound, and the ε it chose per optimiser and CAE cell."""
    return (f"ε grid {cfg.eps_grid}; bound: reconstruction error ≤ {1 + cfg.eps_tolerance:g} × the AE's of the same "
            f"optimiser after {cfg.eps_epochs} epoch(s), seed {cfg.seed}\n"
            + "\n".join(f"chosen ε, {labels.get(o, o)}: " + ", ".join(f"{k} {v:g}" for k, v in e.items())
                        for o, e in eps.items()))


def epsilon_span_text(rows: Sequence[dict[str, Any]], labels: Mapping[str, str], epochs: int) -> str:
    """How far each CAE cell's sym(∂r/∂x) moves over the ε grid (its sensitivity to ε), per optimiser."""
    lines = [f"over the ε grid, sym(∂r/∂x) after {epochs} epoch(s) spans:"]
    for o in dict.fromkeys(r["optimizer"] for r in rows):
        mine = [r for r in rows if r["optimizer"] == o]
        span = {k: (min(r["sym"] for r in mine if r["config"] == k), max(r["sym"] for r in mine if r["config"] == k))
                for k in dict.fromkeys(r["config"] for r in mine)}
        lines.append(f"  {labels.get(o, o)}: " + "; ".join(f"{k} {100 * lo:.1f}–{100 * hi:.1f} %"
                                                            for k, (lo, hi) in span.items()))
    return "\n".join(lines)


def reconstruction_text(ratios: Mapping[str, Mapping[str, Mapping[str, float]]], labels: Mapping[str, str],
                        tolerance: float, eps_epochs: int, epochs: int) -> str:
    """Whether the ε rule's bound still holds at the length that produces Table 1, per optimiser: in how many CAE
    cells the final CAE/AE reconstruction-error ratio stays within 1 + ``tolerance``, and its range."""
    bound = 1 + tolerance
    lines = [f"the ε rule bounds the CAE/AE reconstruction-error ratio by {bound:g} after {eps_epochs} epoch(s); "
             f"after {epochs} epochs:"]
    for o, cells in ratios.items():
        finals = [v["final"] for v in cells.values()]
        if finals:
            lines.append(f"  {labels.get(o, o)}: within {bound:g} in {sum(f <= bound for f in finals)} of {len(finals)} "
                         f"cells; the ratio ranges from {report.fmt(min(finals), 3)} to {report.fmt(max(finals), 3)}")
    return "\n".join(lines)


def primary_text(summaries: Mapping[str, dict[str, Any]], coprimary: Sequence[str], lead: str,
                 seed0: Mapping[str, Sequence[RunResult]], labels: Mapping[str, str], adopted_from: str | None = None) -> str:
    """What decided the primary reading(s): each reading's count of curves that rise and plateau, the
    co-primary readings the count cannot separate, and the lead among them by held-out reconstruction error;
    with ``adopted_from``, the profile whose run chose them (the counts are then this run's own)."""
    counts = "; ".join(f"{labels.get(o, o)} {sm['n_plateau']} of {sm['n']}" for o, sm in summaries.items())
    names = ", ".join(labels.get(o, o) for o in coprimary)
    if adopted_from:
        return f"primary reading(s) adopted from the {adopted_from!r} profile's run: {names}; here, rise and plateau: {counts}"
    lines = [f"curves that rise and plateau (first seed): {counts}",
             (f"primary reading: {names}" if len(coprimary) == 1 else
              f"co-primary readings (the count cannot separate them): {names}; each gets every seed, and a claim's "
              "primary verdict is the least favourable of theirs")]
    if len(coprimary) > 1:
        errs = {o: [r.final("rec_err") for r in seed0[o] if not r.degenerate] for o in coprimary}
        errs = {o: float(np.mean(e)) if e else math.nan for o, e in errs.items()}
        lines.append("lead for the one-reading extras (lowest mean held-out reconstruction error, first seed): "
                     f"{labels.get(lead, lead)} (" + ", ".join(f"{labels.get(o, o)} {report.fmt(e, 4)}"
                                                               for o, e in errs.items()) + ")")
    return "\n".join(lines)


def runs_text(runs: Mapping[str, Sequence[RunResult]], readings: Mapping[str, Sequence[RunResult]],
              every: Sequence[RunResult], n_seeds: int, epochs: int) -> str:
    """How many runs each reading has, and which are degenerate (with the first reason)."""
    degenerate = [r for r in every if r.degenerate]
    lines = [f"{sum(map(len, runs.values()))} runs of the {len(runs)} primary reading(s): {len(GRID)} configurations × "
             f"{n_seeds} seed(s) each, {epochs} epochs; {sum(map(len, readings.values()))} one-seed runs of the other "
             "readings",
             f"degenerate runs: {len(degenerate)} of {len(every)}"
             + (": " + ", ".join(r.name for r in degenerate) if degenerate else "")]
    if degenerate:
        lines.append("first reason: " + degenerate[0].degenerate)
    return "\n".join(lines)


# ----------------------------------------------------------------------------- Table 1
def table1_caption(n_seeds: int, optimizer_labels: Sequence[str], description: str) -> str:
    """The caption printed above Table 1."""
    return (f"Table 1 — sym(∂r/∂x) in %, mean ± sd over {n_seeds} seed(s), one column per primary reading "
            f"({'; '.join(optimizer_labels)}), CAE with eq. (10), beside the paper's value\ndata: {description}")


def full_mnist_frame(stats: Mapping[str, dict[str, dict[str, Any]]], labels: Mapping[str, str], mnist: MNIST,
                     full: Mapping[str, Any] | None, profile: str = "paper") -> pd.DataFrame | None:
    """Table 1 of each primary reading (``stats``: reading → cell statistics) beside the same table on full
    MNIST (the ``full`` profile's summary, whose ``table1`` maps its primary readings to theirs), when it
    exists; prints what it shows, or why there is nothing beside it (:func:`report.no_full_results`)."""
    if full is not None and isinstance(full.get("table1"), dict):
        print(f"beside it, the same table on full MNIST ({full['data']['description']}):")
        here = f"{mnist.source}, {len(mnist.x_train):,} train"
        return table1_frame({}, columns={**{f"{labels.get(o, o)}, {here}": st for o, st in stats.items()},
                                         **{f"{labels.get(o, o)}, full MNIST": st for o, st in full["table1"].items()}})
    report.no_full_results("mnist_symmetricity", profile, "its column")
    return None


def data_check_frame(stats: dict[str, dict[str, Any]], runs: Sequence[RunResult], check_runs: Sequence[RunResult],
                     data: MNIST, check_data: MNIST | None) -> pd.DataFrame | None:
    """The data-set check as a table: per checked cell, sym(∂r/∂x) in percent on the chapter's data
    (every seed; the check's seed alone) and on the check's data (that seed), the paper's value, and
    the share of the gap that the other data closes (:func:`~conservae_lib.chapters.mnist_symmetricity.table1.data_check_gaps`). Prints why there is
    none when the check's data is the chapter's own."""
    if check_data is None or not check_runs:
        print("no data-set check: the chapter already runs on that data")
        return None
    seed = check_runs[0].seed
    gaps = data_check_gaps(runs, check_runs)
    here, there = f"{len(data.x_train):,}", f"{len(check_data.x_train):,}"
    rows = [{"configuration": k, f"{data.source}, {here} train, every seed": _cell(stats.get(k), 1),
             f"{data.source}, {here} train, seed {seed}": pct(g["ours"]),
             f"{check_data.source}, {there} train, seed {seed}": pct(g["other"]),
             "paper": pct(g["paper"]), "share of the gap closed": pct(g["closed"], 0) + (" %" if math.isfinite(g["closed"]) else "")}
            for k, g in gaps.items()]
    return pd.DataFrame(rows).set_index("configuration")


def data_check_text(gaps: Mapping[str, Mapping[str, float]]) -> str:
    """What the data-set check says, counted from :func:`~conservae_lib.chapters.mnist_symmetricity.table1.data_check_gaps`: how many cells move towards
    the paper on the other data, the range of the share of the gap they close, and how many reach the
    paper's value within 1 pp."""
    ok = {k: g for k, g in gaps.items() if math.isfinite(g["closed"])}
    if not ok:
        return "the data-set check has no cell to compare"
    closer = [k for k, g in ok.items() if g["closed"] > 0]
    shares = [g["closed"] for g in ok.values()]
    reach = [k for k, g in ok.items() if abs(g["other"] - g["paper"]) <= 0.01]
    return (f"on the larger data {len(closer)} of {len(ok)} cells move towards the paper's value "
            f"({', '.join(closer) or 'none'}); the share of the gap closed ranges from {pct(min(shares), 0)} % to "
            f"{pct(max(shares), 0)} %; {len(reach)} of {len(ok)} come within 1 pp of the paper's value")


def wl_and_cae_text(stats: dict[str, dict[str, Any]], label: str) -> str:
    """The paper's two statements about Table 1, on our seed means under one reading: weight length against
    none, CAE against AE (in pp)."""
    pc = {key: 100 * st["mean"] for key, st in stats.items()}  # seed means, in percent
    lines = [label + ":"] + [f"{m}.{a}_wl {pc[f'{m}.{a}_wl']:5.1f} %  vs  {m}.{a} {pc[f'{m}.{a}']:5.1f} %  "
             f"({pc[f'{m}.{a}_wl'] - pc[f'{m}.{a}']:+.1f} pp)" for m in ("AE", "CAE") for a in ("relu", "sigmoid")]
    lines += [f"CAE.{c} − AE.{c}: {pc[f'CAE.{c}'] - pc[f'AE.{c}']:+.1f} pp" for c in ("relu", "relu_wl", "sigmoid", "sigmoid_wl")]
    return "\n".join(lines)


def cae_readings_frame(primary0: Mapping[str, RunResult], rifai: Mapping[str, RunResult],
                       eps: Mapping[str, float]) -> pd.DataFrame:
    """The CAE rows under eq. (10) and under Rifai's penalty (one seed), beside the AE and the paper."""
    ref = paper_table1()
    return report.frame([{"cell": k, "eq. (10) (primary) %": pct(primary0[k].final()),
                          "ε": f"{eps[k]:g}", "Rifai λ‖∂h/∂x‖² %": pct(rifai[k].final()),
                          "AE of the same column %": pct(primary0[k.replace('CAE', 'AE')].final()),
                          "paper %": pct(ref[k])} for k in rifai], index="cell")


# ----------------------------------------------------------------------------- Figures 1–2, weight product
def fig2_text(runs: Sequence[RunResult], stats: Mapping[str, Any]) -> str:
    """What Figure 2's curves do: how many rise by more than 5 pp, the gain over the last tenth of
    training, and each configuration's curve shapes (:func:`conservae_lib.chapters.mnist_symmetricity.readings.curve_shape`)."""
    shapes = {k: [curve_shape(r) for r in runs if r.spec.key == k] for k in stats}
    rise = {k: float(np.mean([s["rise"] for s in v])) for k, v in shapes.items()}
    late = [float(np.mean([s["late_gain"] for s in v])) for v in shapes.values()]
    ok_rise, ok_late = [v for v in rise.values() if np.isfinite(v)], [v for v in late if np.isfinite(v)]
    lines = [f"sym(∂r/∂x) rises by more than 5 pp in {sum(v > 0.05 for v in ok_rise)} of {len(rise)} configurations"
             + (f"; smallest rise {100 * min(ok_rise):.1f} pp, largest {100 * max(ok_rise):.1f} pp" if ok_rise else "")]
    if ok_late:
        lines.append(f"gain over the last tenth of training: {100 * min(ok_late):.2f} to {100 * max(ok_late):.2f} pp")
    lines.append("curve shapes: " + "; ".join(f"{k} {', '.join(sorted({s['shape'] for s in v}))}" for k, v in shapes.items()))
    return "\n".join(lines)


def filter_cos_frame(cos_stats: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Figure 1 in a number: the mean cosine between encoder and decoder filters, before and after."""
    return report.frame([{"configuration": s.key, "at epoch 0": report.fmt(cos_stats[s.key]["initial"], 2),
                          "after training": report.fmt_mean_sd(cos_stats[s.key]["mean"], cos_stats[s.key]["sd"], 3, 2)}
                         for s in GRID], index="configuration")


def weights_product_frame(rw_stats: dict[str, dict[str, Any]], stats: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """sym(RWᵀ) at epoch 0 and after training, beside sym(∂r/∂x) (Figures 2b, 2d)."""
    return report.frame([{"configuration": s.key, "sym(RWᵀ) at epoch 0 %": pct(rw_stats[s.key]["initial"]),
                          "after training %": report.fmt_mean_sd(rw_stats[s.key]["mean"], rw_stats[s.key]["sd"], 1, decimals=True,
                                                                   scale=100, missing="—"),
                          "sym(∂r/∂x) %": pct(stats[s.key]["mean"])} for s in GRID], index="configuration")


def hidden_frame(hidden: Mapping[str, dict[str, Any]], band: tuple[float, float]) -> pd.DataFrame:
    """Prints the sigmoid's high-curvature band; returns per model the share of |u| in it, of u > 0,
    and the spread of h' across units (eq. 15's premise)."""
    print(f"high-curvature band of the sigmoid: {report.fmt(band[0], 3)} ≤ |u| ≤ {report.fmt(band[1], 3)}")
    return report.frame([{"model": k, "fraction of |u| in the band": report.fmt_pct(v["in_band"]) if "in_band" in v else "—",
                          "fraction u > 0": report.fmt_pct(v["active"]),
                          "spread of h' across units (mean CV)": report.fmt(v["hprime_cv"], 3)} for k, v in hidden.items()],
                        index="model")


def baseline_rows(random: Mapping[tuple[str, float | None], np.ndarray], tied_values: Sequence[float]) -> list[dict[str, str]]:
    """The baselines (:func:`conservae_lib.chapters.mnist_symmetricity.table1.baselines`) as rows: mean ± sd over seeds in percent."""
    rows = []
    for (act, a), v in random.items():
        sd = v.std(ddof=1) if len(v) > 1 else 0.0
        rows.append({"model": f"random untied, {act}" + (", wl" if a else ""),
                     "sym(∂r/∂x) %": report.fmt_mean_sd(v.mean(), sd, 1, decimals=True, scale=100)})
    rows.append({"model": "tied (trained encoder, R = W)",
                 "sym(∂r/∂x) %": f"{100 * min(tied_values):.1f}" if tied_values else "— (no usable trained encoder)"})
    return rows


# ----------------------------------------------------------------------------- sensitivity, differences, claims
def sensitivity_frame(sens: Sequence[dict[str, Any]], epochs: int, seed: int) -> pd.DataFrame:
    """Prints the runs' length and seed; returns the one-at-a-time changes against the reference run."""
    print(f"sensitivity after {epochs} epoch(s), seed {seed}")
    return report.frame([{"configuration": r["config"], "setting": r["parameter"],
                          "value (reference)": f"{report.fmt(r['value'], 3)} ({report.fmt(r['base_value'], 3)})",
                          "sym %": pct(r["sym"]), "reference sym %": pct(r["sym_base"]),
                          "change (pp)": f"{100 * (r['sym'] - r['sym_base']):+.1f}"} for r in sens])


def differences_text(stats: Mapping[str, dict[str, dict[str, Any]]], summaries: Mapping[str, dict[str, Any]],
                     labels: Mapping[str, str], sens: Sequence[dict[str, Any]], sens_epochs: int) -> str:
    """Where our numbers differ from the paper's: per primary reading (``stats``: reading → cells) the lowest
    and highest cell against Table 1 and the mean gap, each optimiser's mean |gap| (one seed), and the
    largest sensitivity."""
    ref = paper_table1()
    lines = []
    for o, st in stats.items():
        gaps = {k: 100 * (st[k]["mean"] - ref[k]) for k in st if not st[k]["degenerate"]}
        if gaps:
            lo_key, hi_key = min(gaps, key=gaps.get), max(gaps, key=gaps.get)
            lines.append(f"{labels.get(o, o)}: lowest relative to the paper {lo_key} ({gaps[lo_key]:+.1f} pp); highest "
                         f"{hi_key} ({gaps[hi_key]:+.1f} pp); mean gap over {len(gaps)} cells "
                         f"{np.mean(list(gaps.values())):+.1f} pp")
        else:
            lines.append(f"{labels.get(o, o)}: no cell could be scored (every run is degenerate)")
    lines.append("one seed, mean |gap| per optimiser: " + "; ".join(
        f"{labels[o]} {pct(sm['mean_abs_gap'])} pp" for o, sm in summaries.items()))
    big = max(sens, key=lambda r: abs(r["sym"] - r["sym_base"]), default=None)
    return "\n".join(lines + ([] if big is None else [
        f"largest sensitivity ({sens_epochs} epochs): {big['config']} with {big['parameter']} = {report.fmt(big['value'], 3)} "
        f"instead of {report.fmt(big['base_value'], 3)}: {100 * (big['sym'] - big['sym_base']):+.1f} pp"]))


def reading_verdicts_frame(claims: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Which verdicts change with the reading: one row per claim judged under more than one reading whose
    verdicts differ, one column per reading (the primary record's column is "primary")."""
    table: dict[str, dict[str, str]] = {}
    for c in claims:
        table.setdefault(c["id"], {})[c["reading"] or "primary"] = c["verdict"]
    rows = [{"claim": cid, **v} for cid, v in table.items() if len(set(v.values())) > 1]
    if not rows:
        print("no verdict changes with the reading")
    return pd.DataFrame(rows).set_index("claim").fillna("—") if rows else None


def claims_frame(claims: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """The chapter's ledger records: claim, reading, the paper's value, ours, the verdict."""
    return report.frame([{"claim": c["id"], "reading": c["reading"] or "primary", "paper": report.fmt(c["paper"], 3),
                          "ours": report.fmt(c["ours"], 3), "verdict": c["verdict"]} for c in claims], index="claim")
