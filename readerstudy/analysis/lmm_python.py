"""REML fits of linear mixed models with crossed random intercepts, in NumPy.

Uses lme4's parametrisation: relative standard deviations theta_b = sigma_b / sigma for each
random-intercept term b, the fixed effects and sigma profiled out of the REML criterion
(Bates et al. 2015, J Stat Softw 67(1)):

    d(theta, sigma) = log|L_theta|^2 + log|RX'RX| + (n - p) log(2 pi sigma^2) + r^2(theta)/sigma^2

with L_theta L_theta' = Lambda'Z'Z Lambda + I and RX'RX = X'(I + Z Lambda Lambda'Z')^-1 X.

* One term (``correct ~ condition + (1|case)``): Z'Z is diagonal, so every quantity is a sum over
  cases of sufficient statistics, and the profiled criterion is minimised exactly over the single
  parameter theta (grid bracket + bounded Brent).
* Several terms: the levels nested in cases (case, case:condition, reader:case) give a
  block-diagonal part of Z'Z, factorised case by case; the crossed levels (reader,
  reader:condition) enter through a dense Schur complement. The criterion is even in each
  theta, so it is minimised without bounds over |theta| from theta = 1 (L-BFGS-B, then
  Nelder-Mead), then polished with Newton steps.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import linalg, optimize

MAX_DENSE_LEVELS = 4000


def blas_single_thread() -> contextlib.AbstractContextManager[Any]:
    """Limit BLAS to one thread (if threadpoolctl is installed): the matrices here are small,
    and OpenBLAS's thread start-up dominates on loaded machines."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional dependency
        return contextlib.nullcontext()
    limits: contextlib.AbstractContextManager[Any] = threadpool_limits(limits=1, user_api="blas")
    return limits


@dataclass(frozen=True)
class RandomTerm:
    name: str
    codes: np.ndarray  # (n,) integer level of each observation
    n_levels: int


@dataclass
class RemlFit:
    theta: np.ndarray
    sigma: float
    beta: np.ndarray
    vcov_beta: np.ndarray
    reml_criterion: float
    converged: bool
    message: str


