"""The model card (``README.md`` of the bundle), written by the trainer from its figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_card(bundle: Path, manifest: dict[str, Any], model: dict[str, Any]) -> Path:
    m = manifest["training"]["metrics"]
    auc = m["held_out"]["auc"]
    fc = m["feature_counts"]
    d = model["dlrn"]
    screen = ", ".join(f"{k} P = {v['p']:.3g}" for k, v in sorted(d["covariate_screen"].items()))
    sel = {s: model["signatures"][s]["selection"] for s in ("rad", "dl", "dlr")}
    dlr_names = sel["dlr"]["names"]
    n_dl = sum(n.startswith("dl_pca_") for n in dlr_names)
    lines = [
        f"# {manifest['id']} {manifest['version']}",
        "",
        manifest["description"],
        "",
        "## Pipeline (seed 001)",
        "",
        "1. ROI: the given hematoma mask, or the mask of the `cvst_ich_demo` segmenter's "
        "segmentation stage with its connected components smaller than 10 % of the largest "
        "dropped (that pipeline's own ROI rule; specks on the skull would otherwise widen "
        "the ROI and its grey-level range), `provenance.roi_source` says which and "
        "`provenance.roi.segmenter` counts the components; image and mask resampled to "
        "0.5 x 0.5 x 5 mm. Training and the held-out figures below use the phantoms' "
        "ground-truth masks. The segmenter was trained on seed-000 phantoms, and on this "
        "model's held-out phantoms its ROI is much rougher than the truth "
        "(`bench/inference/dlrn_roi.py` measures the Dice and the probabilities with either "
        "ROI): give a mask where one exists.",
        f"2. Handcrafted: PyRadiomics 3.0.1 (`radiomics.yaml`): shape, first order, GLCM, GLDM, "
        f"GLRLM, GLSZM, NGTDM on the original and the 8 wavelet images: "
        f"**{fc['radiomics_extracted']} features** ({fc['radiomics_used']} finite on every "
        "training case were used).",
        "",
        "   The seed reports 1,834 (its Table S1 is missing). With PyRadiomics 3.0.1's "
        "classes shape (14 features, original image only) is computed once and every image "
        "adds first order 18 + GLCM 24 + GLDM 14 + GLRLM 16 + GLSZM 16 + NGTDM 5 = 93, so "
        "a total is 14 + 93 n for n images: original + 8 wavelets = 9 gives 851. Each further "
        "filter adds whole images (LoG: one per sigma; square, square root, logarithm, "
        "exponential, gradient: one each; LBP 3D: three), so no combination reaches 1,834: "
        "1,834 - 14 = 1,820 = 19 x 93 + 53 (n = 19 gives 1,781, n = 20 gives 1,874). "
        "Enabling the deprecated features too (17 + 100 n) does not fit either (1,817 is not "
        "a multiple of 100). 1,834 = 14 + 20 x 91 would need 20 images "
        "with two features fewer per image than these classes give, a per-feature choice the "
        "seed does not state; the model keeps the documented 851.",
        "",
        f"3. Deep: the axial slice with the largest hematoma area (128 x 128 at 0.5 mm, brain "
        f"window) through a MONAI 2D ResNet (basic blocks, layers "
        f"{model['deep']['extractor']['layers']}, widths "
        f"{model['deep']['extractor']['block_inplanes']}); the pooled penultimate layer. "
        "The seed's ImageNet ResNet101 cannot be used: no pretrained weights can be fetched "
        "here, and a ResNet101 trained from scratch on two CPU cores is neither feasible in "
        "the time nor sensible with a hundred images. The extractor is trained on the "
        "phantoms' training split as a two-class classifier. PCA to "
        f"**{fc['dl_pca']}** components, not the seed's 512: PCA cannot have more components "
        "than training cases or input features.",
        "4. Selection on the training set only: SMOTE, z-score, Mann-Whitney U p < 0.05, "
        "Pearson |r| > 0.9 pruning, LASSO (10-fold CV, lambda min).",
        "5. Signatures: random forests, grid search with stratified 5-fold CV (AUC); DLRN: "
        "logistic regression of the DLR signature (its out-of-fold probability on training) "
        "with the covariates the chi-square screen keeps.",
        "",
        "Files: forests as skops (loaded with an explicit trusted-type list), the CNN and the "
        "PCA as safetensors, everything else in `model.json` (format_version 1, sha256 of "
        "each file); no pickle anywhere.",
        "",
        "## Selected features",
        "",
        "| signature | after MWU | after Pearson | LASSO (selected) |",
        "|---|---|---|---|",
        *[
            f"| {s} | {sel[s]['counts']['mann_whitney']} | {sel[s]['counts']['pearson']} | "
            f"{sel[s]['counts']['lasso']} |"
            for s in ("rad", "dl", "dlr")
        ],
        "",
        f"DLR: {len(dlr_names) - n_dl} handcrafted + {n_dl} deep features (seed: 16 + 3).",
        f"Clinical chi-square screen (training): {screen}; kept: "
        f"{', '.join(d['covariates_kept']) or 'none'}.",
        "",
        "## Held-out performance (synthetic phantoms)",
        "",
        f"{m['held_out']['n_cases']} held-out cases ({m['held_out']['n_cvt_related']} "
        "CVT-related), never used for training or selection.",
        "",
        "| model | AUC |",
        "|---|---|",
        *[f"| {k.upper()} | {v:.3f} |" for k, v in auc.items()],
        "",
        f"DLRN at the Youden threshold of training ({manifest['operating_points']['youden']['threshold']:.3f}): "
        + ", ".join(f"{k} {v:.3f}" for k, v in m["held_out"]["dlrn_at_threshold"].items())
        + ".",
        "",
        "These figures describe synthetic data whose classes were built to differ as the "
        "seed describes (CVT-related: lobar, irregular, oedema-rich; HP/CAA/AVM: deeper, "
        "rounder, less oedema); they say nothing about patients.",
        "",
        "Retrain: `python -m inference train --model-id cvt_hematoma_dlrn --out DIR "
        "[--n-cases N] [--seed S] [--epochs E] [--icc ICC.json --icc-threshold 0.8]`.",
        "",
    ]
    path = bundle / "README.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
