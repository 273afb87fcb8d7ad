"""Optional engine: fit the variance parameters with statsmodels ``MixedLM`` (REML).

Returns lme4-style relative SDs theta = sigma_b / sigma; the caller then evaluates the fixed
effects, their covariance and the Satterthwaite df at these values. One random-intercept term
uses MixedLM's groups; several crossed terms use variance components within a single group.
statsmodels can stop early on these models (check ``converged``), which is why the default
engine is the exact profiled optimiser in :mod:`.lmm_python`.
"""

from __future__ import annotations

import warnings

import numpy as np
import numpy.typing as npt
import pandas as pd
from statsmodels.regression.mixed_linear_model import MixedLM

from .lmm_python import RandomTerm


def fit_mixedlm(
    y: npt.ArrayLike, X: np.ndarray, terms: list[RandomTerm]
) -> tuple[np.ndarray, bool, list[str]]:
    msgs: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if len(terms) == 1:
            model = MixedLM(np.asarray(y, float), np.asarray(X, float), groups=terms[0].codes)
            res = model.fit(reml=True)
            theta = np.array([np.sqrt(max(float(np.asarray(res.cov_re)[0, 0]), 0.0) / res.scale)])
        else:
            data = pd.DataFrame({"y": np.asarray(y, float), "g": 0})
            exog = pd.DataFrame(np.asarray(X, float), columns=[f"x{i}" for i in range(X.shape[1])])
            vc = {}
            for i, t in enumerate(terms):
                data[f"v{i}"] = t.codes
                vc[f"v{i}"] = f"0 + C(v{i})"
            data = pd.concat([data, exog], axis=1)
            fml = "y ~ 0 + " + " + ".join(exog.columns)
            model = MixedLM.from_formula(fml, groups="g", vc_formula=vc, re_formula="0", data=data)
            res = model.fit(reml=True)
            theta = np.sqrt(np.clip(np.asarray(res.vcomp, float), 0, None) / res.scale)
    msgs += [str(w.message) for w in caught]
    return theta, bool(res.converged), msgs
