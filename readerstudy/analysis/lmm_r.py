"""R backend: lme4 + lmerTest (Satterthwaite df) + emmeans through rpy2.

rpy2 is called directly rather than through pymer4 0.8.2: pymer4's ``post_hoc`` rounds the
emmeans tables to 3 decimals and its ``ranef_var`` to 5, which is too coarse for the
cross-checks, and it offers no way to pass ``lmerTest.limit`` to emmeans. emmeans is always
called with ``lmer.df = "satterthwaite"`` and ``lmerTest.limit = Inf`` (its default switches to
asymptotic df above 3,000 observations).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

_R_CODE = r"""
function(y, cond_codes, cond_levels, case_codes, reader_codes, random_terms, family, level) {
  d <- data.frame(
    y = y,
    condition = factor(cond_levels[cond_codes + 1L], levels = cond_levels),
    case = factor(case_codes),
    reader = factor(reader_codes)
  )
  f <- stats::as.formula(paste("y ~ condition +",
                               paste0("(1 | ", random_terms, ")", collapse = " + ")))
  msgs <- character(0)
  fit <- withCallingHandlers(
    if (family == "gaussian") {
      lmerTest::lmer(f, data = d, REML = TRUE)
    } else {
      lme4::glmer(f, data = d, family = stats::binomial(link = "logit"))
    },
    warning = function(w) { msgs <<- c(msgs, conditionMessage(w)); invokeRestart("muffleWarning") },
    message = function(m) { msgs <<- c(msgs, conditionMessage(m)); invokeRestart("muffleMessage") }
  )
  if (family == "gaussian") {
    emm <- emmeans::emmeans(fit, ~ condition, lmer.df = "satterthwaite", lmerTest.limit = Inf)
  } else {
    emm <- emmeans::emmeans(fit, ~ condition, type = "response")
  }
  es <- as.data.frame(summary(emm, infer = c(TRUE, TRUE), level = level))
  cs <- as.data.frame(summary(emmeans::contrast(emm, method = "revpairwise", adjust = "none"),
                              infer = c(TRUE, TRUE), level = level))
  vc <- as.data.frame(lme4::VarCorr(fit))
  conv <- fit@optinfo$conv$lme4$messages
  list(
    emm_names = names(es), emm = lapply(es, function(x) if (is.factor(x)) as.character(x) else x),
    con_names = names(cs), con = lapply(cs, function(x) if (is.factor(x)) as.character(x) else x),
    vc_grp = as.character(vc$grp), vc_var = vc$vcov,
    messages = c(msgs, if (is.null(conv)) character(0) else as.character(conv)),
    singular = lme4::isSingular(fit)
  )
}
"""


_R_MESSAGES: list[str] = []


@functools.cache
def r_available() -> tuple[bool, str]:
    """(True, version string) when rpy2 imports and R has lme4, lmerTest and emmeans."""
    # rpy2 logs "Embedded R ended" at interpreter exit, when logging streams may be closed
    logging.getLogger("rpy2.rinterface_lib.embedded").setLevel(logging.WARNING)
    try:
        from rpy2.rinterface_lib import callbacks

        # R start-up chatter (e.g. "library ... contains no packages") would go to the console
        callbacks.consolewrite_warnerror = _R_MESSAGES.append
        saved = os.environ.get("LD_LIBRARY_PATH")
        import rpy2.robjects as ro
        from rpy2.robjects.packages import isinstalled
    except Exception as exc:  # pragma: no cover - depends on the machine
        return False, f"rpy2 not importable: {exc}"
    finally:
        # Embedding R points LD_LIBRARY_PATH at R's and the system's libraries; child
        # processes started later (workers, servers) must not inherit that.
        if "saved" in locals():
            if saved is None:
                os.environ.pop("LD_LIBRARY_PATH", None)
            else:
                os.environ["LD_LIBRARY_PATH"] = saved
    try:
        missing = [p for p in ("lme4", "lmerTest", "emmeans") if not isinstalled(p)]
        if missing:
            return False, f"R package(s) missing: {', '.join(missing)}"
        return True, str(ro.r("R.version.string")[0])
    except Exception as exc:  # pragma: no cover
        return False, f"R not usable: {exc}"


@functools.cache
def r_versions() -> dict[str, str]:
    import rpy2
    import rpy2.robjects as ro

    out = {
        "R": str(ro.r("paste(R.version$major, R.version$minor, sep='.')")[0]),
        "rpy2": rpy2.__version__,
    }
    for pkg in ("lme4", "lmerTest", "emmeans"):
        out[pkg] = str(ro.r(f"as.character(utils::packageVersion('{pkg}'))")[0])
    return out


@functools.cache
def _fitter() -> Any:  # an R function (rpy2 has no types)
    import rpy2.robjects as ro

    ro.r(
        "suppressPackageStartupMessages({requireNamespace('lmerTest'); "
        "requireNamespace('emmeans')})"
    )
    return ro.r(_R_CODE)


def _to_py(rlist: Any) -> dict[str, Any]:
    return {k: rlist.rx2(k) for k in rlist.names}


def fit_r(
    y: npt.ArrayLike,
    cond_codes: npt.ArrayLike,
    cond_levels: Sequence[str],
    case_codes: npt.ArrayLike,
    reader_codes: npt.ArrayLike,
    random_terms: Sequence[str],
    family: str,
    level: float,
) -> dict[str, Any]:
    """Fit in R; returns plain Python dicts of emmeans, contrasts and variance components."""
    ok, why = r_available()
    if not ok:
        raise RuntimeError(f"R backend unavailable: {why}")
    import rpy2.robjects as ro
    from rpy2.robjects import numpy2ri
    from rpy2.robjects.conversion import localconverter

    fitter = _fitter()
    with localconverter(ro.default_converter + numpy2ri.converter) as cv:
        arrays = [
            cv.py2rpy(np.asarray(y, dtype=float)),
            cv.py2rpy(np.asarray(cond_codes, dtype=np.int32)),
            cv.py2rpy(np.asarray(case_codes, dtype=np.int32)),
            cv.py2rpy(np.asarray(reader_codes, dtype=np.int32)),
        ]
    res = fitter(
        arrays[0],
        arrays[1],
        ro.StrVector(list(cond_levels)),
        arrays[2],
        arrays[3],
        ro.StrVector(list(random_terms)),
        family,
        float(level),
    )
    out = _to_py(res)

    def frame(names_key: str, data_key: str) -> dict[str, list[Any]]:
        names = list(out[names_key])
        data = out[data_key]
        return {n: list(data[i]) for i, n in enumerate(names)}

    return {
        "emm": frame("emm_names", "emm"),
        "con": frame("con_names", "con"),
        "vc": dict(zip(list(out["vc_grp"]), [float(v) for v in out["vc_var"]], strict=True)),
        "messages": [str(m) for m in out["messages"]],
        "singular": bool(out["singular"][0]),
    }
