"""Chapter 92, *Reproducibility*: the same run twice, across thread counts and devices
(``reproducibility``; ``report``).
"""
