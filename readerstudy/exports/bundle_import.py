"""Rebuild a study from its bundle, in one transaction: all of it or nothing.

The bundle is checked first (manifest, format version, every file's sha256). Then, inside one
transaction: model versions (an existing one must have the same weights sha256), readers (users
created with no usable password; existing user names are reused), cases (an existing case of
the same code must have the same series content hashes, truth and truth mask), the cases' truth
masks, the study and its protocol, assignments, answer revisions, assistance exposures,
consent acceptances, model outputs and a truth panel with its masks, its voxel vote and the
record of its consensus masks written as the cases' truth masks. Images are optional: when
the bundle has them, each is checked against its instance's sha256 and stored; a series'
content hash is checked against its instances' hashes. Mask files are checked against the
sha256 their rows name (``bundle_masks``). Any refusal rolls everything back, including the
images and masks stored so far.

Stored times are the bundle's, not the import's: while the import runs the ``auto_now`` /
``auto_now_add`` of the models it writes are switched off (the import is a management command,
one per process).
"""

import contextlib
import csv
import hashlib
import io
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.db import models, transaction

from readerstudy import audit
from readerstudy.accounts.models import ReaderProfile, Role
from readerstudy.ai.models import InferenceJob, InferenceOutput, ModelVersion
from readerstudy.analysis import bundle as fmt
from readerstudy.analysis.bundle import BundleError
from readerstudy.cases.models import Case, Collection, GroundTruth, HematomaMask, Instance, Series
from readerstudy.cases.storage import content_name, save_content_addressed
from readerstudy.panels.models import Annotation, ConsensusMask, Panel, PanelMask, PanelTruth
from readerstudy.reading.models import AnswerRevision, AssistanceExposure, ConsentAcceptance
from readerstudy.studies.consent import ConsentVersion, text_sha256
from readerstudy.studies.models import (
    Arm,
    Assignment,
    AssistanceConfig,
    Endpoint,
    Question,
    ReaderStudy,
    ReadingSession,
    ScheduleEntry,
    StudyCase,
    StudyCondition,
    StudyReader,
)

from . import bundle_masks as masks
from . import bundle_panel as panels
from . import bundle_params as params
from . import bundle_tables as tables
from .bundle_codec import decode, fields_of, own_fields

BATCH = 5000
_ASSIGNMENT_KEYS = ("study", "reader", "study_case", "session", "prerequisite")
_POSITION = Assignment._meta.get_field("position")
TIMESTAMPED = (
    ReaderStudy, StudyReader, ConsentVersion, AnswerRevision, GroundTruth, InferenceOutput,
    ModelVersion, Case, Series, Panel, Annotation, PanelTruth, PanelMask, ConsensusMask,
)  # fmt: skip


@dataclass(frozen=True)
class ImportSummary:
    study: ReaderStudy
    rows: dict[str, int]
    images: int
    created_cases: int
    reused_cases: int


@contextlib.contextmanager
def _timestamps_kept():
    switched = []
    for model in TIMESTAMPED:
        for f in model._meta.concrete_fields:
            if isinstance(f, models.DateField) and (f.auto_now or f.auto_now_add):
                switched.append((f, f.auto_now, f.auto_now_add))
                f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, now, now_add in switched:
            f.auto_now, f.auto_now_add = now, now_add


def _source_key(code: str) -> str:
    """Cases from a bundle have no original identity here: a key of their own."""
    return hashlib.sha256(f"bundle-case:{code}".encode()).hexdigest()


def _field(model: type[models.Model], name: str) -> models.Field:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


