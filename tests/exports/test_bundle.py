"""A closed study exported as a bundle, imported into an empty database, exported again: the
same study (every table, with the bundle's ids replaced by natural keys) and the same report."""

import csv
import io
import json
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from readerstudy.ai.models import InferenceOutput, ModelVersion
from readerstudy.analysis.bundle import BundleError
from readerstudy.audit.models import AuditEntry
from readerstudy.cases.models import Case, GroundTruth, Series
from readerstudy.exports.bundle_export import export_bundle
from readerstudy.exports.bundle_import import import_bundle
from readerstudy.reading.models import AnswerRevision, AssistanceExposure, ConsentAcceptance
from readerstudy.studies.models import Assignment, ReaderStudy, StudyReader
from tests.exports.bundle_files import FAST, members, rewrite
from tests.exports.bundle_study import build_closed_study
from tests.factories import PASSWORD, ReaderFactory, StatisticianFactory

pytestmark = pytest.mark.django_db

COUNTED = (
    ReaderStudy, StudyReader, Assignment, AnswerRevision, AssistanceExposure, ConsentAcceptance,
    Case, Series, GroundTruth, ModelVersion, InferenceOutput,
)  # fmt: skip
# what a platform without the image files cannot carry over: the mask and heatmap files
NOT_CARRIED = ("mask_sha256", "heatmaps")


def empty_database() -> None:
    """Flush inside the test's transaction. PostgreSQL refuses to TRUNCATE a table with
    pending deferred foreign-key checks, so they are run first."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    call_command("flush", interactive=False)


def _rows(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode())))


def canonical(path) -> dict:
    """The bundle's content with its local ids replaced by natural keys."""
    files = members(path)
    assignments = _rows(files["assignments.csv"])
    key = {a["id"]: (a["reader"], a["case"], a["session"], a["condition"]) for a in assignments}
    outputs = _rows(files["outputs.csv"])
    out_key = {o["id"]: (o["case"], o["model_id"], o["params_hash"]) for o in outputs}
    for a in assignments:
        a["id"] = key[a["id"]]
        a["prerequisite"] = key.get(a["prerequisite"])
    revisions = [{**r, "assignment": key[r["assignment"]]} for r in _rows(files["revisions.csv"])]
    exposures = [
        {**e, "assignment": key[e["assignment"]], "output": out_key[e["output"]]}
        for e in _rows(files["exposures.csv"])
    ]
    for o in outputs:
        o["id"] = out_key[o["id"]]
        for column in NOT_CARRIED:
            o.pop(column)
    report = json.loads(files["report.json"])
    report["meta"].pop("created")
    options = json.loads(files["analysis/options.json"])
    options.pop("created_at")
    tables = {
        name: sorted(_rows(data), key=lambda r: json.dumps(r, sort_keys=True))
        for name, data in files.items()
        if name.endswith(".csv") and name not in {"assignments.csv", "revisions.csv",
                                                  "exposures.csv", "outputs.csv"}
    }  # fmt: skip
    study = json.loads(files["study.json"])
    for key_ in ("created_by",):
        study["study"].pop(key_)
    return {
        **tables,
        "assignments": sorted(assignments, key=lambda r: r["id"]),
        "revisions": sorted(revisions, key=lambda r: (r["assignment"], r["number"])),
        "exposures": sorted(exposures, key=lambda r: (r["assignment"], r["output"])),
        "outputs": sorted(outputs, key=lambda r: r["id"]),
        "study": study,
        "models": json.loads(files["models.json"]),
        "options": options,
        "report": report,
    }


def _counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in COUNTED}


def test_round_trip_into_an_empty_database(tmp_path):
    study = build_closed_study()
    first = tmp_path / "first.zip"
    export_bundle(study, first, report_options=FAST)
    before = _counts()
    empty_database()
    assert set(_counts().values()) == {0}

    call_command("import_study_bundle", str(first))

    assert _counts() == before
    imported = ReaderStudy.objects.get()
    assert imported.status == ReaderStudy.Status.CLOSED
    second = tmp_path / "second.zip"
    export_bundle(imported, second, report_options=FAST)
    a, b = canonical(first), canonical(second)
    for part in a:
        assert a[part] == b[part], part
    kinds = list(
        AuditEntry.objects.filter(kind__startswith="bundle.")
        .order_by("timestamp")
        .values_list("kind", flat=True)
    )
    assert kinds == ["bundle.import", "bundle.export"]


def test_failure_in_the_middle_leaves_the_database_unchanged(tmp_path):
    first = tmp_path / "first.zip"
    export_bundle(build_closed_study(), first, report_options=FAST)
    empty_database()
    files = members(first)
    lines = files["revisions.csv"].decode().splitlines()
    lines[-1] = "999999" + lines[-1][lines[-1].index(",") :]  # the last revision: no such read
    files["revisions.csv"] = ("\n".join(lines) + "\n").encode()
    broken = rewrite(first, tmp_path / "broken.zip", files, rehash=True)
    audit = AuditEntry.objects.count()
    with pytest.raises(BundleError) as error:
        import_bundle(broken)
    assert error.value.code == "unknown_reference"
    assert "revisions.csv row" in error.value.message and "999999" in error.value.message
    assert set(_counts().values()) == {0}
    assert AuditEntry.objects.count() == audit


def test_importing_twice_is_refused(tmp_path):
    path = tmp_path / "b.zip"
    export_bundle(build_closed_study(), path, report_options=FAST)
    before = _counts()
    with pytest.raises(CommandError, match="already_imported"):
        call_command("import_study_bundle", str(path))
    assert _counts() == before


