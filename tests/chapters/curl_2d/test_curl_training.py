"""Claims of conservae_lib.chapters.curl_2d.curl_training (chapter 05_curl_2d): exact curl on a grid during training."""

import pytest
import torch

from conservae_lib import AutoEncoder
from conservae_lib.chapters.curl_2d import figures as curl_figures
from conservae_lib.chapters.curl_2d import curl_training
from conservae_lib.data import toy_data
from conservae_lib.training.collapse import collapse_reason


def _linear(M):
    # r(x) = M x with a linear activation: W = I, R = M.
    return AutoEncoder.from_weights(torch.eye(2, dtype=torch.float64), torch.as_tensor(M, dtype=torch.float64), activation="linear")


def test_rotation_has_curl_two_and_relative_curl_one():
    probe = curl_training.CurlProbe("circle", n=11)
    m = probe.measure(_linear([[0.0, -1.0], [1.0, 0.0]]))
    assert m["curl_abs_box"] == pytest.approx(2.0) and m["curl_abs_near"] == pytest.approx(2.0)
    assert m["curl_rel_box"] == pytest.approx(1.0)


def test_symmetric_linear_model_and_tied_model_have_zero_curl():
    probe = curl_training.CurlProbe("spiral", n=15)
    assert probe.measure(_linear([[2.0, 0.5], [0.5, -1.0]]))["curl_abs_box"] < 1e-14
    tied = AutoEncoder(2, 30, "relu", tied=True, seed=1, dtype=torch.float64)
    m = probe.measure(tied)
    assert m["curl_abs_box"] < 1e-12 and m["curl_rel_box"] < 1e-12


def test_denoising_training_makes_the_untied_field_less_curly_near_the_data():
    data = toy_data.make_dataset("circle", 200, 0.03, seed=0)
    probe = curl_training.CurlProbe("circle", n=21)
    run = curl_training.train_and_track(data, probe, hidden=32, epochs=40, record_every=20, seed=0, progress=False)
    first, last = run["history"][0], run["history"][-1]
    assert [r["epoch"] for r in run["history"]] == [0, 20, 40]
    assert last["curl_rel_near"] < 0.5 * first["curl_rel_near"]
    assert last["loss"] < first["loss"]


def test_untrained_control_is_the_epoch_zero_record():
    data = toy_data.make_dataset("line", 50, 0.03, seed=0)
    probe = curl_training.CurlProbe("line", n=11)
    run = curl_training.train_and_track(data, probe, hidden=8, epochs=0, seed=2, progress=False)
    assert len(run["history"]) == 1
    assert run["history"][0]["curl_abs_box"] == pytest.approx(probe.measure(run["initial"])["curl_abs_box"])


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="N × 2"):
        curl_training.train_and_track(torch.zeros(5, 3), curl_training.CurlProbe("line", n=5), progress=False)
    with pytest.raises(ValueError, match="n must be"):
        curl_training.CurlProbe("line", n=2)
    with pytest.raises(ValueError, match="unknown data set"):
        curl_training.CurlProbe("square")


def test_a_dead_network_is_caught_as_collapsed_and_a_trained_one_is_not():
    probe = curl_training.CurlProbe("circle", n=11)
    dead = AutoEncoder(2, 16, "relu", seed=0, dtype=torch.float64)
    with torch.no_grad():
        dead.b.fill_(-100.0)  # every unit silent on the box: r is the constant c, curl 0 everywhere
    assert probe.measure(dead)["curl_abs_box"] == 0.0
    assert "active" in collapse_reason(dead, probe.points, jacobian_test="everywhere")
    live = AutoEncoder(2, 16, "relu", seed=0, dtype=torch.float64)
    assert collapse_reason(live, probe.points, jacobian_test="everywhere") is None
    assert "non-finite" in collapse_reason(live, probe.points, losses=[1.0, float("nan")], jacobian_test="everywhere")


def test_training_with_an_absurd_learning_rate_is_reported_as_collapsed_not_scored():
    # The chapter's `-p lr 1e10`: Adam's first steps move every weight by ~1e10, so the run
    # diverges, dies or learns nothing; whichever happens, the run must carry a reason.
    data = toy_data.make_dataset("line", 100, 0.03, seed=0)
    probe = curl_training.CurlProbe("line", n=11)
    run = curl_training.train_and_track(data, probe, hidden=16, epochs=5, lr=1e10, record_every=5, seed=0, progress=False)
    assert run["collapsed"]
    assert curl_training.collapsed_runs({"line": [run]}).startswith("collapsed run(s) — line, seed 0")
    ok = curl_training.train_and_track(data, probe, hidden=16, epochs=5, lr=3e-3, record_every=5, seed=0, progress=False)
    assert ok["collapsed"] is None and curl_training.collapsed_runs({"line": [ok]}) is None