class CrossedInterceptsModel:
    """REML criterion pieces for ``y ~ X + sum_b (1 | term_b)``.

    ``block``: optional per-observation block (case) codes; terms whose levels each lie within
    one block are factorised block by block, the others by a dense Schur complement.
    """

    def __init__(
        self,
        y: npt.ArrayLike,
        X: npt.ArrayLike,
        terms: list[RandomTerm],
        block: np.ndarray | None = None,
    ):
        self.y = np.asarray(y, dtype=float)
        self.X = np.asarray(X, dtype=float)
        self.terms = terms
        self.n, self.p = self.X.shape
        if np.linalg.matrix_rank(self.X) < self.p:
            raise ValueError("fixed-effects design is rank deficient")
        self.XtX = self.X.T @ self.X
        self.Xty = self.X.T @ self.y
        self.yty = float(self.y @ self.y)
        if len(terms) == 1:
            codes, k = terms[0].codes, terms[0].n_levels
            self._nk = np.bincount(codes, minlength=k).astype(float)
            self._sk = np.zeros((k, self.p))
            np.add.at(self._sk, codes, self.X)
            self._tk = np.bincount(codes, weights=self.y, minlength=k)
        else:
            self._setup_blocks(None if block is None else np.asarray(block, dtype=np.int64))

    def _setup_blocks(self, block: np.ndarray | None) -> None:
        n = self.n
        nested: list[int] = []
        glob: list[int] = []
        for b, t in enumerate(self.terms):
            ok = False
            if block is not None:
                level_block = np.full(t.n_levels, -1)
                level_block[t.codes] = block
                ok = bool(np.all(level_block[t.codes] == block))
            (nested if ok else glob).append(b)
        xy = np.column_stack([self.X, self.y])
        g_sizes = [self.terms[b].n_levels for b in glob]
        g = int(sum(g_sizes))
        if g > MAX_DENSE_LEVELS:
            raise ValueError(
                f"{g} crossed random-effect levels exceed the solver's limit "
                f"({MAX_DENSE_LEVELS}); use the R backend for this model"
            )
        offsets = np.cumsum([0, *g_sizes[:-1]]).astype(int)
        gcol = (
            np.column_stack([self.terms[b].codes + o for b, o in zip(glob, offsets, strict=True)])
            if glob
            else np.zeros((n, 0), dtype=int)
        )
        self._g_term = np.repeat(np.asarray(glob, dtype=int), g_sizes)
        self._D0 = np.zeros((g, g))
        self._C2 = np.zeros((g, xy.shape[1]))
        for a in range(gcol.shape[1]):
            for c in range(gcol.shape[1]):
                np.add.at(self._D0, (gcol[:, a], gcol[:, c]), 1.0)
            np.add.at(self._C2, gcol[:, a], xy)
        self._A0: np.ndarray | None = None
        if not nested or block is None:  # nested terms need blocks
            return
        kb = int(block.max()) + 1
        counts = np.zeros(kb, dtype=np.int64)
        obs_pos, slot_term, slot_block, slot_pos = [], [], [], []
        for b in nested:
            t = self.terms[b]
            lb = np.full(t.n_levels, -1)
            lb[t.codes] = block
            order = np.argsort(lb, kind="stable")
            sorted_lb = lb[order]
            rank = np.arange(t.n_levels) - np.searchsorted(sorted_lb, sorted_lb)
            pos = np.empty(t.n_levels, dtype=np.int64)
            pos[order] = counts[sorted_lb] + rank
            counts += np.bincount(lb, minlength=kb)
            obs_pos.append(pos[t.codes])
            slot_term.append(np.full(t.n_levels, b))
            slot_block.append(lb)
            slot_pos.append(pos)
        s = int(counts.max())
        if kb * s * max(g, s) > 30_000_000:
            raise ValueError(
                "random-effects design too large for the Python solver; "
                "use the R backend for this model"
            )
        self._A0 = np.zeros((kb, s, s))
        self._B0 = np.zeros((kb, s, g))
        self._C1 = np.zeros((kb, s, xy.shape[1]))
        for pa in obs_pos:
            for pc in obs_pos:
                np.add.at(self._A0, (block, pa, pc), 1.0)
            np.add.at(self._C1, (block, pa), xy)
            for a in range(gcol.shape[1]):
                np.add.at(self._B0, (block, pa, gcol[:, a]), 1.0)
        self._n_term = np.full((kb, s), -1)
        self._n_term[np.concatenate(slot_block), np.concatenate(slot_pos)] = np.concatenate(
            slot_term
        )

    # --- penalised least squares pieces -------------------------------------------------
    def _quad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """log|M| and c'M^-1 c for M = Lambda'Z'Z Lambda + I and c = Lambda'Z'[X y]."""
        lam_g = theta[self._g_term]
        g = lam_g.size
        d = lam_g[:, None] * self._D0 * lam_g[None, :] + np.eye(g)
        c2 = lam_g[:, None] * self._C2
        logdet = 0.0
        quad = np.zeros((self._C2.shape[1],) * 2)
        if self._A0 is not None:
            lam_n = np.where(self._n_term >= 0, theta[np.maximum(self._n_term, 0)], 0.0)
            a = lam_n[:, :, None] * self._A0 * lam_n[:, None, :] + np.eye(self._A0.shape[1])
            chol = np.linalg.cholesky(a)
            logdet += 2.0 * float(np.sum(np.log(np.diagonal(chol, axis1=1, axis2=2))))
            c1 = lam_n[:, :, None] * self._C1
            ainv_c1 = np.linalg.solve(a, c1)
            quad += np.einsum("ksi,ksj->ij", c1, ainv_c1)
            if g:
                k, s, _ = self._B0.shape
                bmat = (lam_n[:, :, None] * self._B0 * lam_g[None, None, :]).reshape(k * s, g)
                ainv_b = np.linalg.solve(a, bmat.reshape(k, s, g)).reshape(k * s, g)
                d = d - bmat.T @ ainv_b
                c2 = c2 - bmat.T @ ainv_c1.reshape(k * s, -1)
        if g:
            lc = linalg.cholesky(d, lower=True, check_finite=False)
            logdet += 2.0 * float(np.sum(np.log(np.diag(lc))))
            w = linalg.solve_triangular(lc, c2, lower=True, check_finite=False)
            quad += w.T @ w
        return logdet, quad

    def _pls(self, theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, float]:
        theta = np.asarray(theta, dtype=float)
        if len(self.terms) == 1:
            t2 = float(theta[0]) ** 2
            w = t2 / (1.0 + self._nk * t2)
            ldl2 = float(np.sum(np.log1p(self._nk * t2)))
            xtwx = self.XtX - (self._sk * w[:, None]).T @ self._sk
            xtwy = self.Xty - self._sk.T @ (w * self._tk)
            ytwy = self.yty - float(np.sum(w * self._tk**2))
        else:
            ldl2, q = self._quad(theta)
            xtwx = self.XtX - q[:-1, :-1]
            xtwy = self.Xty - q[:-1, -1]
            ytwy = self.yty - float(q[-1, -1])
        beta = np.linalg.solve(xtwx, xtwy)
        r2 = max(ytwy - float(xtwy @ beta), 0.0)
        return ldl2, xtwx, beta, r2

    def profiled_deviance(self, theta: np.ndarray) -> float:
        ldl2, xtwx, _, r2 = self._pls(theta)
        dof = self.n - self.p
        out: float = ldl2 + np.linalg.slogdet(xtwx)[1] + dof * (1.0 + np.log(2 * np.pi * r2 / dof))
        return out

    def deviance(self, varpar: npt.ArrayLike) -> float:
        """REML deviance at (theta..., sigma), not profiled (lmerTest's devfun_vp)."""
        varpar = np.asarray(varpar, dtype=float)
        theta, sigma2 = varpar[:-1], varpar[-1] ** 2
        ldl2, xtwx, _, r2 = self._pls(theta)
        dof = self.n - self.p
        out: float = (
            ldl2 + np.linalg.slogdet(xtwx)[1] + dof * np.log(2 * np.pi * sigma2) + r2 / sigma2
        )
        return out

    def vcov_beta(self, varpar: npt.ArrayLike) -> np.ndarray:
        varpar = np.asarray(varpar, dtype=float)
        _, xtwx, _, _ = self._pls(varpar[:-1])
        out: np.ndarray = varpar[-1] ** 2 * np.linalg.inv(xtwx)
        return out

    def at(self, theta: np.ndarray) -> RemlFit:
        """Fit summary at given theta (sigma and beta profiled)."""
        theta = np.abs(np.asarray(theta, dtype=float))
        _, xtwx, beta, r2 = self._pls(theta)
        sigma = float(np.sqrt(r2 / (self.n - self.p)))
        return RemlFit(
            theta,
            sigma,
            beta,
            sigma**2 * np.linalg.inv(xtwx),
            self.profiled_deviance(theta),
            True,
            "",
        )

    # --- optimisation ---------------------------------------------------------------------
    def fit(self) -> RemlFit:
        if len(self.terms) == 1:
            theta, ok, msg = self._fit_1d()
        else:
            theta, ok, msg = self._fit_nd()
        fit = self.at(theta)
        fit.converged, fit.message = ok, msg
        return fit

    def _fit_1d(self) -> tuple[np.ndarray, bool, str]:
        def f(t: float) -> float:
            return self.profiled_deviance(np.array([t]))

        grid = np.r_[0.0, np.geomspace(1e-4, 1e3, 71)]
        vals = np.array([f(t) for t in grid])
        i = int(np.argmin(vals))
        if i == 0:
            lo, hi = 0.0, grid[1]
        else:
            lo, hi = grid[i - 1], grid[min(i + 1, len(grid) - 1)]
        res = optimize.minimize_scalar(
            f, bounds=(lo, hi), method="bounded", options={"xatol": 1e-12, "maxiter": 500}
        )
        theta = float(res.x)
        if f(0.0) <= res.fun:
            theta = 0.0
        return np.array([theta]), bool(res.success), str(res.message)

    def _fit_nd(self) -> tuple[np.ndarray, bool, str]:
        # The criterion is even in every theta_b, so it is minimised without bounds over
        # |theta| (bounded optimisers were seen to stick to the boundary theta_b = 0 in a worse
        # basin than lme4's bobyqa), from theta = 1 as lme4 starts, then polished.
        k = len(self.terms)

        def f(x: np.ndarray) -> float:
            return self.profiled_deviance(np.abs(x))

        res = optimize.minimize(
            f, np.ones(k), method="L-BFGS-B", options={"maxiter": 5000, "ftol": 1e-13, "gtol": 1e-8}
        )
        nm = optimize.minimize(
            f,
            np.abs(res.x),
            method="Nelder-Mead",
            options={"xatol": 1e-8, "fatol": 1e-11, "maxfev": 500 * k, "adaptive": k > 3},
        )
        best = nm if nm.fun <= res.fun else res
        theta = self._newton_polish(np.abs(np.asarray(best.x, dtype=float)))
        return theta, bool(res.success or nm.success), f"L-BFGS-B: {res.message}"

    def _newton_polish(self, theta: np.ndarray, iterations: int = 6) -> np.ndarray:
        """Newton steps on the interior parameters (central differences) to tighten the
        optimum beyond L-BFGS-B's finite-difference gradient; parameters at 0 stay at 0."""
        f = self.profiled_deviance
        best = f(theta)
        for _ in range(iterations):
            free = np.flatnonzero(theta > 1e-6)
            if free.size == 0:
                break
            h = 1e-4 * theta[free]
            g = np.empty(free.size)
            hess = np.empty((free.size, free.size))
            for a, i in enumerate(free):
                e = np.zeros_like(theta)
                e[i] = h[a]
                fp, fm = f(theta + e), f(theta - e)
                g[a] = (fp - fm) / (2 * h[a])
                hess[a, a] = (fp - 2 * best + fm) / h[a] ** 2
                for b in range(a):
                    e2 = np.zeros_like(theta)
                    e2[free[b]] = h[b]
                    val = (
                        f(theta + e + e2)
                        - f(theta + e - e2)
                        - f(theta - e + e2)
                        + f(theta - e - e2)
                    ) / (4 * h[a] * h[b])
                    hess[a, b] = hess[b, a] = val
            try:
                step = np.linalg.solve(hess, g)
            except np.linalg.LinAlgError:
                break
            if not np.all(np.isfinite(step)) or np.any(np.linalg.eigvalsh(hess) <= 0):
                break
            cand = theta.copy()
            cand[free] = np.maximum(theta[free] - step, 0.0)
            val = f(cand)
            if val > best:
                break
            done = np.max(np.abs(cand - theta)) < 1e-10 * max(1.0, np.max(theta))
            theta, best = cand, val
            if done:
                break
        return theta