def test_other_weights_of_the_same_model_version_are_refused(tmp_path):
    path = tmp_path / "b.zip"
    export_bundle(build_closed_study(), path, report_options=FAST)
    empty_database()
    ModelVersion.objects.create(
        model_id="cvst_ich_demo", version="1.0.0", name="x", manifest={},
        weights_sha256="b" * 64, positive_label="cvst_ich", operating_points={},
    )  # fmt: skip
    with pytest.raises(BundleError, match="other weights") as error:
        import_bundle(path)
    assert error.value.code == "hash_mismatch"
    assert ReaderStudy.objects.count() == 0


def test_the_download_needs_analysis_rights(client):
    study = build_closed_study()
    client.login(username=ReaderFactory().username, password=PASSWORD)
    assert client.get(f"/api/exports/studies/{study.pk}/bundle/").status_code == 403
    client.login(username=StatisticianFactory().username, password=PASSWORD)
    response = client.get(f"/api/exports/studies/{study.pk}/bundle/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        assert "manifest.json" in archive.namelist()
    entry = AuditEntry.objects.get(kind="bundle.export")
    assert entry.study_id == study.pk and entry.actor is not None


def _with_images(study) -> list[bytes]:
    """Two stored instances for the study's first case, its series hash theirs."""
    import hashlib

    from readerstudy.cases.models import Instance
    from readerstudy.cases.storage import save_content_addressed

    series = study.study_cases.order_by("case__code").first().case.primary_series
    blobs = [b"DICM-one" * 10, b"DICM-two" * 10]
    digests = []
    for position, data in enumerate(blobs):
        name, digest = save_content_addressed("dicom", data, ".dcm")
        digests.append(digest)
        Instance.objects.create(
            series=series, sop_instance_uid=f"2.25.9{position}", sop_class_uid="1.2.840.10008.5.1.4.1.1.2",
            transfer_syntax_uid="1.2.840.10008.1.2.1", position=position, file=name,
            sha256=digest, size=len(data), pixel_offset=0, pixel_length=len(data), metadata={},
        )  # fmt: skip
    series.content_hash = hashlib.sha256("".join(digests).encode()).hexdigest()
    series.save(update_fields=["content_hash"])
    return blobs


def test_images_travel_and_are_checked(tmp_path):
    from django.core.files.storage import default_storage

    from readerstudy.cases.models import Instance

    study = build_closed_study(n_cases=4)
    blobs = _with_images(study)
    path = tmp_path / "images.zip"
    export_bundle(study, path, report_options=FAST, images=True)
    files = members(path)
    assert len([n for n in files if n.startswith("images/")]) == 2
    empty_database()

    name = next(n for n in files if n.startswith("images/"))
    forged = rewrite(path, tmp_path / "forged.zip", {**files, name: b"other"}, rehash=True)
    with pytest.raises(BundleError, match="does not match instance") as error:
        import_bundle(forged)
    assert error.value.code == "hash_mismatch"
    assert Instance.objects.count() == 0

    summary = import_bundle(path)
    assert summary.images == 2
    stored = [i.file for i in Instance.objects.order_by("position")]
    for data, name in zip(blobs, stored, strict=True):
        with default_storage.open(name) as handle:
            assert handle.read() == data


def test_a_series_hash_that_does_not_match_its_instances_is_refused(tmp_path):
    study = build_closed_study(n_cases=4)
    _with_images(study)
    path = tmp_path / "b.zip"
    export_bundle(study, path, report_options=FAST)
    empty_database()
    files = members(path)
    lines = files["instances.csv"].decode().splitlines()
    header, first = lines[0].split(","), lines[1].split(",")
    at = header.index("sha256")
    first[at] = "f" * 64
    lines[1] = ",".join(first)
    files["instances.csv"] = ("\n".join(lines) + "\n").encode()
    with pytest.raises(BundleError, match="content hash does not match"):
        import_bundle(rewrite(path, tmp_path / "t.zip", files, rehash=True))
    assert ReaderStudy.objects.count() == 0


def test_a_cell_that_does_not_fit_its_field_is_refused(tmp_path):
    """Each checked column type of the large tables: JSON, integer, time with its zone."""
    first = tmp_path / "first.zip"
    export_bundle(build_closed_study(), first, report_options=FAST)
    empty_database()
    files = members(first)
    header, *lines = files["revisions.csv"].decode().splitlines()
    columns = header.split(",")
    row = next(csv.DictReader(io.StringIO("\n".join([header, lines[-1]]))))
    for column, text, says in [
        ("answers", '{"diagnosis": ', "answers = '{\"diagnosis\": '"),
        ("number", "two", "number = 'two' is not an integer"),
        ("server_time", "2026-01-02T03:04:05", "server_time has no time zone"),
    ]:
        out = io.StringIO()
        writer = csv.DictWriter(out, columns, lineterminator="\n")
        writer.writerow({**row, column: text})
        table = "\n".join([header, *lines[:-1], out.getvalue()])
        changed = {**files, "revisions.csv": table.encode()}
        broken = rewrite(first, tmp_path / f"{column}.zip", changed, rehash=True)
        with pytest.raises(BundleError) as error:
            import_bundle(broken)
        assert error.value.code == "invalid_value", column
        assert f"revisions.csv row {len(lines) + 1}" in error.value.message
        assert says in error.value.message
        assert set(_counts().values()) == {0}
