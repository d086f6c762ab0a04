"""Chapter 01's figure: three 2-D auto-encoders' fields as stream lines over their energy or curl.

Chapter: *Conservative auto-encoders* (``notebooks/01_conservative_autoencoders.md``).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import torch

from conservae_lib.presentation import plotting

__all__ = ["FIELD_MODELS", "fields_figure"]

#: The models of :func:`~conservae_lib.core.conditions.proposition_examples` the figure draws, left to right.
FIELD_MODELS = ("tied, sigmoid", "R = W diag(λ), sigmoid", "untied random, sigmoid")


@plotting.book_figure
def fields_figure(examples: Mapping[str, tuple[torch.nn.Module, bool]], names: Sequence[str] = FIELD_MODELS,
                  box: Sequence[float] = (-3, 3, -3, 3)) -> plt.Figure:
    """One panel per model of ``names`` (:func:`~conservae_lib.presentation.plotting.plot_model_2d`):
    its field r(x) − x as stream lines over its energy F, or over its curl when it has no energy."""
    fig, axes = plotting.panel_grid(len(names), ncols=2, panel_height=3.2)
    for ax, name in zip(axes, names):
        plotting.plot_model_2d(ax, examples[name][0], box=box, title=name)
    fig.tight_layout()
    return fig
