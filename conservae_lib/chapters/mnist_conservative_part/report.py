"""Chapter 07's tables and Figure 5, and the numbers its prose quotes (presentation).

Table 2 side by side with the paper (:func:`table2`), what the learners learned
(:func:`fit_table`), every energy under every corruption (:func:`controls_table`), the distance of
each reading of x̃ from the paper (:func:`gap_table`), the final losses (:func:`final_loss_table`)
and Figure 5's learning curves (:func:`plot_learning_curves`), all from the runs and summary of
:mod:`conservae_lib.chapters.mnist_conservative_part.algorithm1` and :mod:`conservae_lib.chapters.mnist_conservative_part.table2`; the numbers the chapter glues into
its text (:func:`fit_count`, :func:`prose_numbers`).
Chapter: *Algorithm 1 on MNIST* (07_mnist_conservative_part).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from conservae_lib.presentation import report
from conservae_lib.presentation.plotting import book_figure, column_figure
from .alg1_claims import paper_fraction, reading_gaps
from .corruption import CORRUPTIONS, READINGS
from .table2 import CVF_ROWS, seed_values

__all__ = ["table2", "gap_table", "fit_table", "where_scored_table", "quadratic_table", "final_loss_table",
           "finding_counts", "full_beta_one",
           "controls_table", "learning_curves",
           "plot_learning_curves", "fit_count", "prose_numbers"]


#: How the chapter labels Table 2's rows and the corruptions.
_ROW_LABEL = {"tied": "CVF = Tied AE", "untied": "CVF = Untied AE"}
_CORRUPTION_LABEL = {"salt_and_pepper": "salt & pepper", "binomial": "binomial", "permuted": "pixels permuted",
                     "salt_and_pepper_same_norm": "salt & pepper, same norm"}


def table2(summary: Mapping[str, Any]):
    """Table 2 side by side: per row (how F_K was trained), the paper's fractions E(x) > E(x̃) and
    ours (tied learner, mean ± sd over seeds) under both readings of x̃, and how many seeds'
    learners fitted on the cube and at the test digits; one column per β; a DataFrame of strings."""
    import pandas as pd

    n = summary["n_seeds"]
    rows = {}
    for row in CVF_ROWS:
        label = _ROW_LABEL[row]
        paper = [paper_fraction(row, b) for b in summary["betas"]]
        rows[(label, "paper")] = ["—" if p is None else f"{p:.4f}" for p in paper]
        for k in READINGS:
            rows[(label, f"ours, {_CORRUPTION_LABEL[k]}")] = [
                report.fmt_mean_sd(*summary[f"{row}:learners/tied/fraction/{k}"][b], 4, decimals=True)
                for b in summary["betas"]]
        digits = summary.get(f"{row}:learners/tied/fits_mnist")  # absent from runs made before it was measured
        rows[(label, "learner fitted: cube / digits (seeds)")] = [
            f"{round(summary[f'{row}:learners/tied/fits'][b][0] * n)} / "
            f"{'not measured' if digits is None else round(digits[b][0] * n)} of {n}" for b in summary["betas"]]
    df = pd.DataFrame(rows, index=[f"β = {b:.1f}" for b in summary["betas"]]).T
    df.index.names = ["row", ""]
    return df


def gap_table(gaps: Mapping[str, Mapping[str, float]]):
    """Per reading of x̃, the mean |ours − paper| over Table 2's cells per row and for both rows
    (:func:`conservae_lib.chapters.mnist_conservative_part.alg1_claims.reading_gaps`), as a DataFrame of strings."""
    return report.frame([{"reading of x̃": k.replace("_", " "), **{r: report.fmt(v, 3) for r, v in g.items()}}
                         for k, g in gaps.items()], index="reading of x̃")


def fit_table(summary: Mapping[str, Any]):
    """What the learners learned, per row and β: the target's Jacobian symmetricity; the held-out
    relative error of the best linear, conservative (symmetric) linear and positive semi-definite
    fields (:func:`conservae_lib.chapters.mnist_conservative_part.field_fit.references_at`); each learner's held-out
    relative error, its distances to the target's conservative part (the part a tied sigmoid auto-encoder can
    represent, and the whole symmetric part); how many seeds fitted and levelled off."""
    import pandas as pd

    n = summary["n_seeds"]
    records = []
    for row in CVF_ROWS:
        for b in summary["betas"]:
            g = lambda path: summary[f"{row}:{path}"][b]  # noqa: E731
            ms = lambda path: report.fmt_mean_sd(*g(path), 3, decimals=True)  # noqa: E731
            rec = {
                "CVF": row, "β": f"{b:.1f}",
                "sym(∂r_β/∂x)": ms("target_symmetricity"),
                "best linear": ms("references/linear"),
                "best conservative (symmetric)": ms("references/symmetric"),
                "tied floor (PSD)": ms("references/tied_floor"),
                "tied learner": ms("learners/tied/rel_error_uniform"),
                "tied: fits / levelled": f"{round(g('learners/tied/fits')[0] * n)} / {round(g('learners/tied/plateaued')[0] * n)} of {n}",
                "tied: to representable part (alg1)": ms("learners/tied/conservative_part_distance/representable"),
                "tied: to symmetric part": ms("learners/tied/conservative_part_distance/symmetric"),
            }
            if f"{row}:learners/untied/rel_error_uniform" in summary:
                rec["untied learner (extra)"] = ms("learners/untied/rel_error_uniform")
                rec["untied: fits / levelled"] = (f"{round(g('learners/untied/fits')[0] * n)} / "
                                                  f"{round(g('learners/untied/plateaued')[0] * n)} of {n}")
            else:
                rec["untied learner (extra)"] = rec["untied: fits / levelled"] = "—"
            records.append(rec)
    return pd.DataFrame(records).set_index(["CVF", "β"])


def where_scored_table(summary: Mapping[str, Any]):
    """Where Table 2 scores the energy: per row and β, the tied learner's relative error and its floor (the best
    positive semi-definite linear field) on the cube's held-out points, at the MNIST test images and at their
    corrupted copies under both readings of x̃, with how many seeds fit there (mean ± sd over seeds)."""
    n = summary["n_seeds"]
    places = [("cube", "rel_error_uniform", "references/tied_floor", "fits"),
              ("digits", "rel_error_mnist", "references_mnist/tied_floor", "fits_mnist")]
    places += [(_CORRUPTION_LABEL[k], f"rel_error_corrupted/{k}", f"references_corrupted/{k}/tied_floor",
                f"fits_corrupted/{k}") for k in READINGS]
    records = []
    for row in CVF_ROWS:
        for b in summary["betas"]:
            g = lambda path: summary[f"{row}:{path}"][b]  # noqa: E731
            rec = {"CVF": row, "β": f"{b:.1f}"}
            for name, err, floor, fits in places:
                rec[f"{name}: error / floor"] = (f"{report.fmt_mean_sd(*g('learners/tied/' + err), 3, decimals=True)} / "
                                                 f"{report.fmt(g(floor)[0], 3)}")
                rec[f"{name}: fits"] = f"{round(g('learners/tied/' + fits)[0] * n)} of {n}"
            records.append(rec)
    return report.frame(records, index=["CVF", "β"])


def quadratic_table(summary: Mapping[str, Any]):
    """The learned energy against its own quadratic term −½‖x − c‖², cell by cell: per row and β, the fraction
    E(x) > E(x̃) of each and their difference, under both readings of x̃ (means over seeds)."""
    records = []
    for row in CVF_ROWS:
        for b in summary["betas"]:
            rec = {"CVF": row, "β": f"{b:.1f}"}
            for k in READINGS:
                full = summary[f"{row}:learners/tied/fraction/{k}"][b][0]
                quad = summary[f"{row}:learners/tied/quadratic_term/{k}"][b][0]
                label = _CORRUPTION_LABEL[k]
                rec |= {f"{label}: learned energy": f"{full:.3f}", f"{label}: quadratic term alone": f"{quad:.3f}",
                        f"{label}: learned − quadratic": f"{full - quad:+.3f}"}
            records.append(rec)
    return report.frame(records, index=["CVF", "β"])


def final_loss_table(summary: Mapping[str, Any]):
    """Figure 5's statistic per β: the learners' final training loss (mean ± sd over seeds; the
    ledger's claim ``fig5``) and the variation of the target it is measured against."""
    def ms(key: str, b: float) -> str:
        return report.fmt_mean_sd(*summary[key][b], 3, decimals=True)

    return report.frame([{"β": f"{b:.1f}",
                          **{f"final loss, tied learner, CVF {row}": ms(f"{row}:learners/tied/final_loss", b)
                             for row in CVF_ROWS},
                          "final loss, untied learner (extra)": ms("tied:learners/untied/final_loss", b),
                          "variation of r_β (CVF tied)": ms("tied:target_variation", b)}
                         for b in summary["betas"]], index="β")


def controls_table(summary: Mapping[str, Any], row: str = "tied"):
    """Fraction E(x) > E(x̃) for every energy (rows) and corruption (columns) at each β of one
    Table 2 row, plus the trivial energies, as a DataFrame of strings (mean ± sd over seeds)."""
    import pandas as pd

    records = []
    for name, stats in summary["trivial"].items():
        records.append({"energy": f"trivial {name}", "β": "—",
                        **{_CORRUPTION_LABEL[k]: report.fmt_mean_sd(*stats[k], 3, decimals=True) for k in CORRUPTIONS}})
    labels = [("target_fraction", "target field r_β − x (line integral)"),
              ("learners/tied/fraction", "tied learner (eq. 4)"),
              ("learners/tied/quadratic_term", "its term −½‖x − c‖² alone"),
              ("learners/untied/fraction", "untied learner, line integral (extra)")]
    for b in summary["betas"]:
        for path, label in labels:
            if f"{row}:{path}/{CORRUPTIONS[0]}" not in summary:
                continue
            records.append({"energy": label, "β": f"{b:.1f}",
                            **{_CORRUPTION_LABEL[k]: report.fmt_mean_sd(*summary[f"{row}:{path}/{k}"][b], 3, decimals=True)
                               for k in CORRUPTIONS}})
    return pd.DataFrame(records).set_index(["energy", "β"])


def learning_curves(runs: Sequence[Mapping[str, Any]], row: str, learner: str,
                    key: str = "loss_curve") -> dict[float, tuple[np.ndarray, np.ndarray]]:
    """Per β, the mean and sd over seeds of a learner's per-epoch curve (epoch 0 = before training)."""
    out = {}
    for b, curves in seed_values(runs, row, f"learners/{learner}/{key}").items():
        a = np.array(curves, dtype=float)
        out[b] = (a.mean(axis=0), a.std(axis=0, ddof=1) if len(a) > 1 else np.zeros(a.shape[1]))
    return out


@book_figure
def plot_learning_curves(runs: Sequence[Mapping[str, Any]]):
    """Figure 5: learning curves of the learners for every β — the training loss ‖r(x) − r_β(x)‖²
    (top, the paper's quantity) and the held-out relative error (bottom, comparable across β) —
    tied learners dashed (row CVF = Tied AE) and dotted (row CVF = Untied AE), the untied learner
    (extra, row CVF = Tied AE) solid. Means over seeds with ±1 sd bands; at the column's width, the legend
    beside the panels."""
    import matplotlib.pyplot as plt

    fig, axes = column_figure(2, 1, height=6.4, sharex=True, constrained_layout=True)
    axes = axes[:, 0]
    betas = [r["beta"] for r in runs[0]["cvf"]["tied"]["rows"]]
    colors = dict(zip(betas, plt.cm.viridis(np.linspace(0, 0.9, len(betas)))))
    styles = [("tied", "tied", "--"), ("untied", "tied", ":"), ("tied", "untied", "-")]
    for ax, key, ylabel in ((axes[0], "loss_curve", "training loss\n‖r(x) − r_β(x)‖²"),
                            (axes[1], "rel_error_curve", "held-out\nrelative error")):
        for row, learner, style in styles:
            for beta, (m, s) in learning_curves(runs, row, learner, key).items():
                ep = np.arange(1, len(m)) if key == "loss_curve" else np.arange(len(m))
                m, s = (m[1:], s[1:]) if key == "loss_curve" else (m, s)
                ax.plot(ep, m, style, color=colors[beta],
                        label=f"β = {beta:.1f}" if (row, learner) == ("tied", "tied") else None)
                ax.fill_between(ep, m - s, m + s, color=colors[beta], alpha=0.12, lw=0)
        ax.set_yscale("log")
        ax.set_ylabel(ylabel)
    axes[1].set_xlabel("epoch")
    axes[0].legend(title="colour: β", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    from matplotlib.lines import Line2D

    axes[1].legend([Line2D([], [], color="k", ls=ls) for _, _, ls in styles],
                   ["tied learner,\nCVF tied", "tied learner,\nCVF untied", "untied learner\n(extra)"],
                   loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


# ------------------------------------------------------------------------------ numbers the prose quotes
def fit_count(summary: Mapping[str, Any]) -> tuple[int, int]:
    """How many tied learners fitted (:func:`conservae_lib.chapters.mnist_conservative_part.field_fit.learner_fits`) and how many
    there were, over rows × β × seeds."""
    n = summary["n_seeds"]
    fits = [round(summary[f"{row}:learners/tied/fits"][b][0] * n) for row in CVF_ROWS for b in summary["betas"]]
    return sum(fits), n * len(fits)


def prose_numbers(summary: Mapping[str, Any]) -> dict[str, tuple[float, int]]:
    """The numbers chapter 07's text quotes (glued as ``alg1_<name>``), each with the significant
    digits it is quoted to: the largest relative error of the best linear field (``linear_max``),
    the range of the tied learners' error at the MNIST test images (``mnist_err_min``/``_max``), the
    random end's (β = 0, row tied) symmetric and tied-floor errors and negative share, and per
    reading of x̃ the trivial energies' scores (``trivial_zero_<k>``: −½‖x‖², ``trivial_mean_<k>``:
    −½‖x − x̄‖²) and the range of the learned quadratic term's score (``quad_min_<k>``/``_max``)."""
    def over_cells(path: str) -> list[float]:
        return [summary[f"{row}:{path}"][b][0] for row in CVF_ROWS for b in summary["betas"]]

    err_mnist = over_cells("learners/tied/rel_error_mnist")
    b0 = summary["betas"][0]
    out = {"linear_max": (max(over_cells("references/linear")), 2),
           "mnist_err_min": (min(err_mnist), 2), "mnist_err_max": (max(err_mnist), 3),
           "sym_b0": (summary["tied:references/symmetric"][b0][0], 2),
           "floor_b0": (summary["tied:references/tied_floor"][b0][0], 2),
           "negshare_b0": (summary["tied:references/negative_share"][b0][0], 2)}
    for k in READINGS:
        for name, stats in summary["trivial"].items():
            out[f"trivial_{'mean' if 'x̄' in name else 'zero'}_{k}"] = (stats[k][0], 3)
        q = over_cells(f"learners/tied/quadratic_term/{k}")
        out[f"quad_min_{k}"], out[f"quad_max_{k}"] = (min(q), 3), (max(q), 3)
    return out


def finding_counts(summary: Mapping[str, Any]) -> dict[str, str]:
    """The counts chapter 07's prose quotes about the book's own findings (glued as ``alg1_<name>``), each
    "k of n" over rows × β (means over seeds; a case holds when it holds in every seed): ``psd_close``, the
    cases whose tied floor is within the fit margin of the best conservative field; ``quad_wins_<k>``, the cells
    whose learned energy scores no better than its own quadratic term under reading ``k``; ``fit_digits``, the
    cells whose learners fit on the cube in every seed that also fit at the test digits in every seed."""
    from .field_fit import FIT_MARGIN

    cells = [(row, b) for row in CVF_ROWS for b in summary["betas"]]
    g = lambda row, path, b: summary[f"{row}:{path}"][b][0]  # noqa: E731
    close = sum(g(r, "references/tied_floor", b) - g(r, "references/symmetric", b) <= FIT_MARGIN for r, b in cells)
    out = {"psd_close": f"{close} of {len(cells)}"}
    for k in READINGS:
        wins = sum(g(r, f"learners/tied/quadratic_term/{k}", b) >= g(r, f"learners/tied/fraction/{k}", b) for r, b in cells)
        out[f"quad_wins_{k}"] = f"{wins} of {len(cells)}"
    cube = [(r, b) for r, b in cells if g(r, "learners/tied/fits", b) == 1.0]
    digits = sum(g(r, "learners/tied/fits_mnist", b) == 1.0 for r, b in cube)
    out["fit_digits"] = f"{digits} of {len(cube)}"
    return out


def full_beta_one(full: Mapping[str, Any] | None) -> str:
    """What the full-MNIST run says about its tied row's β = 1.0 cell against β = 0.8 (salt and pepper): the
    learned energy's fraction, the target field's own fraction (line integral), the tied learner's relative
    error on the cube and at the test digits, and the target's variation, which the absolute loss of Figure 5
    grows with; or why there is nothing to say."""
    if full is None or "summary" not in full:
        return "no full-MNIST run to compare (run the chapter with --profile full)"
    s = _beta_keys(full["summary"])
    if 0.8 not in s["betas"] or 1.0 not in s["betas"]:
        return "the full-MNIST run has no β = 0.8 and β = 1.0 columns"

    def at(path: str, digits: int = 3) -> str:
        return " and ".join(f"{report.fmt(s[f'tied:{path}'][b][0], digits)} (β = {b:.1f})" for b in (0.8, 1.0))

    return (f"on full MNIST, row CVF = Tied AE: learned energy {at('learners/tied/fraction/salt_and_pepper')}, "
            f"target field itself {at('target_fraction/salt_and_pepper')}; the tied learner's relative error "
            f"on the cube {at('learners/tied/rel_error_uniform', 2)}, at the test digits "
            f"{at('learners/tied/rel_error_mnist', 2)}; the target's variation per point "
            f"{at('target_variation')} and the final training loss {at('learners/tied/final_loss')}")


def _beta_keys(obj: Any) -> Any:
    """A summary read back from JSON, with its β keys numbers again ("0.2" → 0.2)."""
    if not isinstance(obj, dict):
        return obj
    out = {}
    for k, v in obj.items():
        try:
            key: Any = float(k)
        except (TypeError, ValueError):
            key = k
        out[key] = _beta_keys(v)
    return out


def full_mnist_table2(full: Mapping[str, Any] | None, profile: str = "paper"):
    """Table 2 of the ``full`` profile's saved summary (full MNIST), as :func:`table2` lays it out,
    after a line naming its data and one saying which reading of x̃ comes closer to the paper's numbers
    there (:func:`conservae_lib.chapters.mnist_conservative_part.alg1_claims.reading_gaps`); or a line saying why there is
    nothing to show (:func:`report.no_full_results`; None)."""
    if full is None or "summary" not in full:
        report.no_full_results("mnist_conservative_part", profile, "them")
        return None
    summary = _beta_keys(full["summary"])
    gaps = {k: g["both rows"] for k, g in reading_gaps(summary).items()}
    closer = min(gaps, key=gaps.get)
    print(f"on {full.get('provenance', {}).get('data', 'full MNIST')}:")
    print(f"the {closer.replace('_', ' ')} reading comes closer to the paper's numbers (mean distance "
          + ", ".join(f"{report.fmt(v, 3)} for {k.replace('_', ' ')}" for k, v in gaps.items()) + ")")
    return table2(summary)
