"""Hematoma masks of a truth panel: each annotator's upload, the consensus and the Dice between
them.

An annotator draws in the viewer's segmentation tool; the upload is read and checked by
:mod:`readerstudy.cases.mask_uploads` (the same rules as a reader's segmentation) and kept as
NIfTI on the series grid. Once every annotator is done, the masks of a case are voted voxel by
voxel (on a worker: ``panels.runner``): a voxel is hematoma when more than half of the
annotators drew it (SimpleITK's ``LabelVotingImageFilter``, ties labelled background). A
majority vote rather than STAPLE: it is the rule the panel applies to its other labels, it
needs no prior (STAPLE estimates the foreground prior from the whole volume, in which a small
hematoma is a tiny fraction, and its result then depends on the field of view), and it gives
the same answer for the same masks whatever their order. The masks are voted so under either
panel rule (an adjudicator decides items, not voxels). An annotator who says "no ICH"
contributes an empty mask. The consensus is stored like the cases' ground-truth masks (content-
addressed NIfTI under ``masks/``), becomes the panel truth's mask when the panel is finalized,
and the case's own truth mask when a reader study takes its truth from the panel (see
``panels.case_masks``).
"""

import itertools
import math

import numpy as np
import SimpleITK as sitk

from readerstudy.ai.outputs import read_volume
from readerstudy.analysis.dice import dice
from readerstudy.cases import mask_uploads
from readerstudy.cases.models import Series
from readerstudy.cases.storage import local_copy, save_content_addressed

from .models import Annotation, ConsensusMask, PanelAnnotator, PanelCase, PanelMask

UPLOAD_PREFIX = "panels/masks"
TRUTH_PREFIX = "masks"  # where the cases' ground-truth masks are stored
METHOD = "majority_voxel_vote"
METHOD_TEXT = "majority voxel vote (SimpleITK LabelVotingImageFilter), ties background"


def record_upload(
    seat: PanelAnnotator, panel_case: PanelCase, body: bytes, content_type: str, shape: str | None
) -> PanelMask:
    """Check an uploaded mask against the case's series and keep it; the same mask again is
    the same row. Raises MaskUploadInvalid naming the problem."""
    series = panel_case.case.primary_series
    if series is None:
        raise mask_uploads.MaskUploadInvalid("the case has no series to segment")
    array, reference = mask_uploads.mask_array(body, content_type, shape, series)
    data = mask_uploads.to_nifti(array, reference)
    name, digest = save_content_addressed(UPLOAD_PREFIX, data, ".nii.gz")
    mask, _ = PanelMask.objects.get_or_create(
        panel_case=panel_case,
        annotator=seat,
        sha256=digest,
        defaults={"series": series, "file": name, "voxels": int(array.sum())},
    )
    return mask


def own_mask(seat: PanelAnnotator, case_code: str, sha256: str) -> PanelMask | None:
    """A mask the caller uploaded of this case, else None (never another annotator's)."""
    return PanelMask.objects.filter(
        annotator=seat, panel_case__case__code=case_code, sha256=sha256
    ).first()


def mask_bytes(mask: PanelMask) -> tuple[bytes, tuple[int, ...]]:
    """The mask as raw uint8 (0/1; slices x rows x columns) and its shape."""
    array = (read_volume(mask.file).array > 0).astype(np.uint8)
    return array.tobytes(), array.shape


def _voxel_ml(series: Series) -> float:
    return series.pixel_spacing_row * series.pixel_spacing_col * series.slice_spacing / 1000


def _dice(a: np.ndarray, b: np.ndarray) -> float | None:
    value = dice(a, b)
    return None if math.isnan(value) else round(value, 6)


def build_consensus(panel_case: PanelCase, annotations: list[Annotation]) -> ConsensusMask:
    """Vote the masks of a case (annotations in annotator order): the consensus, its file
    stored (content-addressed, so a vote run again stores the same file) and its row not yet
    saved (the vote saves every case's row in one transaction)."""
    chosen = {a.annotator.alias: (a.values.get("hematoma_mask") or {}) for a in annotations}
    files = {
        m.sha256: m.file
        for m in PanelMask.objects.filter(
            panel_case=panel_case, sha256__in=[c["sha256"] for c in chosen.values() if c]
        )
    }
    images: dict[str, sitk.Image | None] = {}
    for alias, value in chosen.items():
        if value:
            with local_copy(files[value["sha256"]]) as path:
                images[alias] = sitk.Cast(sitk.ReadImage(str(path)) > 0, sitk.sitkUInt8)
        else:
            images[alias] = None
    drawn = [img for img in images.values() if img is not None]
    series = panel_case.case.primary_series
    if not drawn or series is None:
        return ConsensusMask(
            panel_case=panel_case, voxels=0, volume_ml=0.0, method=METHOD,
            annotator_voxels=dict.fromkeys(chosen, 0), dice={"pairs": {}, "to_consensus": {}},
        )  # fmt: skip
    reference = drawn[0]
    blank = sitk.Image(reference.GetSize(), sitk.sitkUInt8)
    blank.CopyInformation(reference)
    stack = [img if img is not None else blank for img in images.values()]
    voting = sitk.LabelVotingImageFilter()
    voting.SetLabelForUndecidedPixels(0)  # a tie is not a majority
    consensus = voting.Execute(*stack) if len(stack) > 1 else stack[0]
    arrays = {alias: sitk.GetArrayViewFromImage(img) > 0 for alias, img in zip(images, stack)}
    result = sitk.GetArrayFromImage(consensus) == 1
    voxels = int(result.sum())
    name, digest = "", ""
    if voxels:
        data = mask_uploads.to_nifti(result.astype(np.uint8), reference)
        name, digest = save_content_addressed(TRUTH_PREFIX, data, ".nii.gz")
    return ConsensusMask(
        panel_case=panel_case,
        file=name,
        sha256=digest,
        voxels=voxels,
        volume_ml=voxels * _voxel_ml(series),
        method=METHOD,
        annotator_voxels={alias: int(a.sum()) for alias, a in arrays.items()},
        dice={
            "pairs": {
                f"{x}-{y}": _dice(arrays[x], arrays[y])
                for x, y in itertools.combinations(arrays, 2)
            },
            "to_consensus": {alias: _dice(a, result) for alias, a in arrays.items()},
        },
    )
