"""The claim ledger: every checkable sentence of the paper, its number and the rule that judges it.

``ledger`` (``judge``, records), ``ledger_rules`` (verdicts and the rules that give them),
``ledger_claims`` (reads ``paper_claims.yml``: the paper's claims, numbers and rules). Imports only :mod:`conservae_lib.foundations`.

Layers import one way (CONTRIBUTING.md, "Layout"; ``tests/test_layers.py``).
"""
