"""A binary mask drawn in the viewer on a series' grid, as it is uploaded: checked and read.

The viewer sends the labelmap it drew as raw ``uint8`` voxels (slices in the series' order
along the slice normal, then rows, then columns), gzip-compressed or not, with its shape;
scripts may send a NIfTI (``.nii`` / ``.nii.gz``) on the series grid instead. Readers'
segmentations (``reading.segmentations``) and truth panels' masks (``panels``) both read
their uploads here; each stores the result as NIfTI with the series volume's geometry.
"""

import tempfile
import zlib
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from readerstudy.core.errors import DomainError

from .models import Series
from .storage import local_copy

NIFTI = "application/x-nifti"
RAW = "application/octet-stream"


class MaskUploadInvalid(DomainError):
    status = 400

    def __init__(self, message: str):
        super().__init__("invalid_segmentation", message)


def reference_image(series: Series) -> sitk.Image:
    """The series' volume, whose grid a mask must be on."""
    if not series.volume:
        raise MaskUploadInvalid("the series has no volume to segment yet")
    with local_copy(series.volume) as path:
        return sitk.ReadImage(str(path))


def _raw_mask(body: bytes, shape: tuple[int, int, int]) -> np.ndarray:
    expected = int(np.prod(shape))
    if body[:2] == b"\x1f\x8b":
        inflate = zlib.decompressobj(wbits=31)
        try:
            body = inflate.decompress(body, expected + 1)
        except zlib.error:
            raise MaskUploadInvalid("the mask is not valid gzip") from None
    if len(body) != expected:
        raise MaskUploadInvalid(
            f"the mask has {len(body)} voxels; the series grid {list(shape)} has {expected}"
        )
    return np.frombuffer(body, dtype=np.uint8).reshape(shape)


def _nifti_mask(body: bytes, reference: sitk.Image) -> np.ndarray:
    suffix = ".nii.gz" if body[:2] == b"\x1f\x8b" else ".nii"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"mask{suffix}"
        path.write_bytes(body)
        try:
            image = sitk.ReadImage(str(path))
        except RuntimeError:
            raise MaskUploadInvalid("the mask is not a readable NIfTI file") from None
    if image.GetSize() != reference.GetSize():
        raise MaskUploadInvalid(
            f"mask size {image.GetSize()} differs from the series {reference.GetSize()}"
        )
    same = (
        np.allclose(image.GetSpacing(), reference.GetSpacing(), atol=1e-3)
        and np.allclose(image.GetOrigin(), reference.GetOrigin(), atol=1e-2)
        and np.allclose(image.GetDirection(), reference.GetDirection(), atol=1e-3)
    )
    if not same:
        raise MaskUploadInvalid(
            "mask geometry (spacing, origin or direction) differs from the series"
        )
    return sitk.GetArrayFromImage(image)


def parse_shape(text: str | None) -> tuple[int, int, int]:
    try:
        shape = tuple(int(v) for v in (text or "").split(","))
    except ValueError:
        shape = ()
    if len(shape) != 3 or min(shape) < 1:
        raise MaskUploadInvalid('a raw mask needs its shape as "slices,rows,columns"')
    return shape


def mask_array(body: bytes, content_type: str, shape_text: str | None, series: Series):
    """(binary mask as uint8 0/1, reference image) of an upload; MaskUploadInvalid naming a
    problem."""
    if not body:
        raise MaskUploadInvalid("the upload is empty")
    reference = reference_image(series)
    grid = (series.num_slices, series.rows, series.columns)
    if content_type == NIFTI:
        array = _nifti_mask(body, reference)
    elif content_type == RAW:
        shape = parse_shape(shape_text)
        if shape != grid:
            raise MaskUploadInvalid(
                f"mask shape {list(shape)} differs from the series grid {list(grid)}"
            )
        array = _raw_mask(body, shape)
    else:
        raise MaskUploadInvalid(f"send the mask as {RAW} (raw uint8 with ?shape=) or {NIFTI}")
    values = np.unique(array)
    if not set(values.tolist()) <= {0, 1}:
        shown = ", ".join(str(v) for v in values[:6].tolist())
        raise MaskUploadInvalid(f"the mask must be binary (0 or 1); it holds {shown}")
    if not values.size or values.max() == 0:
        raise MaskUploadInvalid("the mask is empty: nothing was segmented")
    return array.astype(np.uint8), reference


def to_nifti(array: np.ndarray, reference: sitk.Image) -> bytes:
    """A mask as NIfTI (gzip) with the reference's geometry."""
    image = sitk.GetImageFromArray(array)
    image.CopyInformation(reference)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "mask.nii.gz"
        sitk.WriteImage(image, str(out), useCompression=True)
        return out.read_bytes()
