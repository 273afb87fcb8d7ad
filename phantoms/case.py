"""One synthetic head-CT case: geometry, rendering and the ``PhantomCase`` record."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import SimpleITK as sitk

from .anatomy import TISSUE, HeadModel, sample_head
from .lesions import Lesion, sample_lesion
from .patient import sample_acquisition, sample_patient
from .seeding import rng_for
from .uids import case_uids

GENERATOR_VERSION = "1.0.0"
LABELS = ("cvst_ich", "sich")  # positive class first: CVST-ICH = 1, sICH = 0
HU_MIN, HU_MAX = -1024, 3071  # 12-bit stored values with intercept -1024

# a [1, 2, 1] / 4 filter in x and y scales white-noise SD by 0.375**0.5 per axis
_NOISE_GAIN = 1.0 / 0.375


@dataclass(frozen=True, eq=False)
class PhantomCase:
    """A rendered case.  Arrays are (z, y, x), z inferior -> superior, and read-only."""

    case_id: str
    label: str
    truth: int
    seed: int
    volume_hu: np.ndarray  # int16 HU, with noise: exactly what the DICOM series stores
    mask: np.ndarray  # uint8, 1 = haematoma (not oedema)
    spacing: tuple[float, float, float]  # (sx, sy, sz) mm, SimpleITK order
    origin: tuple[float, float, float]  # LPS mm of voxel (0, 0, 0)
    direction: tuple[float, ...]  # 9 floats, identity (axial, head first supine)
    signs: dict[str, Any]
    patient: dict[str, Any]
    acquisition: dict[str, Any]
    uids: dict[str, str]
    tissues: np.ndarray  # uint8 tissue codes (anatomy.TISSUE), for tests and debugging
    slice_thickness: float
    thin: bool
    matrix: int

    @property
    def n_slices(self) -> int:
        return int(self.volume_hu.shape[0])

    def slice_z(self, k: int) -> float:
        """Patient z (mm) of slice ``k``, rounded as written to ImagePositionPatient."""
        return round(self.origin[2] + k * self.spacing[2], 4)

    def to_sitk(self) -> sitk.Image:
        return grid_image(self.volume_hu, self.spacing, self.origin, self.direction)

    def mask_sitk(self) -> sitk.Image:
        return grid_image(self.mask, self.spacing, self.origin, self.direction)


def grid_image(
    array: np.ndarray,
    spacing: tuple[float, ...],
    origin: tuple[float, ...],
    direction: tuple[float, ...],
) -> sitk.Image:
    """A (slices, rows, columns) array as a SimpleITK image on a phantom's grid."""
    img = sitk.GetImageFromArray(array)
    img.SetSpacing(spacing)
    img.SetOrigin(origin)
    img.SetDirection(direction)
    return img


def _geometry(rng: np.random.Generator, head: HeadModel, thin: bool, matrix: int) -> dict[str, Any]:
    """Field of view, pixel size, slice spacing/count and table position."""
    fov = round(float(rng.uniform(220.0, 240.0)), 1)
    px = round(fov / matrix, 6)
    if thin:
        r = rng.random()
        dz = 1.0 if r < 0.6 else 1.25 if r < 0.85 else round(rng.uniform(1.0, 1.25) / 0.05) * 0.05
        n_range = (110, 170)
    else:
        dz = 5.0 if rng.random() < 0.6 else round(float(rng.uniform(4.5, 5.5)), 1)
        n_range = (24, 36)
    dz = round(float(dz), 2)
    start = rng.uniform(0.45, 0.75)  # first slice, as a fraction of c below the centre
    margin = rng.uniform(3.0, 12.0)
    n = math.ceil(((start + 1.0) * head.c + margin) / dz)
    # short heads get air slices above the vertex; very tall ones may lose the vertex
    n = int(min(max(n, n_range[0]), n_range[1]))
    z0 = round(float(rng.uniform(-160.0, -60.0)), 1)
    o_xy = round(-(matrix - 1) * px / 2.0, 4)
    return {
        "fov": fov,
        "px": px,
        "dz": dz,
        "n": n,
        "z0": z0,
        "z_center": z0 + start * head.c,
        "origin_xy": o_xy,
    }


