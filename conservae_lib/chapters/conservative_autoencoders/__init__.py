"""Chapter 01, *Conservative auto-encoders*: Propositions 1–2, Corollary 1 (``propositions``: the survey
and its claims; ``report``: its tables; ``figures``: its figure).
"""
