"""Auto-encoders as vector fields.

* :class:`AutoEncoder` is the one-hidden-layer model of eq. (1), r(x) = R h(Wᵀx + b) + c, tied
  (R = W) or untied. Its vector field is r(x) − x (eq. 2). Chapters: *Conservative auto-encoders*
  and every chapter after it.
* :class:`DeepAutoEncoder` is the m-layer model of Proposition 1 (chapter *Conservative
  auto-encoders*), for which no closed-form Jacobian is used.

Shapes follow the paper: W and R are D × H (column k is hidden unit k's filter), b has H entries,
c has D. A batch of inputs is N × D. The parameters are plain ``torch.nn.Parameter`` tensors a
reader can inspect: ``model.W``, ``model.R``, ``model.b``, ``model.c``.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn

from .activations import Activation, get_activation

Tensor = torch.Tensor

__all__ = ["AutoEncoder", "DeepAutoEncoder", "glorot"]


def glorot(fan_in: int, fan_out: int, generator: torch.Generator, dtype: torch.dtype) -> Tensor:
    """Glorot-uniform weights of shape (fan_in, fan_out), drawn from ``generator``."""
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    return (torch.rand(fan_in, fan_out, generator=generator, dtype=dtype) * 2 - 1) * bound


def _check_size(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer; got {value!r}.")
    return value


class AutoEncoder(nn.Module):
    """One-hidden-layer auto-encoder r(x) = R h(Wᵀx + b) + c (eq. 1).

    Parameters
    ----------
    D, H:
        Input dimension and number of hidden units.
    activation:
        One of ``sigmoid``, ``relu``, ``tanh``, ``softplus``, ``linear``.
    tied:
        If true the decoder *is* the encoder (R = W, one shared tensor): by Corollary 1 the model
        is conservative whatever its weights.
    seed:
        Seed of the Glorot-uniform initialisation; biases start at zero.
    """

    def __init__(
        self,
        D: int,
        H: int,
        activation: str | Activation = "sigmoid",
        tied: bool = False,
        seed: int = 0,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        _check_size("D", D)
        _check_size("H", H)
        self.activation = get_activation(activation)
        self.tied = bool(tied)
        g = torch.Generator().manual_seed(int(seed))
        self.W = nn.Parameter(glorot(D, H, g, dtype))
        self.R_param = None if self.tied else nn.Parameter(glorot(D, H, g, dtype))
        self.b = nn.Parameter(torch.zeros(H, dtype=dtype))
        self.c = nn.Parameter(torch.zeros(D, dtype=dtype))

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_weights(
        cls,
        W: Tensor,
        R: Tensor | None = None,
        b: Tensor | None = None,
        c: Tensor | None = None,
        activation: str | Activation = "sigmoid",
    ) -> "AutoEncoder":
        """Build a model from given weights; ``R=None`` makes it tied (R is W)."""
        W = torch.as_tensor(W)
        if W.ndim != 2:
            raise ValueError(f"W must be a D × H matrix; got shape {tuple(W.shape)}.")
        D, H = W.shape
        model = cls(D, H, activation=activation, tied=R is None, dtype=W.dtype)
        with torch.no_grad():
            model.W.copy_(W)
            if R is not None:
                R = torch.as_tensor(R, dtype=W.dtype)
                if R.shape != W.shape:
                    raise ValueError(f"R must have the shape of W, {tuple(W.shape)}; got {tuple(R.shape)}.")
                model.R_param.copy_(R)
            if b is not None:
                model.b.copy_(torch.as_tensor(b, dtype=W.dtype).reshape(H))
            if c is not None:
                model.c.copy_(torch.as_tensor(c, dtype=W.dtype).reshape(D))
        return model

    def untied(self) -> "AutoEncoder":
        """An untied copy with R = W, free to drift apart from W in training."""
        return AutoEncoder.from_weights(
            self.W.detach().clone(), self.R.detach().clone(), self.b.detach().clone(),
            self.c.detach().clone(), self.activation,
        )

    # ----------------------------------------------------------------- the model
    @property
    def R(self) -> Tensor:
        """Decoder weights (D × H); the encoder tensor itself when the model is tied."""
        return self.W if self.R_param is None else self.R_param

    @property
    def D(self) -> int:
        return self.W.shape[0]

    @property
    def H(self) -> int:
        return self.W.shape[1]

    def preactivation(self, x: Tensor) -> Tensor:
        """u = Wᵀx + b for a batch x (N × D), as an N × H tensor."""
        return x @ self.W + self.b

    def hidden(self, x: Tensor) -> Tensor:
        """Hidden activities h(Wᵀx + b), N × H."""
        return self.activation(self.preactivation(x))

    def hidden_derivative(self, x: Tensor) -> Tensor:
        """The diagonal of D_h' = diag(h'(Wᵀx + b)) for each point, N × H (Proposition 2)."""
        return self.activation.derivative(self.preactivation(x))

    def forward(self, x: Tensor) -> Tensor:
        """The reconstruction r(x) = R h(Wᵀx + b) + c of eq. (1), N × D."""
        return self.decode_preactivation(self.preactivation(x))

    def decode_preactivation(self, u: Tensor) -> Tensor:
        """r = R h(u) + c from pre-activations u = Wᵀx + b (lets a penalty on u share the forward pass)."""
        return self.activation(u) @ self.R.T + self.c

    def field(self, x: Tensor) -> Tensor:
        """The auto-encoder's vector field r(x) − x (eq. 2)."""
        return self(x) - x

    def extra_repr(self) -> str:
        return f"D={self.D}, H={self.H}, activation={self.activation.name}, tied={self.tied}"


