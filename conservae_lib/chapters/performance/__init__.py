"""Chapter 91, *Performance*: the Jacobian metrics' cost and training speed (``benchmark``, ``training_speed``,
``report``), and the book's own runs (``book_runs``: chapter timings, first-run costs and device records;
``runs_report``: their tables, compared only where two runs ran the same code).
"""
