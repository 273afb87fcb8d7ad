# mypy: disable-error-code="import-untyped"
"""Train ``cvt_hematoma_dlrn`` on seed-001 phantoms and write its bundle.

Recipe: ``n`` phantom cases (``phantoms.hematoma``, 25 % CVT-related as the seed's 24 %),
split by case into training (70 %) and a held-out test set (30 %, stratified). On the
ground-truth masks: PyRadiomics features and the largest-slice crop of every case; the
CNN extractor trained on the training crops; PCA of its penultimate features fitted on
training; selection (:mod:`.selection`) and forests (:mod:`.signatures`) for Rad, DL and
the fused DLR set; chi-square screen of the covariates; the DLRN logistic regression and
its nomogram. Held-out AUCs of the four models go to the manifest and the model card.
``--icc ICC.json --icc-threshold T`` drops radiomic features whose ICC(2,1) (from
``python -m readerstudy.analysis icc``) is below T before selection.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from ...manifest import sha256_file
from . import store
from .card import write_card
from .case_features import case_features
from .deep import ExtractorConfig, features, train_network
from .manifest import MODEL_ID, build_manifest
from .nomogram import Nomogram, Variable
from .radiomics_features import PARAMS
from .selection import select
from .signatures import chi_square_screen, fit_forest, fit_logistic, out_of_fold

DEFAULTS = {"n_cases": 160, "epochs": 25}
TEST_FRACTION = 0.3
EXTRACTOR_FILE = "extractor.safetensors"
PCA_FILE = "pca.safetensors"
PCA_MAX = 512


def _one_case(spec: tuple[int, str, int, str]) -> dict[str, Any]:
    from phantoms.hematoma import describe, make_hematoma_case

    seed, label, matrix, case_id = spec
    hc = make_hematoma_case(seed, label, matrix=matrix, case_id=case_id)
    cf = case_features(hc.case.to_sitk(), hc.case.mask_sitk())
    return {
        **describe(hc),
        "truth": hc.truth,
        "radiomics": cf.radiomics,
        "slice": cf.largest.pixels,
        "timings": cf.timings,
    }


def build_cases(n: int, seed: int, matrix: int, workers: int) -> list[dict[str, Any]]:
    from phantoms.hematoma import hematoma_labels
    from phantoms.seeding import derived_seed

    specs = [
        (derived_seed(seed, "hematoma", i), label, matrix, f"HM{i + 1:04d}")
        for i, label in enumerate(hematoma_labels(n, seed))
    ]
    if workers <= 1:
        return [_one_case(s) for s in specs]
    with get_context("spawn").Pool(workers) as pool:
        return pool.map(_one_case, specs, chunksize=4)


def icc_exclusions(
    path: str | Path, threshold: float, names: list[str]
) -> tuple[set[str], dict[str, Any]]:
    """Radiomic features whose ICC(2,1) is below ``threshold`` (or not a number)."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    table = doc.get("icc") if isinstance(doc, dict) else None
    if not isinstance(table, dict):
        raise ValueError(f"{path}: no 'icc' object (expected python -m readerstudy.analysis icc)")
    covered = [n for n in names if n in table]
    if not covered:
        raise ValueError(f"{path}: none of the {len(names)} radiomic features has an ICC")
    out = set()
    for n in covered:
        v = table[n].get("icc2_1")
        if v is None or not np.isfinite(float(v)) or float(v) < threshold:
            out.add(n)
    return out, {
        "file": Path(path).name,
        "threshold": threshold,
        "covered": len(covered),
        "excluded": len(out),
        "statistic": "icc2_1",
    }


@dataclass
class RadiomicsMatrix:
    values: np.ndarray  # (cases, used features), the features selection may choose from
    extracted: list[str]  # every extracted feature, PyRadiomics' order
    used: list[str]  # the columns of ``values``
    finite: np.ndarray  # per extracted feature: finite on every training case
    icc_report: dict[str, Any]


def radiomics_matrix(
    cases: list[dict[str, Any]],
    idx_tr: np.ndarray,
    icc: str | Path | None = None,
    icc_threshold: float = 0.8,
) -> RadiomicsMatrix:
    """The radiomic features selection starts from: those finite on every training case,
    less (with ``icc``) those whose ICC(2,1) is below ``icc_threshold``."""
    names = list(cases[0]["radiomics"])
    rad = np.array([[c["radiomics"][k] for k in names] for c in cases], dtype=np.float64)
    finite = np.all(np.isfinite(rad[idx_tr]), axis=0)
    report: dict[str, Any] = {}
    excluded: set[str] = set()
    if icc:
        excluded, report = icc_exclusions(icc, icc_threshold, names)
    usable = [i for i, n in enumerate(names) if finite[i] and n not in excluded]
    return RadiomicsMatrix(
        np.nan_to_num(rad[:, usable]), names, [names[i] for i in usable], finite, report
    )