def _smooth_noise(noise: np.ndarray) -> np.ndarray:
    """[1, 2, 1] / 4 in x then y: CT noise is spatially correlated, not white."""
    p = np.pad(noise, 1, mode="edge")
    n = 0.25 * p[:, :-2] + 0.5 * p[:, 1:-1] + 0.25 * p[:, 2:]
    return 0.25 * n[:-2, :] + 0.5 * n[1:-1, :] + 0.25 * n[2:, :]


def _window(coords: np.ndarray, lo: float, hi: float) -> tuple[int, int]:
    return int(np.searchsorted(coords, lo)), int(np.searchsorted(coords, hi, side="right"))


def _render(
    head: HeadModel,
    lesion: Lesion,
    geo: dict[str, Any],
    matrix: int,
    noise_rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, px, dz = geo["n"], geo["px"], geo["dz"]
    coords = (geo["origin_xy"] + px * np.arange(matrix)).astype(np.float32)
    width = max(0.8, 0.8 * px)
    vol = np.empty((n, matrix, matrix), dtype=np.int16)
    mask = np.zeros((n, matrix, matrix), dtype=np.uint8)
    tissues = np.zeros((n, matrix, matrix), dtype=np.uint8)
    l_center = lesion.center
    l_patient = head.to_patient(l_center)
    l_reach = lesion.reach
    for k in range(n):
        z = round(geo["z0"] + k * dz, 4)
        zl = z - head.center[2]
        hu_full = np.full((matrix, matrix), -1000.0, dtype=np.float32)
        ex, ey = head.extent(zl)
        if ex > 0:
            c0, c1 = _window(coords, head.center[0] - ex, head.center[0] + ex)
            r0, r1 = _window(coords, head.center[1] - ey, head.center[1] + ey)
            xl, yl, zl = head.to_local(coords[None, c0:c1], coords[r0:r1, None], z)
            hu, lab, fields = head.render(
                xl, yl, zl, width, shift=lesion.midline_shift, sinus_hu=lesion.sinus_hu
            )
            dzl = abs(zl - l_center[2])
            if dzl < l_reach:
                rr = math.sqrt(l_reach**2 - dzl**2)
                lc0, lc1 = _window(coords[c0:c1], l_patient[0] - rr, l_patient[0] + rr)
                lr0, lr1 = _window(coords[r0:r1], l_patient[1] - rr, l_patient[1] + rr)
                if lc1 > lc0 and lr1 > lr0:
                    win = (slice(lr0, lr1), slice(lc0, lc1))
                    sub = {key: val[win] for key, val in fields.items()}
                    a_h = lesion.render(hu[win], lab[win], xl[win], yl[win], zl, sub, width)
                    mask[k, r0 + lr0 : r0 + lr1, c0 + lc0 : c0 + lc1] = a_h >= 0.5
            hu_full[r0:r1, c0:c1] = hu
            tissues[k, r0:r1, c0:c1] = lab
        noise = noise_rng.standard_normal((matrix, matrix), dtype=np.float32)
        hu_full += _smooth_noise(noise) * np.float32(head.noise_sd * _NOISE_GAIN)
        np.rint(hu_full, out=hu_full)
        vol[k] = np.clip(hu_full, HU_MIN, HU_MAX)
    return vol, mask, tissues


def _signs(
    lesion: Lesion, head: HeadModel, mask: np.ndarray, tissues: np.ndarray, voxel_ml: float
) -> dict[str, Any]:
    hem = int(mask.sum())
    edema = int(np.count_nonzero(tissues == TISSUE["edema"]))
    sides = {p.side for p in lesion.patches}
    seg = next(iter(lesion.sinus_hu), None)
    irregularity = max(float(b.amp.sum()) for p in lesion.patches for b in p.blobs)
    return {
        "location": lesion.location,
        "site": lesion.site,
        "side": "bilateral" if len(sides) > 1 else ("left" if sides.pop() > 0 else "right"),
        "n_foci": len(lesion.patches),
        "margin": "irregular"
        if irregularity > 0.2 or len(lesion.patches[0].blobs) > 1
        else "smooth",
        "hematoma_volume_ml": round(hem * voxel_ml, 3),
        "edema_volume_ml": round(edema * voxel_ml, 3),
        "edema_ratio": round(edema / hem, 4) if hem else 0.0,
        "cord_sign": bool(lesion.sinus_hu) or lesion.cortical_vein is not None,
        "dense_sinus": seg,
        "cortical_vein": lesion.cortical_vein is not None,
        "sah": lesion.sah,
        "blood_hu": round(lesion.blood_hu, 1),
        "midline_shift_mm": round(abs(lesion.midline_shift), 2),
        "atrophy": round(head.atrophy, 3),
    }


def make_case(
    seed: int,
    label: str,
    *,
    thin: bool = False,
    matrix: int = 512,
    case_id: str | None = None,
) -> PhantomCase:
    """Render one case, deterministically from ``seed`` and ``label``.

    ``thin`` and ``matrix`` only change the sampling grid: the same seed and label give
    the same patient and (almost always) the same lesion at any resolution.  The label
    drives the lesion phenotype and the age/sex draw (age drives atrophy).  If a focus is
    too small to be sampled by the slices (< 1 ml on the grid) the lesion is re-drawn.
    """
    if label not in LABELS:
        raise ValueError(f"label must be one of {LABELS}, got {label!r}")
    if not 32 <= matrix <= 1024:
        raise ValueError("matrix must be in 32..1024")
    seed = int(seed)
    case_id = case_id or f"PHS{seed:06d}"
    patient = sample_patient(rng_for(seed, "patient", label), label)
    acquisition = sample_acquisition(rng_for(seed, "scanner"))
    head = sample_head(rng_for(seed, "anatomy"), patient["age_years"], 0.0)
    geo = _geometry(rng_for(seed, "geometry", thin), head, thin, matrix)
    head = dataclasses.replace(head, center=(head.center[0], head.center[1], geo["z_center"]))
    voxel_ml = geo["px"] ** 2 * geo["dz"] / 1000.0
    for attempt in range(8):
        lesion = sample_lesion(rng_for(seed, "lesion", label, attempt), label, head)
        noise_rng = rng_for(seed, "noise", thin, matrix)
        vol, mask, tissues = _render(head, lesion, geo, matrix, noise_rng)
        if mask.sum() * voxel_ml >= 1.0:  # a focus may fall between thick slices
            break
    for arr in (vol, mask, tissues):
        arr.flags.writeable = False
    px, dz = geo["px"], geo["dz"]
    acquisition = {
        **acquisition,
        "ReconstructionDiameter": geo["fov"],
        "SeriesDescription": f"Head {dz:g}mm axial",
    }
    return PhantomCase(
        case_id=case_id,
        label=label,
        truth=int(label == LABELS[0]),
        seed=seed,
        volume_hu=vol,
        mask=mask,
        spacing=(px, px, dz),
        origin=(geo["origin_xy"], geo["origin_xy"], geo["z0"]),
        direction=(1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0),
        signs=_signs(lesion, head, mask, tissues, voxel_ml),
        patient={k: v for k, v in patient.items() if k != "age_years"},
        acquisition=acquisition,
        uids=case_uids(seed, label, case_id, thin, matrix),
        tissues=tissues,
        slice_thickness=dz,
        thin=thin,
        matrix=matrix,
    )
