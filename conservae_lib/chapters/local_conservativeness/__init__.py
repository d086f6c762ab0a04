"""Chapter 03, *Local conservativeness*: Proposition 3 (``local``: training and the fixed points;
``local_summary``: the summary and claims; ``figures``).
"""
