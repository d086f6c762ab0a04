"""The parameters of chapter ``scorecard``: their values under the three profiles, ranges and help
(the only defaults; :func:`conservae_lib.foundations.parameters.Chapter`)."""
from __future__ import annotations

from conservae_lib.foundations.parameters import PROFILES, Chapter, Param

PARAMETERS = Chapter("scorecard", (
    Param("results_profile", "paper", "whose results to show; each profile shows its own by default", smoke="smoke",
          full="full", kind=str, choices=PROFILES),
))
