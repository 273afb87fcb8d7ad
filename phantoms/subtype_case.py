"""One head CT with haemorrhage of the chosen subtypes, or none: ``make_subtype_case``.

The patient, head and table position come from the seed alone, so the normal and the
bleeding variants of one seed share their anatomy, and its thick, thin and tilted series
share one patient space (the same study and frame of reference, a series each). Every
haemorrhage comes from its own random stream, so adding a subtype leaves the others as
they were. The label map (0 = none, else ``subtypes.CODES``) is the truth on the series
grid: a subtype is present when its label has voxels, and a slice is positive for a
subtype when the label has voxels on that slice.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import SimpleITK as sitk

from .anatomy import TISSUE, HeadModel, sample_head
from .case import _NOISE_GAIN, HU_MAX, HU_MIN, _smooth_noise, _window, grid_image
from .patient import sample_acquisition, sample_patient
from .seeding import rng_for
from .subtypes import CODES, PAINT_ORDER, SUBTYPES, Hemorrhage, sample_hemorrhage, window_fields
from .tilt import SliceGrid
from .uids import _uid

Array = npt.NDArray[Any]
_MIN_ML = {"iph": 1.0, "ivh": 0.3, "sah": 0.2, "sdh": 1.0, "edh": 1.0}  # or drawn again
_ATTEMPTS = 4


@dataclass(frozen=True, eq=False)
class SubtypeCase:
    """A rendered case. Arrays are (slice, row, column), slices inferior -> superior."""

    case_id: str
    seed: int
    subtypes: tuple[str, ...]  # present on this grid, in ``SUBTYPES`` order
    location: str  # the intraparenchymal haematoma's location class; "" without one
    volume_hu: np.ndarray  # int16 HU, what the DICOM series stores
    label_map: np.ndarray  # uint8: 0 none, else CODES[subtype]
    tissues: np.ndarray  # uint8 anatomy.TISSUE codes (tests and debugging)
    grid: SliceGrid
    slice_thickness: float
    patient: dict[str, Any]
    acquisition: dict[str, Any]
    uids: dict[str, str]
    hemorrhage: dict[str, dict[str, Any]]  # per present subtype: volume_ml, blood_hu, ...
    thin: bool
    # patient-space anatomy for checks: "head_center" (x, y, z) and "tentorium_z" (the
    # level of the transverse sinuses; below it and posterior lies the posterior fossa)
    landmarks: dict[str, Any]

    @property
    def ich_present(self) -> bool:
        return bool(self.subtypes)

    @property
    def n_slices(self) -> int:
        return int(self.volume_hu.shape[0])

    @property
    def matrix(self) -> int:
        return self.grid.matrix

    @property
    def tilt_deg(self) -> float:
        return self.grid.tilt_deg

    @property
    def spacing(self) -> tuple[float, float, float]:
        return self.grid.spacing

    @property
    def origin(self) -> tuple[float, float, float]:
        return self.grid.origin

    @property
    def direction(self) -> tuple[float, ...]:
        return self.grid.direction

    def mask(self, subtype: str | None = None) -> Array:
        """uint8 0/1 mask of one subtype, or of any haemorrhage (``None``)."""
        if subtype is None:
            out: Array = (self.label_map > 0).astype(np.uint8)
            return out
        if subtype not in CODES:
            raise ValueError(f"subtype must be one of {SUBTYPES}, got {subtype!r}")
        out = (self.label_map == CODES[subtype]).astype(np.uint8)
        return out

    def slice_labels(self) -> list[dict[str, int]]:
        """Per slice: ``any`` and each subtype, 1 when its label has voxels on the slice."""
        on = {name: np.any(self.label_map == code, axis=(1, 2)) for name, code in CODES.items()}
        anywhere = np.any(self.label_map > 0, axis=(1, 2))
        return [
            {"any": int(anywhere[k]), **{name: int(on[name][k]) for name in SUBTYPES}}
            for k in range(self.n_slices)
        ]

    def to_sitk(self) -> sitk.Image:
        return grid_image(self.volume_hu, self.spacing, self.origin, self.direction)

    def label_map_sitk(self) -> sitk.Image:
        return grid_image(self.label_map, self.spacing, self.origin, self.direction)


def _slice_grid(
    seed: int, head: HeadModel, thin: bool, matrix: int, tilt: float
) -> tuple[SliceGrid, float]:
    """(grid, patient z of the head centre): field of view and table from the seed."""
    rng = rng_for(seed, "table")  # shared by thick and thin series
    fov = round(float(rng.uniform(220.0, 240.0)), 1)
    start = float(rng.uniform(0.45, 0.75))  # first slice, as a fraction of c below the centre
    margin = float(rng.uniform(3.0, 12.0))
    z_center = float(rng.uniform(-160.0, -60.0))
    srng = rng_for(seed, "slices", thin)
    if thin:
        r = srng.random()
        dz = 1.0 if r < 0.6 else 1.25 if r < 0.85 else round(srng.uniform(1.0, 1.25) / 0.05) * 0.05
        n_range = (110, 170)
    else:
        dz = 5.0 if srng.random() < 0.6 else round(float(srng.uniform(4.5, 5.5)), 1)
        n_range = (24, 36)
    dz = round(float(dz), 2)
    n = math.ceil(((start + 1.0) * head.c + margin) / dz)
    n = int(min(max(n, n_range[0]), n_range[1]))
    z0 = round(z_center - start * head.c, 1)
    grid = SliceGrid(matrix=matrix, px=round(fov / matrix, 6), n=n, z0=z0, dz=dz, tilt_deg=tilt)
    return grid, z_center


def _bands(grid: SliceGrid) -> list[tuple[int, int]]:
    """Runs of image rows that share one patient z: all rows, or each row when tilted."""
    m = grid.matrix
    return [(0, m)] if grid.tilt_deg == 0 else [(i, i + 1) for i in range(m)]


def _render_band(
    head: HeadModel,
    hems: Sequence[Hemorrhage],
    xs: Array,
    ys: Array,
    z: float,
    width: float,
    out: tuple[Array, Array, Array],
) -> None:
    """Render rows at patient ``ys`` (one z) into the (hu, tissues, labels) row views."""
    zl = z - head.center[2]
    ex, ey = head.extent(zl)
    if ex <= 0:
        return
    c0, c1 = _window(xs, head.center[0] - ex, head.center[0] + ex)
    r0, r1 = _window(ys, head.center[1] - ey, head.center[1] + ey)
    if c1 <= c0 or r1 <= r0:
        return
    xl, yl, zl = head.to_local(xs[None, c0:c1], ys[r0:r1, None], z)
    hu, lab, fields = head.render(xl, yl, zl, width)
    window_fields(head, xl, yl, zl, fields)
    codes = np.zeros(hu.shape, dtype=np.uint8)
    for hem in hems:
        a = hem.render(hu, lab, xl, yl, zl, fields, width)
        codes[a >= 0.5] = CODES[hem.subtype]
    # blood covered by something painted later (oedema) is no longer blood
    codes[(lab != TISSUE["hematoma"]) & (lab != TISSUE["sah"])] = 0
    hu_out, tis_out, lab_out = out
    hu_out[r0:r1, c0:c1] = hu
    tis_out[r0:r1, c0:c1] = lab
    lab_out[r0:r1, c0:c1] = codes


def _render(
    head: HeadModel, hems: Sequence[Hemorrhage], grid: SliceGrid, noise_rng: np.random.Generator
) -> tuple[Array, Array, Array]:
    n, m = grid.n, grid.matrix
    xs = grid.x().astype(np.float32)
    width = max(0.8, 0.8 * grid.px)
    vol = np.empty((n, m, m), dtype=np.int16)
    labels = np.zeros((n, m, m), dtype=np.uint8)
    tissues = np.zeros((n, m, m), dtype=np.uint8)
    bands = _bands(grid)
    for k in range(n):
        hu_full = np.full((m, m), -1000.0, dtype=np.float32)
        ys, zs = grid.row_yz(k)
        ys32 = ys.astype(np.float32)
        for r0, r1 in bands:
            out = (hu_full[r0:r1], tissues[k, r0:r1], labels[k, r0:r1])
            _render_band(head, hems, xs, ys32[r0:r1], float(zs[r0]), width, out)
        noise = noise_rng.standard_normal((m, m), dtype=np.float32)
        hu_full += _smooth_noise(noise) * np.float32(head.noise_sd * _NOISE_GAIN)
        np.rint(hu_full, out=hu_full)
        vol[k] = np.clip(hu_full, HU_MIN, HU_MAX)
    return vol, labels, tissues


def _check_request(subtypes: Sequence[str], location: str) -> tuple[str, ...]:
    unknown = [s for s in subtypes if s not in CODES]
    if unknown:
        raise ValueError(f"unknown subtype(s) {unknown}; use {SUBTYPES}")
    if len(set(subtypes)) != len(subtypes):
        raise ValueError("a subtype is listed twice")
    if ("iph" in subtypes) != bool(location):
        raise ValueError("give a location exactly when the subtypes include iph")
    return tuple(s for s in PAINT_ORDER if s in subtypes)


def make_subtype_case(
    seed: int,
    subtypes: Sequence[str] = (),
    *,
    location: str = "",
    thin: bool = False,
    matrix: int = 512,
    tilt: float = 0.0,
    case_id: str | None = None,
) -> SubtypeCase:
    """Render one case with haemorrhage of ``subtypes`` (none: a normal head).

    ``location`` (deep / lobar / subtentorial) places the intraparenchymal haematoma.
    ``tilt`` (degrees) tilts the gantry (see :mod:`phantoms.tilt`). A subtype that the
    grid samples too little is drawn again (a few times); the case's ``subtypes`` are the
    ones its label map holds.
    """
    order = _check_request(subtypes, location)
    if not 32 <= matrix <= 1024:
        raise ValueError("matrix must be in 32..1024")
    seed = int(seed)
    case_id = case_id or f"PHT{seed:06d}"
    patient = sample_patient(rng_for(seed, "patient"), "sich")
    acquisition = sample_acquisition(rng_for(seed, "scanner"))
    head = sample_head(rng_for(seed, "anatomy"), patient["age_years"], 0.0)
    grid, z_center = _slice_grid(seed, head, thin, matrix, float(tilt))
    head = dataclasses.replace(head, center=(head.center[0], head.center[1], z_center))
    voxel_ml = grid.px**2 * grid.plane_spacing() / 1000.0
    for attempt in range(_ATTEMPTS):
        hems = [
            sample_hemorrhage(rng_for(seed, "hemorrhage", s, location, attempt), head, s, location)
            for s in order
        ]
        vol, labels, tissues = _render(head, hems, grid, rng_for(seed, "noise", thin, matrix, tilt))
        counts = {s: int(np.count_nonzero(labels == CODES[s])) for s in order}
        if all(counts[s] * voxel_ml >= _MIN_ML[s] for s in order):
            break
    for arr in (vol, labels, tissues):
        arr.flags.writeable = False
    present = tuple(s for s in SUBTYPES if s in counts and counts[s] > 0)
    details = {
        h.subtype: {
            "volume_ml": round(counts[h.subtype] * voxel_ml, 3),
            "blood_hu": round(float(h.blood_hu), 1),
        }
        for h in hems
        if h.subtype in present
    }
    key = (seed, case_id, order, location)
    tilt_text = f" tilt {tilt:g}" if tilt else ""
    return SubtypeCase(
        case_id=case_id,
        seed=seed,
        subtypes=present,
        location=location if "iph" in present else "",
        volume_hu=vol,
        label_map=labels,
        tissues=tissues,
        grid=grid,
        slice_thickness=grid.dz,
        patient={k: v for k, v in patient.items() if k != "age_years"},
        acquisition={
            **acquisition,
            "ReconstructionDiameter": round(grid.px * matrix, 1),
            "SeriesDescription": f"Head {grid.dz:g}mm axial{tilt_text}",
        },
        uids={
            "study_instance_uid": _uid(*key, "study"),
            "series_instance_uid": _uid(*key, thin, matrix, tilt, "series"),
            "frame_of_reference_uid": _uid(*key, "frame"),
        },
        hemorrhage=details,
        thin=thin,
        landmarks={
            "head_center": head.center,
            "tentorium_z": head.center[2] + head.transverse_z(),
        },
    )
