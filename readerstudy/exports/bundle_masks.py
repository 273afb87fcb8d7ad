"""The mask files of a bundle: the cases' truth masks and a truth panel's annotator and
consensus masks, NIfTI as stored, each once under ``masks/<sha256>.nii.gz``.

A table row names its mask by that path (the file's sha256 is in it, and the manifest lists
it): ``truth_masks.csv`` (the cases' hematoma masks), ``panel/masks.csv`` (every mask an
annotator uploaded) and ``panel/truth.csv``'s ``mask_file`` (the consensus). The import checks
each file against its path's sha256 and the row's own sha256, stores it content-addressed
where the platform keeps such masks, and points the rebuilt rows at it.
"""

import hashlib
import re

from django.core.files.storage import default_storage

from readerstudy.analysis.bundle import Bundle, BundleError
from readerstudy.cases.models import HematomaMask
from readerstudy.cases.storage import content_name, save_content_addressed
from readerstudy.panels.models import PanelMask
from readerstudy.studies.models import ReaderStudy

from .bundle_tables import Table, stored_sha256

MASKS = "masks/"
SUFFIX = ".nii.gz"
TRUTH_PREFIX = "masks"  # storage: the cases' truth masks and the panels' consensus masks
UPLOAD_PREFIX = "panels/masks"  # storage: the annotators' uploads (``panels.masks``)
_PATH = re.compile(r"masks/([0-9a-f]{64})\.nii\.gz")

CASE_MASKS = Table(
    "truth_masks.csv",
    HematomaMask,
    (("case", "case__code"), ("series", "series__series_instance_uid")),
    paths=("file",),
)
PANEL_MASKS = Table(
    "panel/masks.csv",
    PanelMask,
    (("case", "panel_case__case__code"), ("annotator", "annotator__user__username"),
     ("series", "series__series_instance_uid")),
    paths=("file",),
)  # fmt: skip


def path_of(sha256: str) -> str:
    return f"{MASKS}{sha256}{SUFFIX}"


def case_mask_rows(study: ReaderStudy):
    return HematomaMask.objects.filter(case__study_memberships__study=study).order_by("case__code")


def panel_mask_rows(study: ReaderStudy):
    return PanelMask.objects.filter(
        panel_case__panel=study.truth_panel, panel_case__case__study_memberships__study=study
    ).order_by("panel_case__case__code", "annotator__position", "created_at", "sha256")


class MaskFiles:
    """The export's mask files: ``path`` gives a stored mask's path in the bundle (and keeps
    it), ``write`` adds each distinct file once, after the tables (a zip is written one member
    at a time)."""

    def __init__(self) -> None:
        self.files: dict[str, str] = {}  # path in the bundle: storage name
        self._paths: dict[str, str] = {}  # storage name: path (a file hashed once)

    def path(self, name: str) -> str:
        if name not in self._paths:
            digest = stored_sha256(name)
            if not digest:
                raise BundleError("missing_part", f"the stored mask {name} is missing")
            self._paths[name] = path_of(digest)
            self.files.setdefault(self._paths[name], name)
        return self._paths[name]

    def write(self, writer) -> None:
        for path, name in sorted(self.files.items()):
            writer.stored(path, name)
            if writer.files[path][0] != _PATH.fullmatch(path).group(1):  # type: ignore[union-attr]
                raise BundleError("hash_mismatch", f"the stored mask {name} changed while read")


def checked(bundle: Bundle, path: str, where: str, sha256: str | None = None) -> bytes:
    """The bytes of the bundle's mask ``path``: present, and its content the sha256 of its
    path and (given) of the row that names it."""
    match = _PATH.fullmatch(path)
    if match is None:
        raise BundleError(
            "invalid_value", f"{where}: {path!r} is not a mask path (masks/<sha256>{SUFFIX})"
        )
    if not bundle.has(path):
        raise BundleError("missing_part", f"{where}: the bundle has no {path}")
    data = bundle.read(path)
    digest = hashlib.sha256(data).hexdigest()
    if digest != match.group(1) or (sha256 is not None and digest != sha256):
        raise BundleError(
            "hash_mismatch", f"{path}: its content does not match the sha256 that {where} names"
        )
    return data


def restore(
    bundle: Bundle, path: str, where: str, prefix: str, stored: list[str], sha256=None
) -> str:
    """Store the bundle's mask ``path`` (checked) content-addressed under ``prefix``; its
    storage name. A file stored here for the first time goes into ``stored`` (deleted again
    if the import fails)."""
    data = checked(bundle, path, where, sha256)
    fresh = not default_storage.exists(content_name(prefix, data, SUFFIX))
    name, _ = save_content_addressed(prefix, data, SUFFIX)
    if fresh:
        stored.append(name)
    return name
