"""Low-dimensional densities whose score ∇ log p and Hessian ∇² log p are known exactly.

Proposition 3 rests on Alain & Bengio's result that a contraction-trained auto-encoder satisfies
(r(x) − x)/ε → ∇ log p(x) as the contraction weight ε → 0. Testing it needs data whose score is
known, which these classes provide:

* :class:`GaussianMixture` — Σ_k π_k N(μ_k, Σ_k), with closed-form log-density, score and Hessian.
* :class:`NoisyCircle` — a circle of radius ρ blurred by isotropic Gaussian noise of std σ:
  p(x) = (1/2π) ∫ N(x; ρ(cos θ, sin θ), σ² I) dθ. The integrand is smooth and periodic in θ, so
  the trapezoid rule with K nodes (an equal-weight mixture of K Gaussians on the circle) converges
  geometrically; with the default K the density, score and Hessian are exact to rounding. Samples
  are drawn from the continuous circle, not from the nodes.
Chapter: *Proposition 3 — local conservativeness*.
"""
from __future__ import annotations

import math

import torch

Tensor = torch.Tensor

__all__ = ["GaussianMixture", "NoisyCircle"]


class GaussianMixture:
    """p(x) = Σ_k π_k N(x; μ_k, Σ_k) in ℝ^D.

    Parameters
    ----------
    means: K × D.
    covariances: K × D × D symmetric positive definite, or K standard deviations (isotropic),
        or one number (shared isotropic).
    weights: K positive numbers (normalised here); equal weights by default.
    """

    def __init__(self, means: Tensor, covariances: Tensor | float, weights: Tensor | None = None) -> None:
        means = torch.as_tensor(means, dtype=torch.float64)
        if means.ndim != 2 or len(means) == 0:
            raise ValueError(f"means must be a non-empty K × D matrix; got shape {tuple(means.shape)}.")
        K, D = means.shape
        cov = torch.as_tensor(covariances, dtype=torch.float64)
        if cov.ndim == 0:
            cov = cov.expand(K)
        if cov.ndim == 1:
            if len(cov) != K or not bool((cov > 0).all()):
                raise ValueError("isotropic standard deviations must be K positive numbers.")
            cov = (cov**2)[:, None, None] * torch.eye(D, dtype=torch.float64)
        if cov.shape != (K, D, D):
            raise ValueError(f"covariances must be K × D × D = {(K, D, D)}; got {tuple(cov.shape)}.")
        try:
            self.chol = torch.linalg.cholesky(cov)
        except RuntimeError:
            raise ValueError("every covariance must be symmetric positive definite.") from None
        w = torch.full((K,), 1.0 / K, dtype=torch.float64) if weights is None else torch.as_tensor(weights, dtype=torch.float64)
        if w.shape != (K,) or not bool((w > 0).all()):
            raise ValueError("weights must be K positive numbers.")
        self.weights = w / w.sum()
        self.means, self.cov = means, cov
        self.precision = torch.cholesky_inverse(self.chol)
        self.log_norm = -0.5 * D * math.log(2 * math.pi) - torch.log(torch.diagonal(self.chol, dim1=1, dim2=2)).sum(1)

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    def sample(self, n: int, seed: int = 0) -> Tensor:
        """``n`` samples (float64), drawn with a generator seeded by ``seed``."""
        g = torch.Generator().manual_seed(int(seed))
        k = torch.multinomial(self.weights, n, replacement=True, generator=g)
        z = torch.randn(n, self.dim, generator=g, dtype=torch.float64)
        return self.means[k] + (self.chol[k] @ z[:, :, None]).squeeze(2)

    def _parts(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Log of π_k N(x; μ_k, Σ_k) (N × K) and the component scores −Σ_k⁻¹(x − μ_k) (N × K × D)."""
        x = torch.as_tensor(x, dtype=torch.float64)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"points must be an N × {self.dim} batch; got shape {tuple(x.shape)}.")
        diff = x[:, None, :] - self.means[None]
        s = -torch.einsum("kij,nkj->nki", self.precision, diff)
        logc = torch.log(self.weights) + self.log_norm + 0.5 * (diff * s).sum(-1)
        return logc, s

    def log_prob(self, x: Tensor) -> Tensor:
        """log p(x) at each point (N values)."""
        return torch.logsumexp(self._parts(x)[0], dim=1)

    def score(self, x: Tensor) -> Tensor:
        """∇ log p(x) = Σ_k γ_k(x) (−Σ_k⁻¹(x − μ_k)), γ the posterior responsibilities (N × D)."""
        logc, s = self._parts(x)
        gamma = torch.softmax(logc, dim=1)
        return (gamma[:, :, None] * s).sum(1)

    def hessian(self, x: Tensor) -> Tensor:
        """∇² log p(x) = Σ_k γ_k (s_k s_kᵀ − Σ_k⁻¹) − s sᵀ with s_k the component scores (N × D × D)."""
        logc, s = self._parts(x)
        gamma = torch.softmax(logc, dim=1)
        mean_s = (gamma[:, :, None] * s).sum(1)
        second = torch.einsum("nk,nki,nkj->nij", gamma, s, s) - torch.einsum("nk,kij->nij", gamma, self.precision)
        return second - mean_s[:, :, None] * mean_s[:, None, :]


class NoisyCircle(GaussianMixture):
    """Points on a circle of radius ``radius`` plus isotropic Gaussian noise of std ``noise`` (2-D).

    The density is the trapezoid rule with ``n_nodes`` nodes of the circle integral, i.e. an
    equal mixture of Gaussians centred on ``n_nodes`` equally spaced points; the default
    (node spacing ≤ σ/4) makes it exact to rounding. The data manifold is the circle; its
    normal at x is the radial direction x/‖x‖.
    """

    def __init__(self, radius: float = 1.0, noise: float = 0.3, n_nodes: int | None = None) -> None:
        if not (radius > 0 and noise > 0):
            raise ValueError(f"radius and noise must be positive; got {radius!r}, {noise!r}.")
        if n_nodes is None:
            n_nodes = max(64, int(math.ceil(8 * math.pi * radius / noise)))
        theta = torch.arange(n_nodes, dtype=torch.float64) * (2 * math.pi / n_nodes)
        super().__init__(radius * torch.stack([torch.cos(theta), torch.sin(theta)], 1), float(noise))
        self.radius, self.noise, self.n_nodes = float(radius), float(noise), int(n_nodes)

    def sample(self, n: int, seed: int = 0) -> Tensor:
        """``n`` samples: θ uniform on [0, 2π), x = ρ(cos θ, sin θ) + σ z."""
        g = torch.Generator().manual_seed(int(seed))
        theta = 2 * math.pi * torch.rand(n, generator=g, dtype=torch.float64)
        z = torch.randn(n, 2, generator=g, dtype=torch.float64)
        return self.radius * torch.stack([torch.cos(theta), torch.sin(theta)], 1) + self.noise * z

    def normal(self, x: Tensor) -> Tensor:
        """Unit normal of the data manifold (the radial direction) at each point."""
        x = torch.as_tensor(x, dtype=torch.float64)
        return x / x.norm(dim=1, keepdim=True).clamp_min(1e-300)

    def ridge_radius(self, tol: float = 1e-13) -> float:
        """Radius r* of the density's ridge, where the radial score vanishes (bisection).

        The exact fixed points of the ideal reconstruction r = x + ε∇log p are the critical
        points of p: the whole ridge circle (maxima across it) and the centre (a minimum for
        σ < ρ). Because of the circle's curvature r* < ρ.
        """
        def radial(t: float) -> float:
            return float(self.score(torch.tensor([[t, 0.0]], dtype=torch.float64))[0, 0])

        lo, hi = 1e-3 * self.radius, 2 * self.radius
        if radial(lo) <= 0 or radial(hi) >= 0:
            raise ValueError("no ridge: the radial score does not change sign (noise too large for the radius?).")
        while hi - lo > tol * self.radius:
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if radial(mid) > 0 else (lo, mid)
        return 0.5 * (lo + hi)
