"""Chapter 04, *Symmetricity on MNIST*: Table 1, Figures 1–2 (``empirical``: one run; ``symmetry_metrics``;
``readings``: the optimiser and ε chosen blind; ``table1_jobs``: the training sequence; ``table1``: claims and
the summary; ``report``, ``figures``).
"""
