"""Progress bars (``conservae_lib.training.progress``): silenced by ``TQDM_DISABLE`` and by ``enabled=False``."""
from __future__ import annotations

from conservae_lib.training.progress import progress_bar


def test_a_disabled_bar_is_the_iterable_itself(monkeypatch):
    items = [1, 2, 3]
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    assert progress_bar(items, "x", enabled=False) is items
    monkeypatch.setenv("TQDM_DISABLE", "1")
    assert progress_bar(items, "x") is items


def test_an_enabled_bar_yields_every_item_once(monkeypatch):
    monkeypatch.setenv("TQDM_DISABLE", "0")
    bar = progress_bar(iter(range(5)), "x", total=5, initial=0)
    assert list(bar) == [0, 1, 2, 3, 4]
    assert bar.total == 5
