"""The mathematical core: the auto-encoder of eq. (1) and what the paper proves about its vector field.

``activations``, ``models`` (eq. 1), ``fields`` (Jacobians, symmetricity, curl, 2-D grids), ``energy``
(potentials, eq. 3–4), ``contraction`` (eq. 10), ``conditions`` (Propositions 1–3), ``sufficient``
(R = C W D_h' E, eq. 8–9), ``decoder_space`` (eq. 7), ``hodge`` (the grid Helmholtz–Hodge solver, eq. 16).

Layers import one way (CONTRIBUTING.md, "Layout"; ``tests/test_layers.py``).
"""
