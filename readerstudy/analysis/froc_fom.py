"""Figures of merit for FROC and LROC data, with their case-jackknife values.

Notation (per modality i and reader j): ``FP_k`` is the highest non-lesion (NL) rating on case
k (-inf when the case has no NL mark), ``z_kl`` the rating of lesion l of diseased case k (-inf
when unmarked), ``W_kl`` its weight (a case's weights sum to 1), ``K1``/``K2`` the numbers of
non-diseased / diseased cases, ``L_T`` the number of lesions, ``psi(x, y)`` = 1 if y > x, 1/2 if
y == x (two unmarked items tie), else 0.

* ``AFROC``   = sum_{k1} sum_{k2,l} psi(FP_k1, z_k2l) / (K1 L_T)        (non-diseased k1)
* ``wAFROC``  = sum_{k1} sum_{k2,l} W_k2l psi(FP_k1, z_k2l) / (K1 K2)   (RJafroc's default)
* ``AFROC1``, ``wAFROC1``: the same with FP over *all* K cases (for studies without normals)
* ``HrAuc``   = Wilcoxon AUC of the highest rating per case (inferred ROC)
* ``HrSe``    = fraction of diseased cases with at least one mark; ``HrSp`` = fraction of
  non-diseased cases without marks (the inferred ROC's end point)
* ``MaxLLF``  = LL marks / L_T; ``MaxNLF`` = NL marks on non-diseased cases / K1 (the FROC's
  uppermost point)
* LROC: ``Wilcoxon`` (AUC of the single rating per case, correct or incorrect localisation),
  ``PCL`` (probability of correct localisation at FPF = ``fpf_value``, linear interpolation of
  the empirical LROC) and ``ALROC`` (area under the empirical LROC from 0 to ``fpf_value``).

Jackknife sets follow RJafroc: HrSp and MaxNLF delete non-diseased cases only, HrSe and
MaxLLF diseased cases only, every other FOM deletes each of the K cases. The leave-one-out values
of the AUC-type FOMs use closed forms (row and column sums of the comparison matrix), so the
jackknife costs one FOM evaluation. The jackknife values are shifted so that each reader x
modality's mean pseudovalue equals its FOM (RJafroc's centring; the covariance is unchanged).
"""

from __future__ import annotations

import numpy as np

from .fom import FomData
from .froc_io import FrocDataset

FROC_FOMS = ("wAFROC", "AFROC", "wAFROC1", "AFROC1", "HrAuc", "HrSe", "HrSp", "MaxLLF", "MaxNLF")
LROC_FOMS = ("Wilcoxon", "PCL", "ALROC")
JACKKNIFE_SET = {"HrSp": "normal", "MaxNLF": "normal", "HrSe": "diseased", "MaxLLF": "diseased"}


def check_fom(paradigm: str, fom: str) -> None:
    allowed = FROC_FOMS if paradigm == "FROC" else LROC_FOMS
    if fom not in allowed:
        raise ValueError(
            f"FOM {fom!r} is not available for {paradigm} data; use one of {', '.join(allowed)}"
        )


def default_fom(paradigm: str) -> str:
    return "wAFROC" if paradigm == "FROC" else "Wilcoxon"


# --- the comparison-matrix statistic --------------------------------------------------------


