"""Image measurements used by the phantom tests (from the volume, not the parameters)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import SimpleITK as sitk


def read_series(path: str | Path) -> sitk.Image:
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(path)))
    return reader.Execute()


def tree_hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def perihematomal_low_density(volume_hu: np.ndarray, mask: np.ndarray, spacing) -> float:
    """Low-density (< 22 HU) soft-tissue voxels around the clot, per clot voxel.

    A volume-based oedema ratio: the shell extends one equivalent-sphere radius beyond
    the mask; HU is averaged in-plane (3x3) to damp the noise; bone and air are excluded.
    """
    v = volume_hu.astype(np.float32)
    p = np.pad(v, ((0, 0), (1, 1), (1, 1)), mode="edge")
    ny, nx = v.shape[1:]
    sm = sum(p[:, i : i + ny, j : j + nx] for i in range(3) for j in range(3)) / 9.0
    img = sitk.GetImageFromArray(mask.astype(np.uint8))
    img.SetSpacing(tuple(float(s) for s in spacing))
    dist = sitk.GetArrayFromImage(
        sitk.SignedMaurerDistanceMap(img, insideIsPositive=False, useImageSpacing=True)
    )
    n = int(mask.sum())
    r_eq = (n * float(np.prod(spacing)) * 3.0 / (4.0 * np.pi)) ** (1.0 / 3.0)
    shell = (dist > 0.5) & (dist <= max(r_eq, 8.0)) & (sm > -5.0) & (sm < 100.0)
    return float(np.count_nonzero(shell & (sm < 22.0)) / max(n, 1))