def test_plain_training_lowers_the_curl_near_the_data_and_the_table_shows_both_regions():
    data = toy_data.make_dataset("circle", 200, 0.03, seed=0)
    probe = curl_training.CurlProbe("circle", n=21)
    run = curl_training.train_and_track(data, probe, hidden=32, noise=0.0, epochs=40, record_every=40, seed=0, progress=False)
    near = curl_training.ratio_final_initial(run, "curl_abs_near")
    assert near < 1
    rows = curl_figures.curl_rows({"plain": {"circle": [run]}})
    assert rows[0]["ratio near"] == f"{near:.2g}" and "ratio box" in rows[0]


@pytest.fixture(scope="module")
def chapter_runs():
    """The chapter's three models on two small data sets, two seeds, a few epochs."""
    data, probes = curl_training.make_problems(["line", "circle"], 60, 0.03, seed=0, half_width=1.2, grid_n=9,
                                               near_radius=0.2)
    runs = curl_training.train_models(data, probes, [0, 1], dae_noise=0.1, hidden=8, epochs=4, batch_size=20,
                                      record_every=2)
    return data, probes, runs


def test_make_problems_gives_the_seeded_data_sets_and_their_probes_on_the_box():
    data, probes = curl_training.make_problems(["spiral", "line"], 30, 0.05, seed=3, half_width=1.0, grid_n=7,
                                               near_radius=0.2)
    assert list(data) == list(probes) == ["spiral", "line"]
    assert torch.equal(data["line"], toy_data.make_dataset("line", 30, 0.05, seed=3))
    assert tuple(probes["spiral"].box) == (-1.0, 1.0, -1.0, 1.0) and probes["spiral"].n == 7


def test_train_models_is_train_and_track_for_every_seed_with_the_tied_control_on_the_first(chapter_runs):
    data, probes, (plain, denoising, tied) = chapter_runs
    assert [r["seed"] for r in plain["circle"]] == [r["seed"] for r in denoising["circle"]] == [0, 1]
    assert [r["seed"] for r in tied["line"]] == [0]
    again = curl_training.train_and_track(data["circle"], probes["circle"], hidden=8, noise=0.1, epochs=4,
                                          batch_size=20, record_every=2, seed=1, progress=False)
    assert again["history"] == denoising["circle"][1]["history"]
    assert [r["epoch"] for r in plain["line"][0]["history"]] == [0, 2, 4]


def test_fig3_statistic_summary_and_glued_texts(chapter_runs):
    _, _, (plain, denoising, tied) = chapter_runs
    assert list(curl_training.FIG3_READINGS)[0] is None  # the paper's reading first
    ratios = curl_training.fig3_ratios(plain, "curl_abs_near")
    assert ratios == [curl_training.ratio_final_initial(r, "curl_abs_near") for n in ("line", "circle") for r in plain[n]]
    s = curl_training.summary(plain, denoising, tied)
    assert s["tied_max_abs"] < 1e-10  # Corollary 1
    assert s["near_ratio"]["circle"] == pytest.approx(sum(ratios[2:]) / 2)
    assert list(s["histories"]) == ["plain", "denoising"] and len(s["histories"]["plain"]["line"]) == 2
    claims = [{"verdict": "a"}, {"verdict": "b"}]
    texts = curl_figures.glue_texts(s, claims)
    assert texts["n_near_below_box"].endswith(" of 2") and texts["verdict05_box"] == "b"
    assert set(texts) == {"near_best", "near_worst", "box_best", "box_worst", "n_near_below_box",
                          "n_rel_near_below_box", "tied_max", "verdict05", "verdict05_box"}
    assert curl_training.data_note(200, 0.03, 100, "relu", 30).startswith("200 noisy points per curve (noise 0.03)")


def test_the_chapter_figures_have_one_column_per_data_set(chapter_runs):
    import matplotlib.pyplot as plt

    from conservae_lib.presentation.plotting import legibility_problems

    data, probes, (plain, denoising, tied) = chapter_runs
    for fig, n_axes in ((curl_figures.plot_datasets(data, probes), 2),
                        (curl_figures.plot_figure3(plain, denoising, probes, data, 4), 3 * 2 + 3 * 2),  # + colour bars
                        (curl_figures.plot_curl_against_time(plain, denoising, tied), 4)):
        assert len(fig.axes) == n_axes
        assert legibility_problems(fig) == []  # the column's width, fonts of 9 pt or more
        plt.close(fig)


def test_one_thread_on_cpu_only_touches_cpu_runs():
    before = torch.get_num_threads()
    try:
        curl_training.one_thread_on_cpu(torch.device("meta"))
        assert torch.get_num_threads() == before
        curl_training.one_thread_on_cpu(torch.device("cpu"))
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
