"""A reader's segmentation of the case's series: uploaded once per version, kept, never changed.

The viewer sends the labelmap it drew as a binary mask on the series grid: raw ``uint8`` voxels
(slices in the series' order along the slice normal, then rows, then columns), gzip-compressed
or not, with its shape; scripts may send a NIfTI (``.nii`` / ``.nii.gz``) on the series grid
instead. The mask is stored as NIfTI with the series volume's geometry (content-addressed) and
a marks answer references it by ``{"file", "sha256", "voxels"}``. Uploads are refused once the
read is locked, as drafts are.
"""

import tempfile
import zlib
from pathlib import Path

import numpy as np
import SimpleITK as sitk
from django.db import models, transaction

from readerstudy.cases.models import Series
from readerstudy.cases.storage import local_copy, save_content_addressed
from readerstudy.studies.errors import StudyError
from readerstudy.studies.models import Assignment, QuestionType

NIFTI = "application/x-nifti"
RAW = "application/octet-stream"
PREFIX = "reading/segmentations"


class ReaderSegmentation(models.Model):
    assignment = models.ForeignKey(
        Assignment, on_delete=models.PROTECT, related_name="segmentations"
    )
    question = models.SlugField(max_length=64, help_text="code of the marks question")
    series = models.ForeignKey(Series, on_delete=models.PROTECT, related_name="+")
    file = models.CharField(max_length=300, help_text="NIfTI on the series grid, storage name")
    sha256 = models.CharField(max_length=64)
    voxels = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "reading"
        ordering = ["assignment_id", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "question", "sha256"], name="unique_segmentation_upload"
            )
        ]


def _bad(message: str) -> StudyError:
    return StudyError("invalid_segmentation", message)


def _reference(series: Series) -> sitk.Image:
    if not series.volume:
        raise _bad("the series has no volume to segment yet")
    with local_copy(series.volume) as path:
        return sitk.ReadImage(str(path))


def _raw_mask(body: bytes, shape: tuple[int, int, int]) -> np.ndarray:
    expected = int(np.prod(shape))
    if body[:2] == b"\x1f\x8b":
        inflate = zlib.decompressobj(wbits=31)
        try:
            body = inflate.decompress(body, expected + 1)
        except zlib.error:
            raise _bad("the mask is not valid gzip") from None
    if len(body) != expected:
        raise _bad(f"the mask has {len(body)} voxels; the series grid {list(shape)} has {expected}")
    return np.frombuffer(body, dtype=np.uint8).reshape(shape)


def _nifti_mask(body: bytes, reference: sitk.Image) -> np.ndarray:
    suffix = ".nii.gz" if body[:2] == b"\x1f\x8b" else ".nii"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"mask{suffix}"
        path.write_bytes(body)
        try:
            image = sitk.ReadImage(str(path))
        except RuntimeError:
            raise _bad("the mask is not a readable NIfTI file") from None
    if image.GetSize() != reference.GetSize():
        raise _bad(f"mask size {image.GetSize()} differs from the series {reference.GetSize()}")
    same = (
        np.allclose(image.GetSpacing(), reference.GetSpacing(), atol=1e-3)
        and np.allclose(image.GetOrigin(), reference.GetOrigin(), atol=1e-2)
        and np.allclose(image.GetDirection(), reference.GetDirection(), atol=1e-3)
    )
    if not same:
        raise _bad("mask geometry (spacing, origin or direction) differs from the series")
    return sitk.GetArrayFromImage(image)


def parse_shape(text: str | None) -> tuple[int, int, int]:
    try:
        shape = tuple(int(v) for v in (text or "").split(","))
    except ValueError:
        shape = ()
    if len(shape) != 3 or min(shape) < 1:
        raise _bad('a raw mask needs its shape as "slices,rows,columns"')
    return shape


def mask_array(body: bytes, content_type: str, shape_text: str | None, series: Series):
    """(binary mask as uint8 0/1, reference image) of an upload; StudyError naming a problem."""
    if not body:
        raise _bad("the upload is empty")
    reference = _reference(series)
    grid = (series.num_slices, series.rows, series.columns)
    if content_type == NIFTI:
        array = _nifti_mask(body, reference)
    elif content_type == RAW:
        shape = parse_shape(shape_text)
        if shape != grid:
            raise _bad(f"mask shape {list(shape)} differs from the series grid {list(grid)}")
        array = _raw_mask(body, shape)
    else:
        raise _bad(f"send the mask as {RAW} (raw uint8 with ?shape=) or {NIFTI}")
    values = np.unique(array)
    if not set(values.tolist()) <= {0, 1}:
        shown = ", ".join(str(v) for v in values[:6].tolist())
        raise _bad(f"the mask must be binary (0 or 1); it holds {shown}")
    if not values.size or values.max() == 0:
        raise _bad("the mask is empty: nothing was segmented")
    return array.astype(np.uint8), reference


def to_nifti(array: np.ndarray, reference: sitk.Image) -> bytes:
    image = sitk.GetImageFromArray(array)
    image.CopyInformation(reference)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "mask.nii.gz"
        sitk.WriteImage(image, str(out), useCompression=True)
        return out.read_bytes()


def marks_question(assignment: Assignment, code: str):
    question = assignment.study.questions.filter(code=code).first()
    if question is None or question.type != QuestionType.MARKS:
        raise _bad(f"{code!r} is not a marks question of this study")
    if "brush" not in (question.config or {}).get("tools", ["brush"]):
        raise _bad(f"question {code!r} does not allow segmentation")
    return question


@transaction.atomic
def record(assignment: Assignment, code: str, series: Series, array, reference):
    """Store the mask (content-addressed) and its row; the same mask again is the same row."""
    data = to_nifti(array, reference)
    name, digest = save_content_addressed(PREFIX, data, ".nii.gz")
    segmentation, _ = ReaderSegmentation.objects.get_or_create(
        assignment=assignment,
        question=code,
        sha256=digest,
        defaults={"series": series, "file": name, "voxels": int(array.sum())},
    )
    return segmentation
