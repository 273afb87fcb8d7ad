"""Satterthwaite denominator df for linear contrasts of fixed effects in a REML-fitted LMM.

Follows the recipe of lmerTest (Kuznetsova, Brockhoff & Christensen 2017): with variance
parameters phi = (theta, sigma) (lme4's relative Cholesky factors and the residual SD),

* A = 2 H^-1, H = Hessian of the REML deviance in phi at the estimate (eigenvalues <= tol are
  dropped, i.e. a pseudo-inverse, as lmerTest does);
* J_m = d Var(beta_hat) / d phi_m;
* for a contrast L: v = L'CL, g_m = L'J_m L, df = 2 v^2 / (g'Ag).

Derivatives are central differences refined by Richardson extrapolation (steps 10 % of each
parameter, 1e-4 for parameters near zero, halved four times).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

_ZERO_TOL = np.sqrt(np.finfo(float).eps / 7e-7)


def _steps(x: np.ndarray, d: float, eps: float) -> np.ndarray:
    return np.where(np.abs(x) < _ZERO_TOL, eps, d * np.abs(x))


def _richardson(values: list[np.ndarray], order: int = 2) -> np.ndarray:
    """Extrapolate estimates computed at steps h, h/2, h/4, ... with error O(h^order)."""
    table = [np.asarray(v, dtype=float) for v in values]
    k = order
    while len(table) > 1:
        factor = 2.0**k
        table = [(factor * table[i + 1] - table[i]) / (factor - 1) for i in range(len(table) - 1)]
        k += 2
    return table[0]


def hessian(
    f: Callable[[np.ndarray], float],
    x: npt.ArrayLike,
    d: float = 0.1,
    eps: float = 1e-4,
    levels: int = 4,
) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    n = x.size
    h0 = _steps(x, d, eps)
    f0 = f(x)
    estimates = []
    for lev in range(levels):
        h = h0 / 2.0**lev
        hm = np.zeros((n, n))
        fp = np.empty(n)
        fm = np.empty(n)
        for i in range(n):
            e = np.zeros(n)
            e[i] = h[i]
            fp[i], fm[i] = f(x + e), f(x - e)
            hm[i, i] = (fp[i] - 2 * f0 + fm[i]) / h[i] ** 2
        for i in range(n):
            for j in range(i + 1, n):
                ei = np.zeros(n)
                ej = np.zeros(n)
                ei[i], ej[j] = h[i], h[j]
                val = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (
                    4 * h[i] * h[j]
                )
                hm[i, j] = hm[j, i] = val
        estimates.append(hm)
    return _richardson(estimates)


def jacobian(
    f: Callable[[np.ndarray], np.ndarray],
    x: npt.ArrayLike,
    d: float = 1e-4,
    eps: float = 1e-4,
    levels: int = 4,
) -> np.ndarray:
    """(len(f(x)), len(x)) matrix of partial derivatives."""
    x = np.asarray(x, dtype=float)
    h0 = _steps(x, d, eps)
    cols = []
    for i in range(x.size):
        estimates = []
        for lev in range(levels):
            e = np.zeros(x.size)
            e[i] = h0[i] / 2.0**lev
            estimates.append((np.ravel(f(x + e)) - np.ravel(f(x - e))) / (2 * e[i]))
        cols.append(_richardson(estimates))
    return np.column_stack(cols)


def varpar_covariance(h: np.ndarray, tol: float = 1e-8) -> tuple[np.ndarray, list[str]]:
    """A = 2 * pseudo-inverse(H) on eigenvalues > tol; warnings mirror lmerTest's."""
    vals, vecs = np.linalg.eigh((h + h.T) / 2)
    warnings = []
    if (vals < -tol).any():
        warnings.append(
            f"model failed to converge: {(vals < -tol).sum()} negative Hessian eigenvalue(s)"
        )
    if (np.abs(vals) <= tol).any():
        warnings.append("model may not have converged: Hessian eigenvalue(s) close to zero")
    pos = vals > tol
    inv = (vecs[:, pos] / vals[pos]) @ vecs[:, pos].T
    return 2.0 * inv, warnings


class Satterthwaite:
    """Precomputed A and J_m for one fitted model; ``df(L)`` for any contrast vector."""

    def __init__(
        self,
        deviance: Callable[[np.ndarray], float],
        vcov: Callable[[np.ndarray], np.ndarray],
        varpar: np.ndarray,
    ):
        self.varpar = np.asarray(varpar, dtype=float)
        self.cov_beta = np.asarray(vcov(self.varpar))
        p = self.cov_beta.shape[0]
        self.hessian = hessian(deviance, self.varpar)
        self.A, self.warnings = varpar_covariance(self.hessian)
        jac = jacobian(lambda v: vcov(v).ravel(), self.varpar)
        self.J = [jac[:, m].reshape(p, p) for m in range(self.varpar.size)]

    def df(self, contrast: npt.ArrayLike) -> float:
        L = np.asarray(contrast, dtype=float)
        v = L @ self.cov_beta @ L
        g = np.array([L @ jm @ L for jm in self.J])
        denom = g @ self.A @ g
        return float(2 * v**2 / denom) if denom > 0 else float("inf")
