"""Chapter 06, *The conservative part of a 2-D field*: Figure 4 (``hodge``: the Helmholtz–Hodge references;
``experiment``: runs and claims; ``figures``).
"""
