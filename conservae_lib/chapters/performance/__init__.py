"""Chapter 91, *Performance*: the Jacobian metrics' cost and training speed (``benchmark``, ``training_speed``,
``book_runs``: chapter timings and device records; ``report``).
"""
