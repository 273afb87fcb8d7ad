"""The case library: de-identified imaging, kept apart from labels and clinical data.

Readers only ever meet a case through its pseudonymous ``code``. Original identifiers are never
stored; ``source_key`` is a keyed hash (HMAC) used to recognise a re-upload of the same study.
"""

from typing import ClassVar

from django.conf import settings
from django.db import models

from readerstudy.core.jobs import Job, JobStatus


class Collection(models.Model):
    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Case(models.Model):
    """One imaging examination of one subject, as readers see it (by code only)."""

    class Status(models.TextChoices):
        READY = "ready"
        QUARANTINED = "quarantined"

    code = models.CharField(max_length=32, unique=True)
    collection = models.ForeignKey(
        Collection, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    source_key = models.CharField(
        max_length=64, unique=True, help_text="HMAC of the original study identity (not reversible)"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.READY)
    quarantine_reason = models.CharField(max_length=200, blank=True)
    primary_series = models.ForeignKey(
        "Series", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    primary_series_overridden = models.BooleanField(default=False)
    # Acquisition facts that are not identifying and matter for analysis (site, scanner...).
    site = models.CharField(max_length=120, blank=True)
    scanner = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Series(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="series")
    study_instance_uid = models.CharField(max_length=64, db_index=True)
    series_instance_uid = models.CharField(max_length=64, unique=True)
    frame_of_reference_uid = models.CharField(max_length=64, blank=True)
    modality = models.CharField(max_length=16)
    series_number = models.IntegerField(null=True, blank=True)
    description = models.CharField(max_length=200, blank=True)
    rows = models.PositiveIntegerField()
    columns = models.PositiveIntegerField()
    num_slices = models.PositiveIntegerField()
    pixel_spacing_row = models.FloatField()
    pixel_spacing_col = models.FloatField()
    slice_spacing = models.FloatField()
    slice_thickness = models.FloatField(null=True, blank=True)
    gantry_tilt = models.FloatField(
        default=0.0,
        help_text="degrees between the slice step and the slice normal (0: untilted); a tilted"
        " series' volume keeps its sheared grid",
    )
    orientation = models.JSONField(help_text="ImageOrientationPatient (6 floats)")
    origin = models.JSONField(help_text="position of the first sorted slice (x, y, z mm)")
    volume = models.CharField(max_length=300, blank=True, help_text="cached NIfTI, storage name")
    variants = models.JSONField(default=dict, blank=True, help_text="resampled volumes by variant")
    content_hash = models.CharField(max_length=64, help_text="sha256 over the instance hashes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case_id", "series_number", "id"]
        verbose_name_plural = "series"

    def __str__(self) -> str:
        return f"{self.case.code} / series {self.series_number or self.pk}"


class Instance(models.Model):
    """One de-identified DICOM file, stored content-addressed in Django storage."""

    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="instances")
    sop_instance_uid = models.CharField(max_length=64, unique=True)
    sop_class_uid = models.CharField(max_length=64)
    transfer_syntax_uid = models.CharField(max_length=64)
    position = models.PositiveIntegerField(help_text="0-based index along the slice normal")
    instance_number = models.IntegerField(null=True, blank=True)
    file = models.CharField(max_length=300, help_text="storage name")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    pixel_offset = models.PositiveBigIntegerField(help_text="byte offset of the pixel data value")
    pixel_length = models.PositiveBigIntegerField()
    metadata = models.JSONField(help_text="DICOM JSON of the de-identified header, no bulk data")

    class Meta:
        ordering = ["series_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["series", "position"], name="unique_slice_position")
        ]


class DeidentificationLog(models.Model):
    """Which attributes de-identification acted on, per instance (never their values)."""

    instance = models.OneToOneField(Instance, on_delete=models.CASCADE, related_name="deid_log")
    profile = models.CharField(max_length=200)
    actions = models.JSONField(help_text="list of {tag, keyword, action}")
    created_at = models.DateTimeField(auto_now_add=True)


class GroundTruth(models.Model):
    """Reference labels of a case, kept apart from images and from reads."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="ground_truth")
    etiology = models.CharField(
        max_length=32, blank=True, help_text="binary etiology, e.g. cvst_ich / sich"
    )
    ich_present = models.BooleanField(null=True, blank=True)
    subtypes = models.JSONField(default=list, blank=True, help_text="e.g. ['IPH', 'IVH']")
    location = models.CharField(max_length=32, blank=True, help_text="deep / lobar / subtentorial")
    slice_labels = models.JSONField(default=dict, blank=True)
    covariates = models.JSONField(
        default=dict, blank=True, help_text="clinical covariates, hidden from readers"
    )
    source = models.CharField(max_length=200, blank=True)
    provenance = models.JSONField(
        default=dict,
        blank=True,
        help_text="per truth field: method (import / vote / adjudication), annotators, source, at",
    )
    updated_at = models.DateTimeField(auto_now=True)


class HematomaMask(models.Model):
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="hematoma_mask")
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="+")
    file = models.CharField(max_length=300, help_text="NIfTI on the series grid, storage name")
    voxels = models.PositiveIntegerField()
    volume_ml = models.FloatField()


class TruthLesion(models.Model):
    """One lesion of a case's localisation truth (FROC scoring): a connected component of the
    case's hematoma mask (``component`` = its label, see ``cases.lesions``) or a row of a
    lesions CSV. A case's weights sum to 1; a case without lesions is non-diseased."""

    class Source(models.TextChoices):
        MASK = "mask", "hematoma mask components"
        CSV = "csv", "lesions CSV"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="truth_lesions")
    lesion_id = models.PositiveIntegerField(help_text="1..n within the case")
    x_mm = models.FloatField()
    y_mm = models.FloatField()
    z_mm = models.FloatField(help_text="centroid, patient LPS mm")
    radius_mm = models.FloatField(null=True, blank=True)
    weight = models.FloatField()
    component = models.PositiveIntegerField(null=True, blank=True)
    voxels = models.PositiveIntegerField(null=True, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices)

    class Meta:
        ordering = ("case_id", "lesion_id")
        constraints = [
            models.UniqueConstraint(fields=["case", "lesion_id"], name="unique_case_lesion_id")
        ]