class DeepAutoEncoder(nn.Module):
    """Multi-layer auto-encoder of Proposition 1.

    r(x) = W_mᵀ-style composition: z₀ = x, z_k = h_k(z_{k-1} A_k + b_k) for k < m, and
    r(x) = z_{m-1} A_m + c. ``weights[k]`` is A_{k+1} with shape (n_k, n_{k+1}) where n₀ = n_m = D.
    """

    def __init__(
        self,
        weights: Sequence[Tensor],
        biases: Sequence[Tensor] | None = None,
        activations: Sequence[str | Activation] | str = "sigmoid",
    ) -> None:
        super().__init__()
        if len(weights) < 2:
            raise ValueError("a deep auto-encoder needs at least two weight matrices.")
        weights = [torch.as_tensor(w) for w in weights]
        for a, b_ in zip(weights[:-1], weights[1:]):
            if a.shape[1] != b_.shape[0]:
                raise ValueError(f"weight shapes do not chain: {tuple(a.shape)} then {tuple(b_.shape)}.")
        if weights[0].shape[0] != weights[-1].shape[1]:
            raise ValueError("the last layer must map back to the input dimension.")
        n_hidden = len(weights) - 1
        if isinstance(activations, (str, Activation)):
            activations = [activations] * n_hidden
        if len(activations) != n_hidden:
            raise ValueError(f"need {n_hidden} activations (one per hidden layer); got {len(activations)}.")
        self.activations = [get_activation(a) for a in activations]
        self.weights = nn.ParameterList([nn.Parameter(w.clone()) for w in weights])
        if biases is None:
            biases = [torch.zeros(w.shape[1], dtype=w.dtype) for w in weights]
        self.biases = nn.ParameterList([nn.Parameter(torch.as_tensor(b).clone()) for b in biases])

    @classmethod
    def random(
        cls, sizes: Sequence[int], activations: Sequence[str] | str = "sigmoid", seed: int = 0,
        dtype: torch.dtype = torch.float32,
    ) -> "DeepAutoEncoder":
        """Glorot-initialised model with layer sizes ``[D, n_1, …, n_{m-1}, D]``."""
        if sizes[0] != sizes[-1]:
            raise ValueError("sizes must start and end with the input dimension D.")
        g = torch.Generator().manual_seed(int(seed))
        ws = [glorot(a, b, g, dtype) for a, b in zip(sizes[:-1], sizes[1:])]
        return cls(ws, activations=activations)

    @classmethod
    def mirrored(
        cls, encoder: Sequence[Tensor], activations: Sequence[str | Activation],
        biases: Sequence[Tensor] | None = None,
    ) -> "DeepAutoEncoder":
        """Tie a deep model across its middle: weights A_1, …, A_k, A_kᵀ, …, A_1ᵀ.

        ``activations`` has 2k − 1 entries, one per hidden layer.
        """
        enc = [torch.as_tensor(w) for w in encoder]
        ws = enc + [w.T.clone() for w in reversed(enc)]
        return cls(ws, biases=biases, activations=activations)

    @property
    def D(self) -> int:
        return self.weights[0].shape[0]

    def forward(self, x: Tensor) -> Tensor:
        z = x
        for w, b, act in zip(self.weights[:-1], self.biases[:-1], self.activations):
            z = act(z @ w + b)
        return z @ self.weights[-1] + self.biases[-1]

    def field(self, x: Tensor) -> Tensor:
        """The vector field r(x) − x."""
        return self(x) - x
