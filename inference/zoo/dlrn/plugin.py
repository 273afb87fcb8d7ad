"""The ``cvt_hematoma_dlrn`` plug-in: seed 001's deep-learning radiomics nomogram.

Inputs beside the CT: the ROI (``options.roi_mask``, a mask on the input grid; without one
the seed-000 segmenter's mask is used, ``provenance.roi_source`` says which) and the clinical
covariates the nomogram needs (``options.covariates``; :attr:`DLRNModel.covariates` names
them; a missing one is an error naming it).

Outputs: ``probabilities`` ``{"cvt_related": P}`` of the DLRN; in ``Prediction.outputs``
(top-level keys of ``result.json``): ``signatures`` (``rad``, ``dl``, ``dlr``, ``dlrn``
probabilities), ``nomogram`` (``points`` per variable, ``total_points``, ``values``,
``probability``), ``total_points``, ``nomogram_axes`` (the figure's axes), ``features``
(the DLR signature's selected features: name, kind, value, z-score, forest importance).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ...manifest import ModelLoadError
from ...plugin import PluginModel, PredictOptions
from . import store
from .manifest import ARCHITECTURE

if TYPE_CHECKING:
    import SimpleITK as sitk
    import torch

    from ...pipeline import CVSTICHPipeline
    from ...results import Prediction

BUNDLE = Path(__file__).resolve().parents[2] / "models" / "cvt_hematoma_dlrn"


class CovariateError(ValueError):
    """Clinical covariates the nomogram needs are missing or not numbers."""


class DLRNModel(PluginModel):
    def __init__(self, bundle_dir: str | Path = BUNDLE):
        super().__init__(bundle_dir)
        name = self._manifest["architecture"]["name"]
        if name != ARCHITECTURE:
            raise ModelLoadError(
                f"{self.bundle_dir}: architecture.name must be {ARCHITECTURE}, got {name!r}"
            )
        self._model: dict[str, Any] | None = None
        self._forests: dict[str, Any] = {}
        self._segmenter: CVSTICHPipeline | None = None

    # -- bundle ---------------------------------------------------------------------------
    def model_data(self) -> dict[str, Any]:
        """``model.json`` (sha256 checked against the manifest and its own file list)."""
        if self._model is None:
            from ...manifest import sha256_file

            expected = self._manifest["architecture"]["networks"]["estimators"]["sha256"]
            if sha256_file(self.bundle_dir / "model.json") != expected:
                raise ModelLoadError(
                    f"{self.bundle_dir / 'model.json'}: sha256 differs from manifest"
                )
            self._model = store.read_model_json(self.bundle_dir)
        return self._model

    @property
    def covariates(self) -> list[str]:
        """The clinical covariates the nomogram needs (chosen by the chi-square screen)."""
        return list(self.model_data()["dlrn"]["covariates_kept"])

    def _build(self) -> dict[str, torch.nn.Module]:
        from .deep import ExtractorConfig, build_network

        data = self.model_data()
        net = build_network(ExtractorConfig.from_dict(data["deep"]["extractor"]))
        self.load_into(net, self.state("extractor"), "extractor")
        pca = self.state("pca")
        self._pca = (pca["components"].double().numpy(), pca["mean"].double().numpy())
        self._forests = {
            s: store.load_forest(self.bundle_dir / data["signatures"][s]["forest"]["file"])
            for s in store.SIGNATURES
        }
        return {"extractor": net}

    # -- inputs ---------------------------------------------------------------------------
    def check_covariates(self, given: dict[str, Any]) -> dict[str, float]:
        needed = self.covariates
        missing = [n for n in needed if given.get(n) is None]
        if missing:
            raise CovariateError(
                f"model {self.id} needs the clinical covariate(s) {', '.join(missing)} "
                f"(give them as covariates {{name: value}}; needed: {', '.join(needed)})"
            )
        out = {}
        for n in needed:
            v = given[n]
            if isinstance(v, bool):
                v = float(v)
            if not isinstance(v, int | float) or not math.isfinite(float(v)):
                raise CovariateError(f"covariate {n!r} must be a finite number, got {v!r}")
            out[n] = float(v)
        return out

    def segmenter(self) -> CVSTICHPipeline:
        """The seed-000 segmenter, loaded once per model instance."""
        from .roi import segmenter

        with self._lock:
            if self._segmenter is None:
                self._segmenter = segmenter()
            return self._segmenter

    def roi(
        self, image: sitk.Image, roi_mask: Any, threads: int | None
    ) -> tuple[Any, str, dict[str, int]]:
        """(mask image, ``"mask"`` or ``"segmenter"``, the segmenter's component counts)."""
        import SimpleITK as sitk

        from .roi import segmenter_mask

        if roi_mask is None:
            seg = segmenter_mask(image, threads, self.segmenter())
            info = {
                "components_found": seg.components_found,
                "components_kept": seg.components_kept,
                "voxels_dropped": seg.voxels_dropped,
            }
            return seg.mask, "segmenter", info
        if isinstance(roi_mask, sitk.Image):
            return roi_mask, "mask", {}
        arr = np.asarray(roi_mask)
        if arr.shape != tuple(reversed(image.GetSize())):
            raise ValueError(
                f"roi_mask shape {arr.shape} differs from the image's {tuple(reversed(image.GetSize()))}"
            )
        mask = sitk.GetImageFromArray(arr.astype(np.uint8))
        mask.CopyInformation(image)
        return mask, "mask", {}

    # -- prediction -----------------------------------------------------------------------
    def _predict(self, image: sitk.Image, opts: PredictOptions) -> Prediction:
        from ...geometry import Grid
        from .case_features import case_features
        from .deep import features
        from .nomogram import Nomogram
        from .selection import Selection

        data = self.model_data()
        covariates = self.check_covariates(dict(opts.covariates or {}))
        timings: dict[str, float] = {}
        t = time.perf_counter()
        mask, source, segmented = self.roi(image, opts.roi_mask, opts.threads)
        timings["roi_mask"] = time.perf_counter() - t
        cf = case_features(image, mask)
        timings.update(cf.timings)
        t = time.perf_counter()
        deep = features(self.networks["extractor"], cf.largest.pixels[None])[0]
        components, mean = self._pca
        dl = (deep - mean) @ components.T
        timings["deep"] = time.perf_counter() - t
        t = time.perf_counter()
        values = {**cf.radiomics, **{f"dl_pca_{k:03d}": float(v) for k, v in enumerate(dl)}}
        signatures: dict[str, float] = {}
        feats: list[dict[str, Any]] = []
        for sig in store.SIGNATURES:
            spec = data["signatures"][sig]
            sel = Selection.from_json(spec["selection"])
            z = sel.transform(values)
            signatures[sig] = float(self._forests[sig].predict_proba(z)[0, 1])
            if sig == "dlr":
                imp = spec["forest"]["importances"]
                feats = [
                    {
                        "name": n,
                        "kind": "dl" if n.startswith("dl_pca_") else "rad",
                        "value": float(values[n]),
                        "z": float(z[0, i]),
                        "importance": float(imp[i]),
                    }
                    for i, n in enumerate(sel.names)
                ]
        nomo = Nomogram.from_json(data["dlrn"]["nomogram"])
        inputs = {"dlr_signature": signatures["dlr"], **covariates}
        scored = nomo.score(inputs)
        p = float(scored["probability"])
        signatures["dlrn"] = p
        timings["model"] = time.perf_counter() - t
        feats.sort(key=lambda f: -f["importance"])
        pred = self.prediction(
            Grid.from_sitk(image),
            {"cvt_related": p},
            provenance={
                "timings_s": timings,
                "roi_source": source,
                "roi": {
                    "largest_slice_area_mm2": round(cf.largest.area_mm2, 2),
                    "largest_slice_index": cf.largest.index,
                    "roi_slices": cf.largest.n_slices,
                    "spacing_mm": [0.5, 0.5, 5.0],
                    **({"segmenter": segmented} if segmented else {}),
                },
                "radiomics_features": len(cf.radiomics),
                "covariates": covariates,
            },
            roi={"source": source},
        )
        pred.outputs = {
            "signatures": signatures,
            "nomogram": {
                "points": scored["points"],
                "total_points": scored["total_points"],
                "values": inputs,
                "probability": p,
            },
            "total_points": scored["total_points"],
            "nomogram_axes": nomo.axes(),
            "features": feats,
        }
        return pred


def load() -> DLRNModel:
    """The registry's entry point: the shipped bundle."""
    return DLRNModel()
