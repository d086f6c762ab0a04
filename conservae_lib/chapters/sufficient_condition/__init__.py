"""Chapter 02, *R = C W D_h' E*: the sufficient condition, eq. (7)–(9) (``survey``: the constructed
models and their claims; ``report``: tables and figures).
"""