class _Import:
    def __init__(self, bundle: fmt.Bundle, user, stored: list[str]):
        self.bundle, self.user, self.stored = bundle, user, stored
        self.rows: dict[str, int] = {}
        self.images = 0

    # --- reading -----------------------------------------------------------------------------

    def _columns(self, table: tables.Table | str, header: list[str] | None) -> tuple:
        """(file name, its columns) of a bundled CSV whose header has every key column and no
        unknown one."""
        name = table if isinstance(table, str) else table.name
        expected = header if header is not None else table.header  # type: ignore[union-attr]
        keys = expected if isinstance(table, str) else [k for k, _ in table.keys]
        with self.bundle.open(name) as raw:
            columns = next(csv.reader(io.TextIOWrapper(raw, encoding="utf-8", newline="")), [])
        unknown = sorted(set(columns) - set(expected))
        missing = [k for k in keys if k not in columns]
        if unknown or missing:
            raise BundleError(
                "invalid_table",
                f"{name}: "
                + "; ".join(
                    ([f"unknown column(s) {unknown}"] if unknown else [])
                    + ([f"missing column(s) {missing}"] if missing else [])
                ),
            )
        return name, columns

    def table(self, table: tables.Table | str, header: list[str] | None = None):
        """(row number, {column: text}) of a bundled CSV, its header checked."""
        name, columns = self._columns(table, header)
        for number, cells in self.cells(name, len(columns)):
            yield f"{name} row {number}", dict(zip(columns, cells, strict=True))

    def index(self, table: tables.Table | str, header: list[str] | None = None):
        """(file name, {column: position}) of a bundled CSV, its header checked."""
        name, columns = self._columns(table, header)
        return name, {c: i for i, c in enumerate(columns)}

    def cells(self, name: str, width: int) -> Iterator[tuple[int, list[str]]]:
        """(row number, cells) of the rows of a bundled CSV after its header; a row of another
        width than the header's is refused."""
        with self.bundle.open(name) as raw:
            reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
            next(reader, None)
            count = 1
            for count, cells in enumerate(reader, start=2):
                if len(cells) != width:
                    if not cells:
                        continue
                    raise BundleError(
                        "invalid_table",
                        f"{name} row {count}: {len(cells)} cells, the header has {width}",
                    )
                yield count, cells
            self.rows[name] = count - 1

    @staticmethod
    def own(model, row: dict, where: str, exclude=()) -> dict[str, Any]:
        return {
            f.name: decode(f, row[f.name], where)
            for f in own_fields(model, exclude)
            if f.name in row
        }

    @staticmethod
    def key(mapping: dict, value: Any, what: str, where: str):
        try:
            return mapping[value]
        except KeyError:
            raise BundleError("unknown_reference", f"{where}: unknown {what} {value!r}") from None

    # --- models, users, cases ----------------------------------------------------------------

    def model_versions(self) -> None:
        self.models: dict[tuple[str, str], ModelVersion] = {}
        for i, data in enumerate(self.bundle.json("models.json")):
            where = f"models.json entry {i + 1}"
            data = dict(data)
            data.pop("registered_by", None)
            key = (str(data.get("model_id")), str(data.get("version")))
            found = ModelVersion.objects.filter(model_id=key[0], version=key[1]).first()
            if found is not None and found.weights_sha256 != data.get("weights_sha256"):
                raise BundleError(
                    "hash_mismatch",
                    f"{where}: model {key[0]} {key[1]} exists here with other weights (sha256 "
                    f"{found.weights_sha256[:12]}..., the bundle's "
                    f"{str(data.get('weights_sha256'))[:12]}...)",
                )
            self.models[key] = found or ModelVersion.objects.create(
                **fields_of(ModelVersion, data, where)
            )

    def users(self) -> None:
        readers = list(self.table(tables.READERS))
        consents = list(self.table(tables.CONSENT))
        self.reader_rows, self.consent_rows = readers, consents
        roles: dict[str, str] = {row["reader"]: Role.READER for _, row in readers + consents}
        if self.panel_record is not None:
            roles = {**panels.panel_users(self.panel_record), **roles}
        names = set(roles)
        User = get_user_model()
        self.user_by_name = {u.username: u for u in User.objects.filter(username__in=names)}
        new = []
        for name in sorted(names - set(self.user_by_name)):
            user = User(username=name, role=roles[name])
            user.set_unusable_password()
            new.append(user)
        User.objects.bulk_create(new)
        created = {u.username for u in new}
        self.user_by_name.update({u.username: u for u in User.objects.filter(username__in=created)})
        profiles = [
            ReaderProfile(
                user=self.user_by_name[row["reader"]],
                specialty=row["specialty"],
                years_experience=int(row["years_experience"] or 0),
                institution=row.get("institution") or "",
            )
            for _, row in readers
            if row["reader"] in created and row.get("specialty")
        ]
        ReaderProfile.objects.bulk_create(profiles)

    def cases(self) -> None:
        case_rows = list(self.table(tables.CASES))
        series_by_case: dict[str, list] = defaultdict(list)
        for where, row in self.table(tables.SERIES):
            series_by_case[row["case"]].append((where, row))
        instances_by_series: dict[str, list] = defaultdict(list)
        for where, row in self.table(tables.INSTANCES):
            instances_by_series[row["series"]].append((where, row))
        codes = [row["code"] for _, row in case_rows]
        existing = {c.code: c for c in Case.objects.filter(code__in=codes)}
        self._check_existing(existing, series_by_case)
        collections: dict[str, Collection] = {}
        new_cases = []
        for where, row in case_rows:
            if row["code"] in existing:
                continue
            name = row.get("collection") or ""
            if name and name not in collections:
                collections[name], _ = Collection.objects.get_or_create(name=name)
            case = Case(
                **self.own(Case, row, where, ("source_key",)),
                source_key=_source_key(row["code"]),
                collection=collections.get(name),
            )
            new_cases.append(case)
        Case.objects.bulk_create(new_cases)
        self.case_by_code = {**existing, **{c.code: c for c in new_cases}}
        self._series(new_cases, series_by_case, instances_by_series)
        primary = {row["code"]: row.get("primary_series") for _, row in case_rows}
        for case in new_cases:
            uid = primary.get(case.code)
            if uid:
                case.primary_series = self.series_by_uid[uid]
        Case.objects.bulk_update(new_cases, ["primary_series"], batch_size=BATCH)
        self.groups = {row["code"]: row.get("group") or "" for _, row in case_rows}
        self.created_cases, self.reused_cases = len(new_cases), len(existing)

    def _check_existing(self, existing: dict[str, Case], series_by_case) -> None:
        have: dict[str, set[str]] = defaultdict(set)
        for code, digest in Series.objects.filter(case__in=existing.values()).values_list(
            "case__code", "content_hash"
        ):
            have[code].add(digest)
        for code in sorted(existing):
            theirs = {row["content_hash"] for _, row in series_by_case.get(code, [])}
            if theirs != have[code]:
                raise BundleError(
                    "case_mismatch",
                    f"case {code} exists here with other images (series content hashes differ)",
                )

    def _series(self, new_cases, series_by_case, instances_by_series) -> None:
        new_series = []
        for case in new_cases:
            for where, row in series_by_case.get(case.code, []):
                new_series.append(Series(case=case, **self.own(Series, row, where)))
        Series.objects.bulk_create(new_series, batch_size=BATCH)
        existing = Series.objects.filter(case__in=[c for c in self.case_by_code.values()])
        self.series_by_uid = {s.series_instance_uid: s for s in existing}
        self.series_by_uid.update({s.series_instance_uid: s for s in new_series})
        instances = []
        for series in new_series:
            rows = instances_by_series.get(series.series_instance_uid, [])
            made = [Instance(series=series, **self.own(Instance, r, w)) for w, r in rows]
            if made:
                made.sort(key=lambda i: i.position)
                digest = hashlib.sha256("".join(i.sha256 for i in made).encode()).hexdigest()
                if digest != series.content_hash:
                    raise BundleError(
                        "hash_mismatch",
                        f"series {series.series_instance_uid} of case {series.case.code}: its "
                        "content hash does not match its instances' sha256",
                    )
            for instance in made:
                instance.file = self._image(instance)
            instances += made
        Instance.objects.bulk_create(instances, batch_size=BATCH)

    def _image(self, instance: Instance) -> str:
        name = f"{fmt.IMAGES}{instance.sha256}.dcm"
        if not self.bundle.has(name):
            return ""
        data = self.bundle.read(name)
        if hashlib.sha256(data).hexdigest() != instance.sha256:
            raise BundleError(
                "hash_mismatch",
                f"{name}: its content does not match instance {instance.sop_instance_uid}",
            )
        target = content_name("dicom", data, ".dcm")
        fresh = not default_storage.exists(target)
        stored, _ = save_content_addressed("dicom", data, ".dcm")
        if fresh:
            self.stored.append(stored)
        self.images += 1
        return stored

    def truth(self) -> None:
        have = {
            t.case.code: t
            for t in GroundTruth.objects.filter(case__in=self.case_by_code.values()).select_related(
                "case"
            )
        }
        new = []
        for where, row in self.table(tables.TRUTH):
            case = self.key(self.case_by_code, row["case"], "case", where)
            values = self.own(GroundTruth, row, where)
            if row["case"] in have:
                mine = have[row["case"]]
                differ = [
                    k for k, v in values.items() if k != "updated_at" and getattr(mine, k) != v
                ]
                if differ:
                    raise BundleError(
                        "truth_mismatch",
                        f"{where}: case {row['case']} has other truth here ({', '.join(differ)})",
                    )
                continue
            new.append(GroundTruth(case=case, **values))
        GroundTruth.objects.bulk_create(new, batch_size=BATCH)

    def truth_masks(self) -> None:
        """The cases' hematoma masks (format version 3 on): a case that already has one here
        must have the same file."""
        if not self.bundle.has(masks.CASE_MASKS.name):
            return
        have = {
            m.case.code: m
            for m in HematomaMask.objects.filter(
                case__in=self.case_by_code.values()
            ).select_related("case")
        }
        new = []
        for where, row in self.table(masks.CASE_MASKS):
            case = self.key(self.case_by_code, row["case"], "case", where)
            series = self.key(self.series_by_uid, row["series"], "series", where)
            values = self.own(HematomaMask, row, where)
            path = values.pop("file", "")
            if row["case"] in have:
                masks.checked(self.bundle, path, where)
                if masks.path_of(tables.stored_sha256(have[row["case"]].file)) != path:
                    raise BundleError(
                        "truth_mismatch", f"{where}: case {row['case']} has another mask here"
                    )
                continue
            name = masks.restore(self.bundle, path, where, masks.TRUTH_PREFIX, self.stored)
            new.append(HematomaMask(case=case, series=series, file=name, **values))
        HematomaMask.objects.bulk_create(new, batch_size=BATCH)

    # --- the study ---------------------------------------------------------------------------

    def study(self) -> ReaderStudy:
        spec = self.bundle.json("study.json")
        data = dict(spec["study"])
        created_by = data.pop("created_by", None)
        values = fields_of(ReaderStudy, data, "study.json study")
        if ReaderStudy.objects.filter(
            title=values.get("title"), created_at=values.get("created_at")
        ).exists():
            raise BundleError(
                "already_imported",
                f"study {values.get('title')!r} created {data.get('created_at')} is already here",
            )
        study = ReaderStudy.objects.create(
            **values, created_by=get_user_model().objects.filter(username=created_by).first()
        )
        self._protocol(study, spec)
        return study

    def _protocol(self, study: ReaderStudy, spec: dict) -> None:
        conditions = StudyCondition.objects.bulk_create(
            StudyCondition(study=study, **fields_of(StudyCondition, c, "study.json conditions"))
            for c in spec["conditions"]
        )
        by_code = {c.code: c for c in conditions}
        sessions = ReadingSession.objects.bulk_create(
            ReadingSession(study=study, **fields_of(ReadingSession, s, "study.json sessions"))
            for s in spec["sessions"]
        )
        self.session_by_index = {str(s.index): s for s in sessions}
        self.arm_by_name: dict[str, Arm] = {}
        entries = []
        for a in spec["arms"]:
            a = dict(a)
            schedule = a.pop("schedule")
            arm = Arm.objects.create(study=study, **fields_of(Arm, a, "study.json arms"))
            self.arm_by_name[arm.name] = arm
            for e in schedule:
                e = dict(e)
                where = f"study.json arm {arm.name} schedule"
                session = self.key(self.session_by_index, str(e.pop("session")), "session", where)
                entries.append(
                    ScheduleEntry(arm=arm, session=session, **fields_of(ScheduleEntry, e, where))
                )
        ScheduleEntry.objects.bulk_create(entries)
        questions = Question.objects.bulk_create(
            Question(study=study, **fields_of(Question, q, "study.json questions"))
            for q in spec["questions"]
        )
        question = {q.code: q for q in questions}
        endpoints = []
        for e in spec["endpoints"]:
            e = dict(e)
            where = f"study.json endpoint {e.get('code')}"
            asked, rated = e.pop("question"), e.pop("rating_question")
            endpoints.append(
                Endpoint(
                    study=study,
                    question=self.key(question, asked, "question", where) if asked else None,
                    rating_question=self.key(question, rated, "question", where) if rated else None,
                    **fields_of(Endpoint, e, where),
                )
            )
        Endpoint.objects.bulk_create(endpoints)
        configs = []
        for c in spec["assistance"]:
            c = dict(c)
            where = "study.json assistance"
            code, model = c.pop("condition"), c.pop("model")
            configs.append(
                AssistanceConfig(
                    study=study,
                    condition=self.key(by_code, code, "condition", where) if code else None,
                    model_version=(
                        self.key(self.models, (model["model_id"], model["version"]), "model", where)
                        if model
                        else None
                    ),
                    **fields_of(AssistanceConfig, c, where),
                )
            )
        AssistanceConfig.objects.bulk_create(configs)
        versions = []
        for v in spec["consent_versions"]:
            v = dict(v)
            v.pop("created_by", None)
            version = ConsentVersion(study=study, **fields_of(ConsentVersion, v, "consent"))
            if text_sha256(version.text) != version.text_sha256:
                raise BundleError(
                    "hash_mismatch",
                    f"study.json consent version {version.number}: text and sha256 differ",
                )
            versions.append(version)
        ConsentVersion.objects.bulk_create(versions)
        self.consent_by_number = {str(v.number): v for v in versions}

    def members(self, study: ReaderStudy) -> None:
        cases = StudyCase.objects.bulk_create(
            (StudyCase(study=study, case=c, group=self.groups[code])
             for code, c in self.case_by_code.items()),
            batch_size=BATCH,
        )  # fmt: skip
        self.study_case = {sc.case.code: sc for sc in cases}
        readers = []
        for where, row in self.reader_rows:
            arm = row.get("arm")
            readers.append(
                StudyReader(
                    study=study,
                    user=self.user_by_name[row["reader"]],
                    arm=self.key(self.arm_by_name, arm, "arm", where) if arm else None,
                    **self.own(StudyReader, row, where),
                )
            )
        StudyReader.objects.bulk_create(readers)
        self.reader_by_name = {r.user.username: r for r in readers}

    def assignments(self, study: ReaderStudy) -> None:
        """Inserted in rounds: a read after its prerequisite (the unaided read of the case).
        A read is found again by its reader, session and position (unique)."""
        name, index = self.index(tables.ASSIGNMENTS)
        ident, pre = index["id"], index["prerequisite"]
        waiting = [(f"{name} row {n}", row) for n, row in self.cells(name, len(index))]
        own = own_fields(Assignment)
        columns = [_field(Assignment, n) for n in _ASSIGNMENT_KEYS] + own
        steps = params.Columns(own, index, params.connection_for(Assignment))
        at = len(_ASSIGNMENT_KEYS) + own.index(_POSITION)
        self.assignment_by_id: dict[str, int] = {}
        placed: dict[str, tuple[int, int, int]] = {}  # bundle id: (reader, session, position)
        while waiting:
            ready = [
                (w, r) for w, r in waiting if not r[pre] or r[pre] in self.assignment_by_id
            ]  # fmt: skip
            if not ready:
                where, row = waiting[0]
                raise BundleError(
                    "unknown_reference", f"{where}: unknown prerequisite {row[pre]!r}"
                )
            made = [self._assignment(study, where, row, index, steps) for where, row in ready]
            params.insert(Assignment, columns, made)
            for (_, row), values in zip(ready, made, strict=True):
                placed[row[ident]] = (values[1], values[3], values[at])
            by_place = {
                tuple(place): pk
                for *place, pk in Assignment.objects.filter(study=study)
                .values_list("reader_id", "session_id", "position", "pk")
                .iterator(chunk_size=BATCH)
            }
            for _, row in ready:
                self.assignment_by_id[row[ident]] = by_place[placed[row[ident]]]
            done = {id(r) for _, r in ready}
            waiting = [(w, r) for w, r in waiting if id(r) not in done]

    def _assignment(
        self, study, where: str, row: list[str], index: dict, steps: params.Columns
    ) -> list:
        """The row's parameters in the order of ``assignments``' columns."""
        pre = row[index["prerequisite"]]
        reader = self.key(self.reader_by_name, row[index["reader"]], "reader", where)
        return [
            study.pk,
            reader.pk,
            self.key(self.study_case, row[index["case"]], "case", where).pk,
            self.key(self.session_by_index, row[index["session"]], "session", where).pk,
            self.key(self.assignment_by_id, pre, "prerequisite", where) if pre else None,
            *steps.values(row, where),
        ]

    def outputs(self) -> None:
        """Model outputs: an output of a job this platform already ran (same series, model
        version and parameters) must be the same; the others come with a job of their own."""
        header = tables.output_header()
        self.output_by_id: dict[str, InferenceOutput] = {}
        hashed = tables.output_fields()
        params = InferenceOutput._meta.get_field("provenance")
        rows = []
        for where, row in self.table("outputs.csv", header):
            values = {f.name: decode(f, row.get(f.name, ""), where) for f in hashed}
            if tables.output_sha256(values) != row["output_sha256"]:
                raise BundleError(
                    "hash_mismatch", f"{where}: output {row['id']}'s values do not match its sha256"
                )
            series = self.key(self.series_by_uid, row["series"], "series", where)
            model = self.key(self.models, (row["model_id"], row["model_version"]), "model", where)
            rows.append((where, row, values, series, model))
        have = {
            (o.job.series_id, o.job.model_version_id, o.job.params_hash): o
            for o in InferenceOutput.objects.filter(
                job__series__in=[r[3] for r in rows], job__model_version__in=self.models.values()
            ).select_related("job")
        }  # fmt: skip
        ran = set(
            InferenceJob.objects.filter(
                series__in=[r[3] for r in rows], model_version__in=self.models.values()
            ).values_list("series_id", "model_version_id", "params_hash")
        )
        jobs, outputs = [], []
        for where, row, values, series, model in rows:
            job_key = (series.pk, model.pk, row["params_hash"])
            found = have.get(job_key)
            if found is None and job_key in ran:
                raise BundleError(
                    "hash_mismatch", f"{where}: this platform has another output of that job"
                )
            if found is not None:
                same = tables.output_sha256({k: getattr(found, k) for k in values})
                if same != row["output_sha256"]:
                    raise BundleError(
                        "hash_mismatch", f"{where}: this platform has another output of that job"
                    )
                self.output_by_id[row["id"]] = found
                continue
            job = InferenceJob(
                case=self.key(self.case_by_code, row["case"], "case", where),
                series=series,
                model_version=model,
                params=decode(params, row["params"], where),
                params_hash=row["params_hash"],
                status=InferenceJob.Status.SUCCEEDED,
                done=100,
                total=100,
            )
            jobs.append(job)
            outputs.append((row["id"], InferenceOutput(job=job, mask="", **values)))
        InferenceJob.objects.bulk_create(jobs, batch_size=BATCH)
        InferenceOutput.objects.bulk_create([o for _, o in outputs], batch_size=BATCH)
        self.output_by_id.update(dict(outputs))

    def answers(self) -> None:
        own = own_fields(AnswerRevision)
        columns = [_field(AnswerRevision, "assignment"), *own]
        name, index = self.index(tables.REVISIONS)
        steps = params.Columns(own, index, params.connection_for(AnswerRevision))
        assignment, by_id, key = index["assignment"], self.assignment_by_id, self.key

        def revisions():
            for n, row in self.cells(name, len(index)):
                a = by_id.get(row[assignment])
                if a is None:
                    a = key(by_id, row[assignment], "assignment", f"{name} row {n}")
                yield [a, *steps.values(row, name, n)]

        params.insert(AnswerRevision, columns, revisions())
        own = own_fields(AssistanceExposure)
        columns = [
            _field(AssistanceExposure, n)
            for n in ("assignment", "model_version", "inference_output")
        ] + own
        name, index = self.index(tables.EXPOSURES)
        steps = params.Columns(own, index, params.connection_for(AssistanceExposure))

        def exposures():
            for n, row in self.cells(name, len(index)):
                where = f"{name} row {n}"
                model = (row[index["model_id"]], row[index["model_version"]])
                yield [
                    key(by_id, row[index["assignment"]], "assignment", where),
                    key(self.models, model, "model", where).pk,
                    key(self.output_by_id, row[index["output"]], "output", where).pk,
                    *steps.values(row, name, n),
                ]

        params.insert(AssistanceExposure, columns, exposures())
        ConsentAcceptance.objects.bulk_create(
            [
                ConsentAcceptance(
                    version=self.key(
                        self.consent_by_number, row["version"], "consent version", where
                    ),
                    user=self.user_by_name[row["reader"]],
                    **self.own(ConsentAcceptance, row, where),
                )
                for where, row in self.consent_rows
            ]
        )

    def _panel_record(self) -> dict | None:
        """panel/panel.json when the study's truth came from a panel (every part required)."""
        if self.bundle.json("study.json").get("truth_source") != "panel":
            return None
        version = self.bundle.manifest["format_version"]
        for name in [*panels.FILES, *(panels.MASK_FILES if version >= 3 else ())]:
            if not self.bundle.has(name):
                raise BundleError(
                    "missing_part", f"the study's truth came from a panel; the bundle has no {name}"
                )
        return self.bundle.json(panels.PANEL)

    def run(self) -> ReaderStudy:
        self.panel_record = self._panel_record()
        self.model_versions()
        self.users()
        self.cases()
        self.truth()
        self.truth_masks()
        study = self.study()
        self.members(study)
        self.assignments(study)
        self.outputs()
        self.answers()
        if self.panel_record is not None:
            panels.PanelImport(self).run(study)
        return study


def import_bundle(path: str | Path, *, user=None) -> ImportSummary:
    """Check and import a bundle; raise :class:`BundleError` naming the problem."""
    path = Path(path)
    bundle = fmt.open_bundle(path)
    stored: list[str] = []
    try:
        with transaction.atomic(), _timestamps_kept():
            job = _Import(bundle, user, stored)
            study = job.run()
            with path.open("rb") as handle:
                digest, size = fmt.sha256_of(handle)
            audit.record(
                user, "bundle.import", study, file=path.name, sha256=digest, bytes=size,
                images=job.images, source_study=bundle.manifest.get("study", {}).get("id"),
            )  # fmt: skip
    except BaseException:
        for name in stored:
            default_storage.delete(name)
        raise
    return ImportSummary(study, job.rows, job.images, job.created_cases, job.reused_cases)
