"""Presentation: every figure and every table of the book, drawn from the experiments' numbers.

``plotting`` (shared figures), ``report`` (number formatting, tables), ``glue`` and one module per
chapter (``propositions_report``, ``table1_report``, ``alg1_report`` …).

Layers import one way (CONTRIBUTING.md, "Layout"; ``tests/book/test_layers.py``).
"""
