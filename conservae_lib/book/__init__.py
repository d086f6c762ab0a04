"""Book tooling: from a chapter's source to the executed page, its summaries and the scorecard.

``results`` (summaries), ``scorecard*`` (chapter 90), ``profiles``, ``notebook_files``,
``staleness``, ``pipeline``, ``cli`` (the command line), ``booktools``, ``book_runs``.

Layers import one way (CONTRIBUTING.md, "Layout"; ``tests/book/test_layers.py``).
"""
