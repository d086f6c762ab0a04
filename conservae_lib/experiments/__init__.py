"""Experiments: one module per chapter that returns numbers and models — no prose, no figures.

Each chapter's ``PARAMETERS`` are declared here (:data:`conservae_lib.book.profiles.DECLARED_IN`
says where); CONTRIBUTING.md lists which module serves which chapter.

Layers import one way (CONTRIBUTING.md, "Layout"; ``tests/book/test_layers.py``).
"""
