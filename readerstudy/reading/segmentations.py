"""A reader's segmentation of the case's series: uploaded once per version, kept, never changed.

The viewer sends the labelmap it drew as a binary mask on the series grid: raw ``uint8`` voxels
(slices in the series' order along the slice normal, then rows, then columns), gzip-compressed
or not, with its shape; scripts may send a NIfTI (``.nii`` / ``.nii.gz``) on the series grid
instead. The mask is stored as NIfTI with the series volume's geometry (content-addressed) and
a marks answer references it by ``{"file", "sha256", "voxels"}``. Uploads are refused once the
read is locked, as drafts are. Uploads are read and checked by
:mod:`readerstudy.cases.mask_uploads`.
"""

import SimpleITK as sitk
from django.db import models, transaction

from readerstudy.cases import mask_uploads
from readerstudy.cases.mask_uploads import NIFTI, RAW, to_nifti
from readerstudy.cases.models import Series
from readerstudy.cases.storage import save_content_addressed
from readerstudy.studies.errors import StudyError
from readerstudy.studies.models import Assignment, QuestionType

__all__ = ["NIFTI", "RAW", "ReaderSegmentation", "mask_array", "record", "to_nifti"]
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
    try:
        return mask_uploads.reference_image(series)
    except mask_uploads.MaskUploadInvalid as exc:
        raise _bad(exc.message) from None


def mask_array(body: bytes, content_type: str, shape_text: str | None, series: Series):
    """(binary mask as uint8 0/1, reference image) of an upload (see
    :mod:`readerstudy.cases.mask_uploads`); StudyError naming a problem."""
    try:
        return mask_uploads.mask_array(body, content_type, shape_text, series)
    except mask_uploads.MaskUploadInvalid as exc:
        raise _bad(exc.message) from None


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
