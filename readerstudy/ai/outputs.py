"""Output volumes on the DICOM grid: masks as NIfTI (uint8), heatmaps as float16 ``.npz``.

NIfTI has no 16-bit float type, so heatmaps are stored as compressed NumPy archives holding the
float16 array (z, y, x) and the grid (origin, spacing, direction in SimpleITK order).
"""

import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from readerstudy.cases.storage import local_copy, save_content_addressed


@dataclass(frozen=True)
class OutputVolume:
    array: np.ndarray
    origin: tuple[float, ...]
    spacing: tuple[float, ...]
    direction: tuple[float, ...]


def save_mask(mask: np.ndarray, reference: sitk.Image) -> str:
    image = sitk.GetImageFromArray(np.asarray(mask).astype(np.uint8))
    image.CopyInformation(reference)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mask.nii.gz"
        sitk.WriteImage(image, str(path), useCompression=True)
        return save_content_addressed("outputs", path.read_bytes(), ".nii.gz")[0]


def save_heatmap(array: np.ndarray, reference: sitk.Image) -> str:
    data = np.asarray(array)
    if data.shape != tuple(reversed(reference.GetSize())):
        raise ValueError(
            f"heatmap shape {data.shape} is not the series grid {tuple(reversed(reference.GetSize()))}"
        )
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        data=data.astype(np.float16),
        origin=np.asarray(reference.GetOrigin()),
        spacing=np.asarray(reference.GetSpacing()),
        direction=np.asarray(reference.GetDirection()),
    )
    return save_content_addressed("outputs", buffer.getvalue(), ".npz")[0]


def read_volume(name: str) -> OutputVolume:
    with local_copy(name) as path:
        if str(path).endswith(".npz"):
            with np.load(path) as archive:
                return OutputVolume(
                    archive["data"],
                    tuple(archive["origin"]),
                    tuple(archive["spacing"]),
                    tuple(archive["direction"]),
                )
        image = sitk.ReadImage(str(path))
    return OutputVolume(
        sitk.GetArrayFromImage(image), image.GetOrigin(), image.GetSpacing(), image.GetDirection()
    )
