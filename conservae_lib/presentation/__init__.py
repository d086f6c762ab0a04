"""Presentation: what every chapter uses to save and show its results.

``results`` (a chapter's summary, saved with its provenance), ``plotting`` (shared figures), ``report``
(number formatting, tables) and ``glue`` (numbers into the prose). A chapter's own tables and figures
live in its folder under ``conservae_lib/chapters``.

Layers import one way (CONTRIBUTING.md, "Layout"; ``tests/test_layers.py``).
"""
