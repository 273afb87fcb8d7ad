"""Power and sample size for a new two-modality MRMC study from OR variance components.

Method of Hillis, Obuchowski & Berbaum (2011, Acad Radiol 18:129): the pilot study's OR error
covariances (estimated with K pilot cases) are rescaled to K* cases by K/K*; sigma^2_TR is kept.
For J readers and effect size d (difference in the FOM):

* RRRC: den = sigma2_TR + (K/K*) [Var - Cov1 + (J-1) max(Cov2 - Cov3, 0)],
  ncp = J d^2 / (2 den), ddf = den^2 / { [sigma2_TR + (K/K*)(Var - Cov1 - max(Cov2 - Cov3, 0))]^2
  / (J-1) }, power = P(F(1, ddf, ncp) > F_crit).
* FRRC: den = (K/K*) [Var - Cov1 + (J-1) max(Cov2 - Cov3, 0)], chi-square(1, ncp).
* RRFC: den = sigma2_TR + (K/K*)(Var - Cov1 - max(Cov2 - Cov3, 0)) (the expected MS(TR)),
  F(1, J-1, ncp).

sigma2_TR is used as max(sigma2_TR, 0): a negative estimate means no reader x modality
variance (Hillis et al. 2011, and what the standard MRMC packages do); using the negative
value would shrink the error term and understate the cases needed.

The RRRC numbers reproduce RJafroc's ``SsPowerGivenJK`` (see tests); FRRC and RRFC follow the
same derivation and are not anchored to another implementation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from scipy import stats

from .mrmc_or import OrAnalysis


@dataclass(frozen=True)
class OrVarianceComponents:
    var_tr: float
    var_error: float
    cov1: float
    cov2: float
    cov3: float
    n_cases_pilot: int

    @classmethod
    def from_analysis(cls, analysis: OrAnalysis, n_cases_pilot: int) -> OrVarianceComponents:
        c = analysis.components
        return cls(c.var_tr, c.var, c.cov1, c.cov2, c.cov3, int(n_cases_pilot))


@dataclass(frozen=True)
class PowerResult:
    analysis: str
    n_readers: int
    n_cases: int
    effect: float
    alpha: float
    power: float
    ncp: float
    ddf: float
    critical_value: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def or_power(
    vc: OrVarianceComponents,
    effect: float,
    n_readers: int,
    n_cases: int,
    analysis: str = "RRRC",
    alpha: float = 0.05,
) -> PowerResult:
    j, scale = int(n_readers), vc.n_cases_pilot / float(n_cases)
    if j < 2 or n_cases < 2:
        raise ValueError("need at least 2 readers and 2 cases")
    # A negative estimate of the reader x modality variance means "no such variance": 0
    # (Hillis, Obuchowski & Berbaum 2011), and Cov2 - Cov3 is clipped at 0 wherever it enters.
    var_tr = max(vc.var_tr, 0.0)
    clip = max(vc.cov2 - vc.cov3, 0.0)
    if analysis == "RRRC":
        den = var_tr + scale * (vc.var_error - vc.cov1 + (j - 1) * clip)
        ddf = den**2 / ((var_tr + scale * (vc.var_error - vc.cov1 - clip)) ** 2 / (j - 1))
    elif analysis == "FRRC":
        den = scale * (vc.var_error - vc.cov1 + (j - 1) * clip)
        ddf = float("inf")
    elif analysis == "RRFC":
        den = var_tr + scale * (vc.var_error - vc.cov1 - clip)
        ddf = float(j - 1)
    else:
        raise ValueError("analysis must be 'RRRC', 'FRRC' or 'RRFC'")
    if den <= 0:
        raise ValueError(f"non-positive error term ({den:.3g}); variance components unusable")
    ncp = j * effect**2 / (2.0 * den)
    if analysis == "FRRC":
        crit = stats.chi2.ppf(1 - alpha, 1)
        power = stats.ncx2.sf(crit, 1, ncp)
    else:
        crit = stats.f.ppf(1 - alpha, 1, ddf)
        power = stats.ncf.sf(crit, 1, ddf, ncp)
    return PowerResult(
        analysis,
        j,
        int(n_cases),
        float(effect),
        alpha,
        float(power),
        float(ncp),
        float(ddf),
        float(crit),
    )


def or_sample_size(
    vc: OrVarianceComponents,
    effect: float,
    n_readers: int,
    target_power: float = 0.8,
    analysis: str = "RRRC",
    alpha: float = 0.05,
    max_cases: int = 1_000_000,
) -> PowerResult:
    """Smallest number of cases reaching ``target_power`` with ``n_readers`` readers."""

    def pw(k: int) -> float:
        return or_power(vc, effect, n_readers, k, analysis, alpha).power

    hi = 2
    while pw(hi) < target_power:
        hi *= 2
        if hi > max_cases:
            raise ValueError(
                f"target power {target_power} not reached with {max_cases} cases and "
                f"{n_readers} readers (RRRC power is bounded by the reader variance)"
            )
    lo = max(hi // 2, 2)
    while lo < hi:
        mid = (lo + hi) // 2
        if pw(mid) >= target_power:
            hi = mid
        else:
            lo = mid + 1
    return or_power(vc, effect, n_readers, hi, analysis, alpha)