def auc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return round(float(roc_auc_score(y, p)), 4)


def youden(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_curve

    fpr, tpr, thr = roc_curve(y, p)
    k = int(np.argmax(tpr - fpr))
    return float(min(max(thr[k], 0.0), 1.0))


def train(
    out: str | Path,
    *,
    n_cases: int,
    seed: int,
    epochs: int,
    threads: int,
    matrix: int,
    version: str,
    icc: str | None = None,
    icc_threshold: float = 0.8,
    workers: int = 2,
) -> dict[str, Any]:
    import torch
    from safetensors.torch import save_file
    from sklearn.model_selection import train_test_split

    t0 = time.perf_counter()
    torch.set_num_threads(threads)
    bundle = Path(out)
    bundle.mkdir(parents=True, exist_ok=True)
    cases = build_cases(n_cases, seed, matrix, workers)
    t_data = time.perf_counter() - t0
    y = np.array([c["truth"] for c in cases], dtype=np.int64)
    idx_tr, idx_te = train_test_split(
        np.arange(len(cases)), test_size=TEST_FRACTION, stratify=y, random_state=seed
    )
    rm = radiomics_matrix(cases, idx_tr, icc, icc_threshold)
    rad, rad_names, rad_used = rm.values, rm.extracted, rm.used

    # deep branch
    slices = np.stack([c["slice"] for c in cases]).astype(np.float32)
    config = ExtractorConfig()
    net, history = train_network(config, slices[idx_tr], y[idx_tr], epochs=epochs, seed=seed)
    deep = features(net, slices)
    from sklearn.decomposition import PCA

    n_pca = int(min(PCA_MAX, len(idx_tr), deep.shape[1]))
    pca = PCA(n_components=n_pca, random_state=seed).fit(deep[idx_tr])
    dl = pca.transform(deep)
    dl_names = [f"dl_pca_{k:03d}" for k in range(n_pca)]

    sets = {
        "rad": (rad, rad_used),
        "dl": (dl, dl_names),
        "dlr": (np.hstack([rad, dl]), rad_used + dl_names),
    }
    model: dict[str, Any] = {"signatures": {}}
    scores_tr: dict[str, np.ndarray] = {}
    scores_te: dict[str, np.ndarray] = {}
    for sig, (x, names) in sets.items():
        sel = select(x[idx_tr], y[idx_tr], names, seed=seed)
        from .selection import smote

        xs, ys = smote(x[idx_tr], y[idx_tr], seed)
        z = sel.transform(xs, names)
        search = fit_forest(z, ys, seed)
        store.save_forest(search.best_estimator_, bundle / store.forest_file(sig))
        z_te = sel.transform(x[idx_te], names)
        scores_te[sig] = search.best_estimator_.predict_proba(z_te)[:, 1]
        z_tr = sel.transform(x[idx_tr], names)
        scores_tr[sig] = out_of_fold(search, z_tr, y[idx_tr], seed)
        model["signatures"][sig] = {
            "selection": sel.to_json(),
            "forest": {
                "file": store.forest_file(sig),
                "best_params": search.best_params_,
                "cv_auc": round(float(search.best_score_), 4),
                "importances": [float(v) for v in search.best_estimator_.feature_importances_],
            },
        }

    # clinical screen and the DLRN
    cov_names = list(cases[0]["covariates"])
    cov = {k: np.array([c["covariates"][k] for c in cases], dtype=np.float64) for k in cov_names}
    kept, screen = chi_square_screen({k: v[idx_tr] for k, v in cov.items()}, y[idx_tr])
    variables = ["dlr_signature", *kept]

    def design(idx: np.ndarray, dlr: np.ndarray) -> np.ndarray:
        return np.column_stack([dlr, *[cov[k][idx] for k in kept]])

    intercept, coef = fit_logistic(design(idx_tr, scores_tr["dlr"]), y[idx_tr])
    nomo = Nomogram(
        intercept,
        [
            Variable(
                name,
                float(b),
                0.0,
                1.0,
                (0.0, 0.2, 0.4, 0.6, 0.8, 1.0) if name == "dlr_signature" else (0.0, 1.0),
            )
            if name == "dlr_signature" or set(np.unique(cov[name])) <= {0.0, 1.0}
            else Variable(
                name,
                float(b),
                float(cov[name][idx_tr].min()),
                float(cov[name][idx_tr].max()),
                tuple(
                    float(t)
                    for t in np.linspace(cov[name][idx_tr].min(), cov[name][idx_tr].max(), 5)
                ),
            )
            for name, b in zip(variables, coef)
        ],
    )

    def dlrn(idx: np.ndarray, dlr: np.ndarray) -> np.ndarray:
        lp = intercept + design(idx, dlr) @ coef
        out: np.ndarray = 1.0 / (1.0 + np.exp(-lp))
        return out

    p_tr = dlrn(idx_tr, scores_tr["dlr"])
    p_te = dlrn(idx_te, scores_te["dlr"])
    threshold = youden(y[idx_tr], p_tr)
    model["dlrn"] = {
        "variables": variables,
        "intercept": intercept,
        "coef": coef.tolist(),
        "covariate_screen": screen,
        "covariates_kept": kept,
        "nomogram": nomo.to_json(),
    }
    model["deep"] = {"extractor": config.to_dict(), "pca_components": n_pca, "pca_max": PCA_MAX}
    model["radiomics"] = {
        "extracted": len(rad_names),
        "finite": int(rm.finite.sum()),
        "used": len(rad_used),
        "icc": rm.icc_report,
    }
    model["covariates"] = cov_names

    # files
    if bundle.resolve() != PARAMS.parent:
        shutil.copyfile(PARAMS, bundle / "radiomics.yaml")
    save_file(
        {k: v.detach().contiguous() for k, v in net.state_dict().items()},
        str(bundle / EXTRACTOR_FILE),
    )
    store.save_pca(pca.components_, pca.mean_, bundle / PCA_FILE)
    files = ["radiomics.yaml", *[store.forest_file(s) for s in store.SIGNATURES]]
    store.write_model_json(bundle, model, files)

    y_te = y[idx_te]
    held_out = {s: auc(y_te, scores_te[s]) for s in store.SIGNATURES}
    held_out["dlrn"] = auc(y_te, p_te)
    pred_te = (p_te >= threshold).astype(int)
    metrics = {
        "held_out": {
            "n_cases": int(len(idx_te)),
            "n_cvt_related": int(y_te.sum()),
            "auc": held_out,
            "dlrn_at_threshold": {
                "sensitivity": round(float(pred_te[y_te == 1].mean()), 4),
                "specificity": round(float(1 - pred_te[y_te == 0].mean()), 4),
                "accuracy": round(float((pred_te == y_te).mean()), 4),
            },
        },
        "training": {
            "n_cases": int(len(idx_tr)),
            "n_cvt_related": int(y[idx_tr].sum()),
            "cv_auc": {s: model["signatures"][s]["forest"]["cv_auc"] for s in store.SIGNATURES},
            "dlrn_auc_out_of_fold": auc(y[idx_tr], p_tr),
        },
        "feature_counts": {
            "radiomics_extracted": len(rad_names),
            "radiomics_used": len(rad_used),
            "dl_pca": n_pca,
            **{
                f"{s}_selected": len(model["signatures"][s]["selection"]["names"])
                for s in store.SIGNATURES
            },
            **{
                f"{s}_steps": model["signatures"][s]["selection"]["counts"]
                for s in store.SIGNATURES
            },
        },
    }
    timings = np.array([[c["timings"]["roi_resample"], c["timings"]["radiomics"]] for c in cases])
    training = {
        "synthetic": True,
        "data": (
            f"{n_cases} seed-001 phantoms (phantoms.hematoma, seed {seed}, matrix {matrix}); "
            f"{len(idx_tr)} training / {len(idx_te)} held-out, split by case, stratified"
        ),
        "seed": seed,
        "metrics": metrics,
        "extractor_history": history,
        "duration_s": {
            "features": round(t_data, 1),
            "total": round(time.perf_counter() - t0, 1),
            "per_case_roi_s": round(float(timings[:, 0].mean()), 3),
            "per_case_radiomics_s": round(float(timings[:, 1].mean()), 3),
            "workers": workers,
            "threads": threads,
        },
    }
    weights = [
        {
            "role": role,
            "file": f,
            "format": "safetensors",
            "sha256": sha256_file(bundle / f),
            "bytes": (bundle / f).stat().st_size,
        }
        for role, f in (("extractor", EXTRACTOR_FILE), ("pca", PCA_FILE))
    ]
    n_params = int(sum(p.numel() for p in net.parameters()))
    manifest = build_manifest(
        config, weights, training, version, n_params, threshold, sha256_file(bundle / "model.json")
    )
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    write_card(bundle, manifest, model)
    print(json.dumps(metrics["held_out"]["auc"]), flush=True)
    return manifest


def run_cli(args: Any) -> None:
    """``python -m inference train --model-id cvt_hematoma_dlrn --out DIR [...]``."""

    def arg(name: str, default: Any) -> Any:
        value = getattr(args, name, None)
        return default if value is None else value

    train(
        args.out,
        n_cases=arg("n_cases", DEFAULTS["n_cases"]),
        seed=arg("seed", 0),
        epochs=arg("epochs", DEFAULTS["epochs"]),
        threads=arg("threads", 2),
        matrix=arg("matrix", 128),
        version=arg("version", "0.1.0"),
        icc=arg("icc", None),
        icc_threshold=arg("icc_threshold", 0.8),
        workers=arg("workers", 2),
    )


MODEL = MODEL_ID
