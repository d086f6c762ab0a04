"""Training: the one trainer and what it needs.

``runtime`` (device, seeds), ``progress`` (progress bars), ``optimizers``, ``collapse`` (networks
that cannot be scored), ``trainer`` (``fit``, its checkpoints), ``pool`` (runs spread over processes).

Layers import one way (CONTRIBUTING.md, "Layout"; ``tests/test_layers.py``).
"""
