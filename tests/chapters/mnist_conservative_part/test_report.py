"""Chapter 07 shows Table 2 of the full-MNIST run beside the subset's: the saved summary, read back
from JSON, gives the same table as the summary it was made from."""
from __future__ import annotations

import json

from conservae_lib.chapters.mnist_conservative_part import report as alg1_report
from conservae_lib.chapters.mnist_conservative_part import table2


def _summary() -> dict:
    betas = [0.0, 1.0]
    s = {"betas": betas, "n_seeds": 2}
    for row in table2.CVF_ROWS:
        for k in alg1_report.READINGS:
            s[f"{row}:learners/tied/fraction/{k}"] = {b: [0.5 + 0.4 * b, 0.01] for b in betas}
        s[f"{row}:learners/tied/fits"] = {b: [1.0 if b else 0.5, 0.0] for b in betas}
    return s


def test_the_full_mnist_table_is_table2_of_the_saved_summary(capsys):
    summary = _summary()
    saved = json.loads(json.dumps({"summary": summary, "provenance": {"data": "full MNIST, 60000 train"}}))
    assert "0.0" in saved["summary"]["tied:learners/tied/fits"]  # JSON made the β keys strings
    table = alg1_report.full_mnist_table2(saved)
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0] == "on full MNIST, 60000 train:" and out[1].startswith("the ") and "reading comes closer" in out[1]
    assert table.equals(alg1_report.table2(summary))
    assert "2 / not measured of 2" in table.to_string() and "1 / not measured of 2" in table.to_string()


def test_without_a_full_run_the_chapter_says_so(capsys):
    assert alg1_report.full_mnist_table2(None) is None
    assert "run the chapter with --profile full" in capsys.readouterr().out


def test_the_reading_said_closer_is_the_one_nearer_the_papers_numbers(capsys):
    from conservae_lib.chapters.mnist_conservative_part.alg1_claims import paper_fraction

    summary = _summary()
    for row in table2.CVF_ROWS:
        summary[f"{row}:learners/tied/fraction/binomial"] = {b: [paper_fraction(row, b), 0.0] for b in summary["betas"]}
        summary[f"{row}:learners/tied/fraction/salt_and_pepper"] = {b: [1.0, 0.0] for b in summary["betas"]}
    alg1_report.full_mnist_table2(json.loads(json.dumps({"summary": summary})))
    assert capsys.readouterr().out.splitlines()[1].startswith("the binomial reading comes closer")


def test_a_run_under_the_full_profile_says_it_is_the_full_run(capsys):
    """Under ``--profile full`` there is nothing to set beside the chapter's own tables: the page says so
    instead of asking for the run it is."""
    from conservae_lib.presentation import results

    assert results.full_profile_summary("mnist_conservative_part", "full") is None
    assert alg1_report.full_mnist_table2(None, "full") is None
    assert "this run is the full profile" in capsys.readouterr().out
    alg1_report.full_mnist_table2(None, "paper")
    assert "run the chapter with --profile full" in capsys.readouterr().out


def test_figure_5_is_legible_at_the_column_width():
    import matplotlib.pyplot as plt

    from conservae_lib.presentation.plotting import legibility_problems

    def learner(scale):
        return {"loss_curve": [scale * v for v in (3.0, 2.0, 1.0)], "rel_error_curve": [1.0, 0.5, 0.3]}

    def run(seed):
        rows = lambda: [{"beta": b, "learners": {"tied": learner(1 + b), "untied": learner(2 + b)}} for b in (0.0, 1.0)]  # noqa: E731
        return {"seed": seed, "cvf": {"tied": {"rows": rows()}, "untied": {"rows": rows()}}}

    fig = alg1_report.plot_learning_curves([run(0), run(1)])
    assert legibility_problems(fig) == []
    plt.close(fig)