class AnnotatorMask(models.Model):
    """One annotator's hematoma mask of a case in one session (seed 001's reliability step).

    Several annotators segment the same cases, and one of them again after an interval
    (``session`` 2, 3, ...), to measure how reliable the radiomic features are (ICC) and how
    well the masks overlap (Dice). The reference mask of a case is :class:`HematomaMask`.
    Stored as NIfTI on the series grid, like it.
    """

    class Format(models.TextChoices):
        NIFTI = "nifti", "NIfTI"
        SEG = "seg", "DICOM SEG"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="annotator_masks")
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="+")
    annotator = models.CharField(max_length=120, help_text="the annotator's label")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="the annotator's account, when they have one",
    )
    session = models.PositiveSmallIntegerField(help_text="1 = first, 2 = repeat after an interval")
    session_date = models.DateField(help_text="when the annotator drew it")
    file = models.CharField(max_length=300, help_text="NIfTI on the series grid, storage name")
    sha256 = models.CharField(max_length=64)
    source_format = models.CharField(max_length=8, choices=Format.choices)
    voxels = models.PositiveIntegerField()
    volume_ml = models.FloatField()
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case__code", "annotator", "session"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "annotator", "session"], name="unique_annotator_session_mask"
            ),
            models.CheckConstraint(
                condition=models.Q(session__gte=1), name="annotator_mask_session_from_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case.code} / {self.annotator} / session {self.session}"


class ImportJob(Job):
    """One import (upload, folder or PACS) with its progress and per-item errors.

    The lifecycle is :class:`readerstudy.core.jobs.Job`'s (queued, running, succeeded, failed,
    cancelled). An upload job created before its files arrive is ``queued`` in the ``waiting``
    phase until the files come. While it runs, ``phase`` says what it is doing and
    ``done``/``total`` count the files of that phase (they start again at 0 in the next one);
    ``updated_at`` is the last change. ``errors`` lists every item's problem; ``error_code`` and
    ``error`` hold the first one of a failed import (the job's reason for failing).
    """

    #: only a queued import (one waiting for its files, too) can be cancelled: the upload
    #: import runs in one transaction that does not check for a cancel yet
    cancellable: ClassVar[bool] = False

    class Source(models.TextChoices):
        UPLOAD = "upload"
        FOLDER = "folder"
        PACS = "pacs"

    Status = JobStatus

    class Phase(models.TextChoices):
        NONE = "", "not started"
        WAITING = "waiting", "waiting for files"
        RECEIVED = "received"
        VALIDATING = "validating"
        DEIDENTIFYING = "de-identifying", "De-identifying"
        STORING = "storing"
        DONE = "done"
        FAILED = "failed"

    source = models.CharField(max_length=16, choices=Source.choices)
    phase = models.CharField(max_length=32, choices=Phase.choices, default=Phase.NONE, blank=True)
    collection = models.ForeignKey(Collection, null=True, blank=True, on_delete=models.SET_NULL)
    collection_name = models.CharField(
        max_length=120, blank=True, help_text="the collection to create when the import succeeds"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    errors = models.JSONField(default=list, blank=True, help_text="[{item, code, message}]")
    cases = models.ManyToManyField(Case, blank=True, related_name="import_jobs")
    created_case = models.BooleanField(
        null=True, blank=True, help_text="whether the import added its case (no: already there)"
    )
    updated_at = models.DateTimeField(auto_now=True)

    @property
    def is_waiting(self) -> bool:
        """An upload job that has not received its files yet."""
        return self.status == JobStatus.QUEUED and self.phase == self.Phase.WAITING


class ClinicalVariable(models.Model):
    """A study-defined clinical variable with its declared type (the built-ins are in code).

    The catalogue belongs to the case library, not to a study: a case is one subject's
    examination whose age or etiology is the same in every study that reads it, and the case
    library is where truth is kept apart from reads. Studies choose which variables they use
    (in their analysis, or to show them on purpose).
    """

    class Kind(models.TextChoices):
        NUMBER = "number"
        INTEGER = "integer"
        BOOLEAN = "boolean"
        CATEGORY = "category"
        TEXT = "text"

    name = models.CharField(max_length=48, unique=True)
    label = models.CharField(max_length=120, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    options = models.JSONField(default=list, blank=True, help_text="a category's values")
    unit = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ClinicalRecord(models.Model):
    """A case's clinical values ({variable: typed value}), hidden from readers.

    Values are checked against the catalogue when stored (``readerstudy.cases.clinical``).
    """

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="clinical")
    values = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
