"""Claims of conservae_lib.curl_training (chapter 05_curl_2d): exact curl on a grid during training."""
import math

import pytest
import torch

from conservae_lib import AutoEncoder, curl_training, toy_data


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
    assert "active" in curl_training.collapse_reason(dead, probe.points)
    live = AutoEncoder(2, 16, "relu", seed=0, dtype=torch.float64)
    assert curl_training.collapse_reason(live, probe.points) is None
    assert "non-finite" in curl_training.collapse_reason(live, probe.points, losses=[1.0, float("nan")])


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
    rows = curl_training.curl_rows({"plain": {"circle": [run]}})
    assert rows[0]["ratio near"] == f"{near:.2g}" and "ratio box" in rows[0]