def _psi_sums(fp: np.ndarray, z: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """S = sum_a sum_{b,l} w_bl psi(fp_a, z_bl), its row sums over a and column sums over b.

    Sorting-based (no n_fp x n_lesion matrix), exact with ties and -inf."""
    fs = np.sort(fp)
    below = np.searchsorted(fs, z, side="left")  # fp < z
    equal = np.searchsorted(fs, z, side="right") - below
    col = np.sum(w * (below + 0.5 * equal), axis=1)
    zf, wf = z.ravel(), w.ravel()
    order = np.argsort(zf, kind="stable")
    zs, ws = zf[order], wf[order]
    cum = np.concatenate([[0.0], np.cumsum(ws)])
    total = cum[-1]
    lo = np.searchsorted(zs, fp, side="left")
    hi = np.searchsorted(zs, fp, side="right")
    row = (total - cum[hi]) + 0.5 * (cum[hi] - cum[lo])  # z > fp, plus half of ties
    return float(col.sum()), row, col


def _auc_type(
    fp: np.ndarray, z: np.ndarray, w: np.ndarray, norm_l: np.ndarray | None, fp_all: bool
) -> tuple[float, np.ndarray]:
    """FOM and leave-one-case-out values (normal cases first, then diseased).

    ``fp``: the FP scores of the K1 normal cases, or of all K cases when ``fp_all``;
    ``w``: lesion weights (wAFROC-type, divided by K2) when ``norm_l`` is None, else 0/1 lesion
    indicators with ``norm_l`` lesions per case (AFROC-type, divided by L_T)."""
    k2 = z.shape[0]
    n_fp = fp.shape[0]
    k1 = n_fp - k2 if fp_all else n_fp
    s, row, col = _psi_sums(fp, z, w)
    if norm_l is None:
        den_d = np.ones(k2)
    else:
        den_d = norm_l.astype(float)
    d_total = float(den_d.sum())
    theta = s / (n_fp * d_total)
    jack = np.empty(k1 + k2)
    with np.errstate(divide="ignore", invalid="ignore"):
        jack[:k1] = (s - row[:k1]) / ((n_fp - 1) * d_total)
        if fp_all:
            diag = np.sum(w * _psi(fp[k1:, None], z), axis=1)
            num = s - row[k1:] - col + diag
            jack[k1:] = num / ((n_fp - 1) * (d_total - den_d))
        else:
            jack[k1:] = (s - col) / (n_fp * (d_total - den_d))
    return theta, jack


def _psi(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out: np.ndarray = (y > x) + 0.5 * (y == x)
    return out


# --- LROC curve -----------------------------------------------------------------------------


def lroc_points(fp: np.ndarray, cl: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Empirical LROC vertices (FPF, PCL) from (0, 0) to (1, PCL_max).

    ``fp``: rating of each non-diseased case (-inf = unmarked); ``cl``: rating of each diseased
    case's correct localisation (-inf = incorrectly localised or unmarked). Thresholds run over
    the distinct finite ratings; past the lowest mark the curve is flat (unmarked normal cases
    become false positives, no further correct localisations)."""
    marks = np.concatenate([fp, cl])
    zetas = np.unique(marks[np.isfinite(marks)])[::-1]
    fs, cs = np.sort(fp), np.sort(cl)
    fpf = (fs.size - np.searchsorted(fs, zetas, side="left")) / max(fs.size, 1)
    pcl = (cs.size - np.searchsorted(cs, zetas, side="left")) / max(cs.size, 1)
    x = np.concatenate([[0.0], fpf, [1.0]])
    y = np.concatenate([[0.0], pcl, [pcl[-1] if pcl.size else 0.0]])
    return x, y


def _pcl_at(x: np.ndarray, y: np.ndarray, fpf: float) -> float:
    """PCL at FPF by linear interpolation (the upper vertex at vertical steps)."""
    i = int(np.searchsorted(x, fpf, side="right"))
    if i >= x.size:
        return float(y[-1])
    x0, x1, y0, y1 = x[i - 1], x[i], y[i - 1], y[i]
    return float(y0 + (y1 - y0) * (fpf - x0) / (x1 - x0))


def _alroc(x: np.ndarray, y: np.ndarray, fpf: float) -> float:
    keep = x < fpf
    i = int(np.searchsorted(x, fpf, side="left"))  # first vertex at or right of fpf
    end = y[i - 1] + (y[i] - y[i - 1]) * (fpf - x[i - 1]) / (x[i] - x[i - 1])
    xs = np.concatenate([x[keep], [fpf]])
    ys = np.concatenate([y[keep], [end]])
    return float(np.sum(np.diff(xs) * (ys[1:] + ys[:-1]) / 2))


def lroc_fom(fp: np.ndarray, cl: np.ndarray, fom: str, fpf_value: float) -> float:
    x, y = lroc_points(fp, cl)
    return _pcl_at(x, y, fpf_value) if fom == "PCL" else _alroc(x, y, fpf_value)


# --- per reader x modality ------------------------------------------------------------------


def _one(
    fom: str,
    nl_top: np.ndarray,
    nl_count: np.ndarray,
    ll: np.ndarray,
    weights: np.ndarray,
    present: np.ndarray,
    k1: int,
    fpf_value: float,
) -> tuple[float, np.ndarray]:
    """FOM and jackknife values for one reader x modality (arrays over cases/lesions)."""
    k2 = ll.shape[0]
    n_les = present.sum(axis=1)
    marked_ll = np.isfinite(ll) & present
    if fom in ("wAFROC", "AFROC", "wAFROC1", "AFROC1"):
        fp = nl_top if fom.endswith("1") else nl_top[:k1]
        if fom.startswith("w"):
            return _auc_type(fp, ll, weights, None, fom.endswith("1"))
        return _auc_type(fp, ll, present.astype(float), n_les, fom.endswith("1"))
    if fom in ("HrAuc", "Wilcoxon"):
        top_d = np.maximum(nl_top[k1:], np.where(present, ll, -np.inf).max(axis=1, initial=-np.inf))
        return _auc_type(nl_top[:k1], top_d[:, None], np.ones((k2, 1)), None, False)
    if fom == "HrSe":
        hit = (np.isfinite(nl_top[k1:]) | marked_ll.any(axis=1)).astype(float)
        return float(hit.mean()), (hit.sum() - hit) / (k2 - 1)
    if fom == "HrSp":
        ok = (~np.isfinite(nl_top[:k1])).astype(float)
        return float(ok.mean()), (ok.sum() - ok) / (k1 - 1)
    if fom == "MaxLLF":
        n = marked_ll.sum(axis=1).astype(float)
        return float(n.sum() / n_les.sum()), (n.sum() - n) / (n_les.sum() - n_les)
    if fom == "MaxNLF":
        n = nl_count[:k1].astype(float)
        return float(n.sum() / k1), (n.sum() - n) / (k1 - 1)
    if fom in ("PCL", "ALROC"):
        fp = nl_top[:k1]
        cl = np.where(marked_ll[:, 0], ll[:, 0], -np.inf)
        theta = lroc_fom(fp, cl, fom, fpf_value)
        jack = np.empty(k1 + k2)
        for a in range(k1):
            jack[a] = lroc_fom(np.delete(fp, a), cl, fom, fpf_value)
        for b in range(k2):
            jack[k1 + b] = lroc_fom(fp, np.delete(cl, b), fom, fpf_value)
        return theta, jack
    raise ValueError(f"unknown FOM {fom!r}")


def froc_fom_data(ds: FrocDataset, fom: str = "wAFROC", fpf_value: float = 0.2) -> FomData:
    """FOM per modality x reader and its jackknife values, as the OR/DBM code takes them."""
    check_fom(ds.paradigm, fom)
    k1, k2 = ds.k1, ds.k2
    needs_normal = fom not in ("wAFROC1", "AFROC1", "HrSe", "MaxLLF")
    if needs_normal and k1 < 2:
        raise ValueError(f"FOM {fom} needs at least 2 non-diseased cases (found {k1})")
    if fom not in ("HrSp", "MaxNLF") and k2 < 2:
        raise ValueError(f"FOM {fom} needs at least 2 diseased cases (found {k2})")
    if fom in ("PCL", "ALROC") and not 0 < fpf_value <= 1:
        raise ValueError(f"FPF value must be in (0, 1], not {fpf_value}")
    nl_top, nl_count = ds.nl_arrays()
    ll = ds.ll_array()
    weights = ds.weight_matrix()
    present = np.zeros_like(weights, dtype=bool)
    for k, n in enumerate(ds.lesions_per_case):
        present[k, :n] = True
    n_mod, n_rdr = len(ds.modalities), len(ds.readers)
    which = JACKKNIFE_SET.get(fom, "all")
    idx = {
        "all": slice(0, k1 + k2),
        "normal": slice(0, k1),
        "diseased": slice(k1, k1 + k2),
    }[which]
    theta = np.empty((n_mod, n_rdr))
    jack_list = []
    for i in range(n_mod):
        row = []
        for j in range(n_rdr):
            t, jk = _one(
                fom, nl_top[i, j], nl_count[i, j], ll[i, j], weights, present, k1, fpf_value
            )
            theta[i, j] = t
            full = jk if jk.size == k1 + k2 else _pad(jk, which, k1, k2, t)
            row.append(full[idx])
        jack_list.append(row)
    jack = np.asarray(jack_list, dtype=float)
    # Centre the pseudovalues on the FOM (RJafroc does the same): shifting a reader x
    # modality's jackknife values by a constant leaves the jackknife covariance unchanged and
    # makes the mean pseudovalue equal the FOM, so DBM-RRRC equals OR-RRRC for every FOM.
    c = jack.shape[2]
    if c > 1:
        pseudo_mean = c * theta - (c - 1) * jack.mean(axis=2)
        jack = jack + ((pseudo_mean - theta) / (c - 1))[:, :, None]
    return FomData(fom, list(ds.modalities), list(ds.readers), theta, jack)


def _pad(jk: np.ndarray, which: str, k1: int, k2: int, theta: float) -> np.ndarray:
    """Class-specific jackknife values placed into an all-cases vector (others = theta)."""
    full = np.full(k1 + k2, theta)
    if which == "normal":
        full[:k1] = jk
    else:
        full[k1:] = jk
    return full


def fom_table(ds: FrocDataset, fom: str = "wAFROC", fpf_value: float = 0.2) -> np.ndarray:
    """(I, J) FOM values only."""
    return froc_fom_data(ds, fom, fpf_value).theta
