"""Foundations: what every layer may use and that imports nothing from the library.

``parameters`` (a chapter's parameters: type, range, the three profiles) and ``files`` (atomic
writes, JSON read back or refused).

Layers import one way (CONTRIBUTING.md, "Layout"; ``tests/test_layers.py``).
"""
