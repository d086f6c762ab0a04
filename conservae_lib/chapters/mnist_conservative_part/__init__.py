"""Chapter 07, *The conservative part of an MNIST auto-encoder*: Algorithm 1, Table 2, Figure 5
(``algorithm1``: its steps; ``alg1_runs``: every seed, checkpointed; ``corruption``; ``field_fit``; ``table2``;
``alg1_claims``; ``report``).
"""
