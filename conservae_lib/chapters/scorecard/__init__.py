"""Chapter 90, *Scorecard*: every claim's verdict (``rows``: the records of all chapters; ``sources``: the
book's notebooks; ``scorecard``: the page).
"""
