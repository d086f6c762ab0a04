"""The chapters: one folder per notebook ``notebooks/NN_<chapter>.md``, found by its name.

Each folder holds ``parameters.py`` (``PARAMETERS``, the chapter's only defaults), its experiment (numbers
only), its claims (ledger judgements) and its tables and figures. A chapter imports the shared layers
(foundations, claims, core, data, training, presentation) and never another chapter.

Layers import one way (CONTRIBUTING.md, "Layout"; ``tests/test_layers.py``).
"""
