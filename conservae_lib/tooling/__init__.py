"""Book tooling: from a chapter's source to the executed page; no notebook imports it.

``profiles`` (the chapters' declared parameters, the notebooks' parameters cells), ``notebook_files``,
``staleness`` (when is a page out of date), ``pipeline`` (source → executed notebook), ``cli`` (the
command line, ``python -m conservae_lib``), ``sweep`` (parameter sweeps), ``booktools`` (MathJax, the site).

Layers import one way (CONTRIBUTING.md, "Layout"; ``tests/test_layers.py``).
"""
