"""The bad-input sweep (issue 28): values at the edges of every declared range, run under smoke.

The fast tests check what the sweep draws and how it classifies a run; the slow one runs a fixed sample through
the command line (``make test``). The whole sweep is ``python -m conservae_lib sweep`` (README)."""
from __future__ import annotations

import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from conservae_lib.foundations.parameters import chapter_keys, declaration
from conservae_lib.tooling import sweep
from conservae_lib.tooling.notebook_files import chapter_name

#: How many cases ``make test`` runs (spread over the chapters).
SAMPLE = 18


def test_every_case_is_inside_its_declared_range_and_every_chapter_has_cases():
    cs = sweep.cases()
    assert {chapter_name(Path(c.chapter)) for c in cs} == set(chapter_keys()) - {"scorecard"}
    for c in cs:
        decl = declaration(chapter_name(Path(c.chapter)))
        assert decl.param(c.name).problem(c.value) is None, c.label
        assert c.value != decl.table("smoke")[c.name], c.label
        assert c.name not in sweep.SKIPPED
    labels = [c.label for c in cs]
    assert "04_mnist_symmetricity -p H 1" in labels  # a lower edge
    assert '05_curl_2d -p activation "tanh"' in labels  # every choice
    assert "05_curl_2d -p lr 10.0" in labels  # a float's upper edge
    assert not any(c.name == "epochs" and c.value == 100_000 for c in cs)  # no upper edge of a length


def test_the_sample_is_fixed_and_spread_over_the_chapters():
    a, b = sweep.sample(SAMPLE), sweep.sample(SAMPLE)
    assert a == b and len(a) == SAMPLE
    assert len({c.chapter for c in a}) == len({c.chapter for c in sweep.cases()})


@pytest.mark.parametrize("rc, out, err, status", [
    (2, "", "error: parameter 'H' got 0, but it must be a positive integer.\n", "refused"),
    (0, "[1/1] x (smoke): done\n", "", "ran"),
    (1, "[1/1] x (smoke): executing …\n", "error: AssertionError: (the notebook as far as it ran: …)\n", "crashed"),
    (1, "", "error: parameter 'D' got 1 …\nTraceback …\n", "crashed"),  # more than one line is no refusal
])
def test_a_case_is_classified_by_what_the_command_did(monkeypatch, tmp_path, rc, out, err, status):
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: SimpleNamespace(returncode=rc, stdout=out, stderr=err))
    got = sweep.run_case(sweep.Case("01_conservative_autoencoders", "H", 0), tmp_path)
    assert got.status == status and got.ok == (status in ("refused", "ran"))


def test_a_case_past_its_timeout_is_slow(monkeypatch, tmp_path):
    def boom(*a, **k):
        raise subprocess.TimeoutExpired("x", 1)

    monkeypatch.setattr(subprocess, "run", boom)
    assert sweep.run_case(sweep.Case("01_conservative_autoencoders", "H", 0), tmp_path, timeout=1).status == "slow"


@pytest.mark.slow
@pytest.mark.parametrize("case", sweep.sample(SAMPLE), ids=lambda c: c.label)
def test_the_sampled_edges_are_refused_in_one_line_or_run(case):
    out = sweep.run_case(case, timeout=900)
    assert out.ok, f"{case.label}: {out.status}: {out.line}"
