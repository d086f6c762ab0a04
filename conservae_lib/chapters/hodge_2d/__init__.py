"""Chapter 06, *The conservative part of a 2-D field*: Figure 4 (``scoring``: a model's field against the
paper's F and its Helmholtz–Hodge reference, which :mod:`conservae_lib.core.hodge` computes;
``experiment``: runs and claims; ``figures``).
"""
