"""The pool of processes the MNIST chapters train in (``conservae_lib.training.pool``): results in the order of
the jobs, the threads shared out, a worker's error raised here."""
from __future__ import annotations

import pytest
import torch

from conservae_lib.training import pool


def _job(i: int, scale: float) -> tuple[int, float, int]:
    """A module-level job (picklable): its inputs back with the torch threads its worker has."""
    return i, i * scale, torch.get_num_threads()


def _failing_job(i: int) -> int:
    if i == 2:
        raise RuntimeError(f"job {i} failed")
    return i


def test_results_come_back_in_the_order_of_the_jobs_with_the_threads_shared():
    jobs = [(i, 0.5) for i in range(5)]
    got = pool.run_in_processes(_job, jobs, workers=2, threads=1, progress=False)
    assert [(i, v) for i, v, _ in got] == [(i, i * 0.5) for i in range(5)]
    assert {t for _, _, t in got} == {1}


def test_threads_per_worker_shares_the_threads_at_least_one_each():
    assert pool.threads_per_worker(2, 8) == 4
    assert pool.threads_per_worker(4, 2) == 1
    assert pool.threads_per_worker(1) == torch.get_num_threads()


def test_no_jobs_start_no_pool_and_bad_workers_are_refused():
    assert pool.run_in_processes(_job, [], workers=2, progress=False) == []
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="workers must be a positive integer"):
            pool.run_in_processes(_job, [(0, 1.0)], workers=bad, progress=False)  # type: ignore[arg-type]


def test_a_workers_error_is_raised_here():
    with pytest.raises(RuntimeError, match="job 2 failed"):
        pool.run_in_processes(_failing_job, [(i,) for i in range(4)], workers=2, threads=1, progress=False)
