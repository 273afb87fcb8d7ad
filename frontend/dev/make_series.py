"""Write a synthetic head-CT series (no patient data) for the viewer harness.

    python frontend/dev/make_series.py --out /tmp/rsv-data --slices 36 --size 512 --seed 1

One file per slice, CT Image Storage, explicit VR little endian (or --compress), uint16
with RescaleIntercept -1024 (like most scanners). This script only renders its simple
phantom; the files are written by the project's synthetic-CT writer,
``phantoms.dicom_writer``. Files are written in shuffled order (named by SOP Instance UID)
and InstanceNumber runs opposite to the slice position, so a viewer that does not sort by
ImagePositionPatient shows the stack upside down.

The phantom: air, an elliptical skull (bone ~1200 HU), brain (~35 HU), two
lateral ventricles (CSF ~5 HU) and a hyperdense lobar hematoma (~70 HU) in the
left hemisphere. Geometry is in mm so it scales with --size / --slices.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import sys
from pathlib import Path

import numpy as np
from pydicom.uid import (
    ExplicitVRLittleEndian,
    JPEGLSLossless,
    RLELossless,
    generate_uid,
)

if importlib.util.find_spec("phantoms") is None:  # run with a Python that lacks the project
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from phantoms.dicom_writer import Geometry, SeriesUIDs, ct_slices, write_slices  # noqa: E402

UID_PREFIX = "1.2.826.0.1.3680043.10.1559."  # any syntactically valid root; test data only
# --compress: exercise the decoders (RLE is pure JS in the worker, JPEG-LS uses
# wasm/charlswasm_decode.wasm; JPEG-LS encoding needs the pyjpegls package).
COMPRESS = {"raw": None, "rle": RLELossless, "jpegls": JPEGLSLossless}


def _uid(seed: int, *parts: object) -> str:
    return generate_uid(prefix=UID_PREFIX, entropy_srcs=[str(seed), *map(str, parts)])


def phantom_slice(size: int, z_mm: float, fov_mm: float = 240.0) -> np.ndarray:
    """HU image (float32, size x size) of the phantom at height z_mm (0 = centre)."""
    px = fov_mm / size
    c = (np.arange(size) - (size - 1) / 2) * px
    x, y = np.meshgrid(c, c)  # x: patient left(+), y: posterior(+) in image rows
    hu = np.full((size, size), -1000.0, dtype=np.float32)
    # Head: ellipsoid semi-axes 75 (LR) x 95 (AP) x 90 (SI) mm.
    r_out = (x / 75) ** 2 + (y / 95) ** 2 + (z_mm / 90) ** 2
    r_in = (x / 68) ** 2 + (y / 88) ** 2 + (z_mm / 83) ** 2
    hu[r_out <= 1] = 1200.0  # skull
    brain = r_in <= 1
    hu[brain] = 35.0
    # Grey/white texture so windows look different.
    hu[brain & (r_in > 0.75)] = 40.0
    # Lateral ventricles.
    for sx in (-1, 1):
        v = ((x - sx * 12) / 7) ** 2 + ((y + 5) / 24) ** 2 + ((z_mm - 10) / 18) ** 2
        hu[v <= 1] = 5.0
    # Hematoma, left hemisphere (patient left = image right for standard display).
    h = ((x - 38) / 16) ** 2 + ((y - 10) / 20) ** 2 + ((z_mm - 20) / 15) ** 2
    hu[(h <= 1) & brain] = 72.0
    return hu


def write_series(
    out: Path,
    slices: int = 36,
    size: int = 512,
    seed: int = 1,
    thickness: float | None = None,
    series_number: int = 1,
    compress: str = "raw",
) -> dict:
    """Render the phantom and write it with the project's CT writer (phantoms.dicom_writer)."""
    rng = np.random.default_rng(seed)
    if thickness is None:
        thickness = 180.0 / slices  # cover the head
    study_uid = _uid(seed, "study")
    series_uid = _uid(seed, "series", slices, size, series_number, compress)
    fov = 240.0
    px = fov / size
    z0 = -(slices - 1) * thickness / 2
    order = list(range(slices))
    random.Random(seed).shuffle(order)
    volume = np.empty((slices, size, size), dtype=np.int16)
    for k in order:  # noise drawn in file order
        z = z0 + k * thickness
        hu = phantom_slice(size, z, fov) + rng.normal(0, 4, (size, size)).astype(np.float32)
        volume[k] = np.clip(np.rint(hu), -1024, 3071)
    datasets = ct_slices(
        volume,
        Geometry(
            origin=(-(fov / 2) + px / 2, -(fov / 2) + px / 2, z0),
            pixel_spacing=(px, px),
            slice_spacing=thickness,
        ),
        SeriesUIDs(
            study_uid,
            series_uid,
            _uid(seed, "frame"),
            instances=[_uid(seed, "sop", series_uid, k) for k in range(slices)],
        ),
        tags={
            "PatientName": "PHANTOM",
            "PatientID": "PHANTOM",
            "StudyDescription": "synthetic head CT phantom",
            "SeriesDescription": f"axial {thickness:g} mm",
            "SeriesNumber": series_number,
            "ImageType": ["DERIVED", "SECONDARY", "AXIAL"],
            "WindowCenter": 40,
            "WindowWidth": 400,
        },
        per_slice=[{"InstanceNumber": slices - k} for k in range(slices)],  # opposite to position
        transfer_syntax=COMPRESS[compress] or ExplicitVRLittleEndian,
    )
    picked = [datasets[k] for k in order]  # written in shuffled order, named by SOP UID
    write_slices(picked, out, [f"{ds.SOPInstanceUID}.dcm" for ds in picked])
    return {
        "study": study_uid,
        "series": series_uid,
        "slices": slices,
        "size": size,
        "dir": str(out),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--slices", type=int, default=36)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--thickness", type=float, default=None)
    ap.add_argument("--compress", choices=sorted(COMPRESS), default="raw")
    args = ap.parse_args(argv)
    info = write_series(
        args.out, args.slices, args.size, args.seed, args.thickness, compress=args.compress
    )
    print(info)


if __name__ == "__main__":
    main()
