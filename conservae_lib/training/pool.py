"""Training side by side: a picklable function over many jobs in a pool of processes that share the CPU's threads.

Several small trainings, each single-threaded, use a CPU's cores better than one training with all of
them (the performance appendix measures it). :func:`run_in_processes` runs ``fn(*job)`` for every job in
``workers`` processes (started with ``spawn``, so nothing of this process's state leaks in), each with
``threads`` torch threads, and returns the results in the order of the jobs; a worker's error is raised
in this process. Chapters whose runs checkpoint pass functions that train into a checkpoint and read the
runs back afterwards, so a pooled run gives the numbers of a run with that many threads.
Chapters: *Empirical conservativeness on MNIST*, *Algorithm 1 on MNIST*, appendix *Performance*.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator, Sequence, TypeVar

import torch

from .progress import progress_bar

__all__ = ["run_in_processes", "threads_per_worker", "check_workers"]

T = TypeVar("T")


def check_workers(workers: Any) -> None:
    """Refuse a ``workers`` that is not a positive integer (one sentence naming it)."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer; got {workers!r}.")


def threads_per_worker(workers: int, threads: int | None = None) -> int:
    """The torch threads each of ``workers`` processes gets: ``threads`` (default: this process's
    ``torch.get_num_threads()``) shared out, at least one."""
    check_workers(workers)
    return max(1, int(threads or torch.get_num_threads()) // workers)


def _initializer(threads: int) -> None:
    torch.set_num_threads(threads)


def run_in_processes(fn: Callable[..., T], jobs: Sequence[tuple[Any, ...]], workers: int, threads: int | None = None,
                     progress: bool = True, desc: str = "jobs", deadline: float | None = None) -> list[T | None]:
    """``fn(*job)`` for each of ``jobs`` in a pool of ``workers`` processes with ``threads`` torch threads each
    (default: :func:`threads_per_worker`), the results in the order of ``jobs``.

    ``fn`` must be a module-level function and the jobs picklable (they travel to ``spawn``-ed processes); a
    progress bar ``desc (N processes)`` counts the finished jobs. A job's error is raised here as soon as that
    job ends. No jobs: no pool. Jobs are handed out one at a time as workers free up; with ``deadline`` (a
    ``time.monotonic()`` value) no job starts after it, jobs already started finish, and a job never started
    has the result None.
    """
    import multiprocessing
    import time
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    check_workers(workers)
    threads = threads_per_worker(workers) if threads is None else max(1, int(threads))
    jobs = list(jobs)
    results: list[T | None] = [None] * len(jobs)
    if not jobs:
        return results
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=multiprocessing.get_context("spawn"),
                             initializer=_initializer, initargs=(threads,)) as pool:

        def finished() -> Iterator[None]:
            pending, running = list(enumerate(jobs)), {}
            while pending or running:
                while pending and len(running) < workers and (deadline is None or time.monotonic() < deadline):
                    i, job = pending.pop(0)
                    running[pool.submit(fn, *job)] = i
                if not running:
                    return
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    results[running.pop(fut)] = fut.result()  # re-raise a worker's error here
                    yield None

        for _ in progress_bar(finished(), f"{desc} ({workers} processes)", progress, total=len(jobs)):
            pass
    return results
