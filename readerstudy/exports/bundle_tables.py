"""The bundle's tables: which rows of which model, keyed how (docs/bundle.md lists the columns).

Each table is its keys (relations written as the bundle's natural keys) followed by the model's
own fields (``bundle_codec.own_fields``), streamed from the database with ``iterator()``.
Rows are bundle-local where a table needs an id of its own (``assignments.id``, ``outputs.id``:
the exporting platform's primary keys, used only to join the tables of one bundle).
"""

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.core.files.storage import default_storage
from django.db import connections, models
from django.db.models.functions import Cast
from django.db.models.sql.constants import MULTI

from readerstudy.ai.models import Heatmap, InferenceOutput
from readerstudy.analysis.bundle import dumps
from readerstudy.cases.models import Case, GroundTruth, Instance, Series
from readerstudy.reading.models import AnswerRevision, AssistanceExposure, ConsentAcceptance
from readerstudy.studies.models import Assignment, ReaderStudy, StudyReader

from .bundle_codec import encode, own_fields, raw_encoder

CHUNK = 5000


@dataclass(frozen=True)
class Table:
    """``keys``: (column, queryset lookup); then the model's own fields but ``exclude``.
    ``paths``: own fields that hold a stored file's name; their cell is the file's path in
    the bundle (``rows``' ``path``: the export's ``bundle_masks.MaskFiles.path``)."""

    name: str
    model: type[models.Model]
    keys: tuple[tuple[str, str], ...]
    exclude: tuple[str, ...] = ()
    prefix: str = ""  # lookup of the model from the queryset's rows (cases: "case__")
    paths: tuple[str, ...] = ()

    @property
    def fields(self) -> list[models.Field]:
        return own_fields(self.model, self.exclude)

    @property
    def header(self) -> list[str]:
        return [k for k, _ in self.keys] + [f.name for f in self.fields]

    def rows(self, queryset, path: Callable[[str], str] | None = None) -> Iterator[list]:
        """The cells of each row: text, or a driver's value that ``csv`` writes as the text
        (keys and the columns whose ``raw_encoder`` is ``None``: no call per cell)."""
        fields = self.fields
        connection = connections[queryset.db]
        lookups: list = [lookup for _, lookup in self.keys]
        lookups += [_raw_column(self.prefix + f.attname, f, connection.vendor) for f in fields]
        tz = connection.timezone or dt.UTC
        offset = len(self.keys)
        encoders = [
            (offset + i, write)
            for i, f in enumerate(fields)
            if (write := _path(path) if f.name in self.paths else raw_encoder(f, tz)) is not None
        ]
        width = len(lookups)
        for values in raw_rows(queryset.values_list(*lookups)):
            row = list(values[:width])  # a row may carry trailing columns the ordering added
            for i, write in encoders:
                row[i] = write(row[i])
            yield row


def _raw_column(lookup: str, field: models.Field, vendor: str):
    """A time column on SQLite is read as its stored text (``CAST`` to text: no driver
    converter parses it on the way, ``raw_encoder`` reads it with ``fromisoformat``)."""
    if vendor == "sqlite" and isinstance(field, models.DateTimeField):
        return Cast(lookup, output_field=models.TextField())
    return lookup


def _path(path: Callable[[str], str] | None) -> Callable[[Any], str]:
    if path is None:
        raise ValueError("a table of stored files is written with their paths in the bundle")
    return lambda name: path(name) if name else ""


def raw_rows(queryset) -> Iterator[tuple]:
    """The rows of a ``values_list`` queryset as the database driver returns them, fetched in
    chunks (as ``iterator()`` does, with PostgreSQL's server-side cursor) but without Django's
    per-value conversion: the table's encoders read the raw values (``raw_encoder``), ten
    times fewer calls per cell on tables of a million rows. A row may carry trailing columns
    the ordering added; ``Table.rows`` takes the first ones."""
    compiler = queryset.query.get_compiler(using=queryset.db)
    chunks = compiler.execute_sql(MULTI, chunked_fetch=True, chunk_size=CHUNK)
    for chunk in chunks or ():
        yield from chunk


CASES = Table(
    "cases.csv",
    Case,
    (("group", "group"), ("collection", "case__collection__name"),
     ("primary_series", "case__primary_series__series_instance_uid")),
    ("source_key",),  # a keyed hash of this platform's: meaningless elsewhere, and linkable
    "case__",
)  # fmt: skip
SERIES = Table("series.csv", Series, (("case", "case__code"),), ("volume", "variants"))
INSTANCES = Table(
    "instances.csv", Instance, (("series", "series__series_instance_uid"),), ("file",)
)
TRUTH = Table("truth.csv", GroundTruth, (("case", "case__code"),))
READERS = Table(
    "readers.csv",
    StudyReader,
    (("reader", "user__username"), ("arm", "arm__name"),
     ("specialty", "user__reader_profile__specialty"),
     ("years_experience", "user__reader_profile__years_experience"),
     ("institution", "user__reader_profile__institution")),
)  # fmt: skip
ASSIGNMENTS = Table(
    "assignments.csv",
    Assignment,
    (("id", "id"), ("reader", "reader__user__username"), ("case", "study_case__case__code"),
     ("session", "session__index"), ("prerequisite", "prerequisite_id")),
)  # fmt: skip
REVISIONS = Table("revisions.csv", AnswerRevision, (("assignment", "assignment_id"),))
EXPOSURES = Table(
    "exposures.csv",
    AssistanceExposure,
    (("assignment", "assignment_id"), ("model_id", "model_version__model_id"),
     ("model_version", "model_version__version"), ("output", "inference_output_id")),
)  # fmt: skip
CONSENT = Table(
    "consent.csv",
    ConsentAcceptance,
    (("reader", "user__username"), ("version", "version__number")),
)


def case_rows(study: ReaderStudy):
    """The study's cases, from its StudyCase rows (they hold the crossover group)."""
    return study.study_cases.order_by("case__code")


def series_rows(study: ReaderStudy):
    return Series.objects.filter(case__study_memberships__study=study).order_by("case__code", "id")


def instance_rows(study: ReaderStudy):
    return Instance.objects.filter(series__case__study_memberships__study=study).order_by(
        "series__series_instance_uid", "position"
    )


def truth_rows(study: ReaderStudy):
    return GroundTruth.objects.filter(case__study_memberships__study=study).order_by("case__code")


def reader_rows(study: ReaderStudy):
    return study.readers.order_by("user__username")


def assignment_rows(study: ReaderStudy):
    return study.assignments.order_by("id")


def revision_rows(study: ReaderStudy):
    return AnswerRevision.objects.filter(assignment__study=study).order_by(
        "assignment_id", "number"
    )


def exposure_rows(study: ReaderStudy):
    return AssistanceExposure.objects.filter(assignment__study=study).order_by("id")


def consent_rows(study: ReaderStudy):
    return ConsentAcceptance.objects.filter(version__study=study).order_by(
        "user__username", "version__number"
    )


def study_tables(study: ReaderStudy):
    """(table, queryset) in the order they are written."""
    return [
        (CASES, case_rows(study)),
        (SERIES, series_rows(study)),
        (INSTANCES, instance_rows(study)),
        (TRUTH, truth_rows(study)),
        (READERS, reader_rows(study)),
        (ASSIGNMENTS, assignment_rows(study)),
        (REVISIONS, revision_rows(study)),
        (EXPOSURES, exposure_rows(study)),
        (CONSENT, consent_rows(study)),
    ]


# --- model outputs -------------------------------------------------------------------------

OUTPUT_KEYS = ["id", "case", "series", "model_id", "model_version", "params", "params_hash"]
OUTPUT_FILES = ["output_sha256", "mask_sha256", "heatmaps"]


def output_sha256(values: dict) -> str:
    """sha256 of an output's values (every own field but its creation time)."""
    return hashlib.sha256(dumps({k: v for k, v in values.items() if k != "created_at"})).hexdigest()


def stored_sha256(name: str) -> str:
    """sha256 of a stored file; empty when there is none (or it is gone)."""
    if not name or not default_storage.exists(name):
        return ""
    digest = hashlib.sha256()
    with default_storage.open(name, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def output_fields() -> list[models.Field]:
    return own_fields(InferenceOutput, ("mask",))


def output_header() -> list[str]:
    return OUTPUT_KEYS + [f.name for f in output_fields()] + OUTPUT_FILES


def _heatmaps(output: InferenceOutput) -> list[dict]:
    return [
        {
            "method": h.method,
            "label": h.label,
            "signed": h.signed,
            "params": h.params,
            "passes": h.passes,
            "value_range": h.value_range,
            "sha256": stored_sha256(h.file),
        }
        for h in sorted(output.heatmaps.all(), key=lambda h: (h.method, h.label))
    ]


def study_outputs(study: ReaderStudy, latest_ids: set[int]):
    """Outputs shown to the readers (exposures) and the latest per case of the study's model
    (its scores)."""
    shown = AssistanceExposure.objects.filter(assignment__study=study).values("inference_output")
    return (
        InferenceOutput.objects.filter(models.Q(pk__in=shown) | models.Q(pk__in=latest_ids))
        .select_related("job__case", "job__series", "job__model_version")
        .prefetch_related(models.Prefetch("heatmaps", queryset=Heatmap.objects.all()))
        .order_by("id")
    )


def output_rows(outputs) -> Iterator[list[str]]:
    fields = output_fields()
    params_field = InferenceOutput._meta.get_field("provenance")  # any JSON field encodes alike
    for o in outputs:
        job = o.job
        values = {f.name: getattr(o, f.attname) for f in fields}
        yield [
            str(o.pk),
            job.case.code,
            job.series.series_instance_uid,
            job.model_version.model_id,
            job.model_version.version,
            encode(params_field, job.params),
            job.params_hash,
            *(encode(f, values[f.name]) for f in fields),
            output_sha256(values),
            stored_sha256(o.mask),
            encode(params_field, _heatmaps(o)),
        ]
