import io
import json
import logging
import zipfile
from pathlib import Path

import numpy as np
import pydicom
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.serializers import serialize

from readerstudy.cases.errors import ImportFailed
from readerstudy.cases.ingest import import_study
from readerstudy.cases.models import (
    Case,
    DeidentificationLog,
    GroundTruth,
    HematomaMask,
    Series,
)
from tests.cases.conftest import library_snapshot
from tests.factories import PASSWORD, CoordinatorFactory, ReaderFactory

pytestmark = pytest.mark.django_db
MEDIA = Path(settings.STORAGES["default"]["OPTIONS"]["location"])


def _all_rows_json() -> str:
    from django.apps import apps

    models = [
        m
        for m in apps.get_models()
        if m._meta.app_label in {"cases", "ai", "studies", "reading", "core", "accounts"}
    ]
    return "".join(serialize("json", m.objects.all()) for m in models)


def test_import_command_with_labels_and_masks(phantom_dir, capsys):
    out, records = phantom_dir
    call_command(
        "import_cases",
        str(out),
        "--labels",
        str(out / "labels.csv"),
        "--collection",
        "ph",
        "--no-progress",
    )
    assert Case.objects.count() == 2
    truths = sorted(GroundTruth.objects.values_list("etiology", flat=True))
    assert truths == sorted(r["label"] for r in records)
    assert HematomaMask.objects.count() == 2
    for mask in HematomaMask.objects.all():
        assert mask.voxels > 0
    series = Series.objects.first()
    assert series.num_slices == series.instances.count() >= 24
    positions = list(series.instances.values_list("position", flat=True))
    assert positions == list(range(series.num_slices))
    # Re-running imports nothing new (same content -> same case).
    call_command("import_cases", str(out), "--no-progress")
    assert Case.objects.count() == 2
    assert "0 failed" in capsys.readouterr().out


def test_no_planted_identifier_reaches_storage_rows_logs_or_api(phantom_dir, client, caplog):
    from phantoms import make_case

    out, records = phantom_dir
    caplog.set_level(logging.DEBUG)
    planted = []
    for r in records:
        case = (
            make_case(r["seed"], r["label"], matrix=128, case_id=r["case_id"])
            if "seed" in r
            else None
        )
        if case is not None:
            # Identifying text values (dates are shifted and times retained by the profile's
            # options; the DICOM core tests check those).
            planted += [
                v
                for k, v in case.patient.items()
                if k
                not in {"StudyDate", "StudyTime", "PatientBirthDate", "PatientSex", "PatientAge"}
            ]
    # Also plant a private block and a nested sequence in one file of the first study.
    first = sorted((out / records[0]["case_id"]).glob("*.dcm"))[0]
    ds = pydicom.dcmread(first)
    block = ds.private_block(0x0011, "ACME HOSPITAL", create=True)
    block.add_new(0x01, "LO", "PRIVATE-PHI-MARKER-123")
    seq_item = pydicom.Dataset()
    seq_item.ReferencedSOPInstanceUID = ds.SOPInstanceUID
    seq_item.PatientName = "NESTED^PHI^MARKER"
    ds.ReferencedImageSequence = [seq_item]
    ds.save_as(first)
    planted += [
        "PRIVATE-PHI-MARKER-123",
        "NESTED^PHI^MARKER",
        str(ds.StudyInstanceUID),
        str(ds.SOPInstanceUID),
    ]
    assert len(planted) > 10
    call_command("import_cases", str(out), "--no-progress")
    blobs = [p.read_bytes() for p in MEDIA.rglob("*") if p.is_file()]
    rows = _all_rows_json()
    coordinator = CoordinatorFactory()
    client.login(username=coordinator.username, password=PASSWORD)
    api = client.get("/dicomweb/studies").content.decode()
    for s in Series.objects.all():
        api += client.get(
            f"/dicomweb/studies/{s.study_instance_uid}/series/{s.series_instance_uid}/metadata"
        ).content.decode()
    api += client.get("/cases/").content.decode()
    for value in planted:
        needle = str(value)
        assert needle not in rows, needle
        assert needle not in api, needle
        assert needle not in caplog.text, needle
        for blob in blobs:
            assert needle.encode() not in blob, needle
    stored = pydicom.dcmread(io.BytesIO(blobs[0])) if blobs[0][128:132] == b"DICM" else None
    log = DeidentificationLog.objects.first()
    assert log.actions  # which attributes were acted on, no values
    assert "PatientName" in json.dumps(log.actions)
    if stored is not None:
        assert stored.PatientIdentityRemoved == "YES"


@pytest.mark.parametrize(
    ("builder", "code"),
    [
        ("not_dicom", "no_series"),
        ("truncated", "truncated"),
        ("wrong_modality", "wrong_modality"),
        ("missing_slice", "missing_slices"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error_and_nothing_is_stored(phantom_dir, builder, code):
    out, records = phantom_dir
    files = sorted((out / records[0]["case_id"]).glob("*.dcm"))
    pairs = [(p.name, p.read_bytes()) for p in files]
    if builder == "not_dicom":
        pairs = [
            ("notes.txt", b"this is not an image"),
            ("scan.jpg", b"\xff\xd8\xff\xe0" + b"0" * 100),
        ]
    elif builder == "truncated":
        name, data = pairs[3]
        pairs[3] = (name, data[: len(data) // 2])
    elif builder == "wrong_modality":
        changed = []
        for name, data in pairs:
            ds = pydicom.dcmread(io.BytesIO(data))
            ds.Modality = "MR"
            buffer = io.BytesIO()
            ds.save_as(buffer)
            changed.append((name, buffer.getvalue()))
        pairs = changed
    elif builder == "missing_slice":
        del pairs[len(pairs) // 2]
    before = library_snapshot()
    with pytest.raises(ImportFailed) as info:
        import_study(pairs)
    codes = {e["code"] for e in info.value.errors}
    assert code in codes, codes
    assert library_snapshot() == before


def test_upload_api_accepts_a_zip_and_refuses_path_traversal(phantom_dir, client, upload_now):
    out, records = phantom_dir
    coordinator = CoordinatorFactory()
    client.login(username=coordinator.username, password=PASSWORD)
    good = io.BytesIO()
    with zipfile.ZipFile(good, "w") as zf:
        for p in sorted((out / records[1]["case_id"]).glob("*.dcm")):
            zf.write(p, f"study/{p.name}")
    good.seek(0)
    good.name = "study.zip"
    r, state = upload_now(client, "/api/cases/uploads/", {"files": [good], "collection": "uploads"})
    assert r.status_code == 202, r.content
    assert state["status"] == "succeeded" and len(state["cases"]) == 1
    before = library_snapshot()
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../etc/passwd.dcm", b"x")
    evil.seek(0)
    evil.name = "evil.zip"
    r, state = upload_now(client, "/api/cases/uploads/", {"files": [evil]})
    assert r.status_code == 202
    assert state["status"] == "failed" and state["errors"][0]["code"] == "unsafe_path"
    assert library_snapshot() == before


def test_readers_cannot_upload(client, phantom_dir):
    reader = ReaderFactory()
    client.login(username=reader.username, password=PASSWORD)
    out, records = phantom_dir
    files = [open(p, "rb") for p in sorted((out / records[0]["case_id"]).glob("*.dcm"))[:3]]  # noqa: SIM115
    try:
        assert client.post("/api/cases/uploads/", {"files": files}).status_code == 403
    finally:
        for f in files:
            f.close()
    assert Case.objects.count() == 0


def test_dicomweb_serves_frames_and_instances_from_storage(phantom_dir, client):
    out, records = phantom_dir
    outcome = import_study(out / records[0]["case_id"])
    series = outcome.case.primary_series
    coordinator = CoordinatorFactory()
    client.login(username=coordinator.username, password=PASSWORD)
    base = f"/dicomweb/studies/{series.study_instance_uid}/series/{series.series_instance_uid}"
    metadata = client.get(f"{base}/metadata")
    assert metadata["Content-Type"] == "application/dicom+json"
    items = metadata.json()
    assert len(items) == series.num_slices
    z = [item["00200032"]["Value"][2] for item in items]
    assert z == sorted(z)  # sorted along the slice normal
    etag = metadata["ETag"]
    assert client.get(f"{base}/metadata", HTTP_IF_NONE_MATCH=etag).status_code == 304
    instance = series.instances.get(position=5)
    frame = client.get(f"{base}/instances/{instance.sop_instance_uid}/frames/1")
    body = frame.content
    assert frame["Content-Type"].startswith('multipart/related; type="application/octet-stream"')
    boundary = frame["Content-Type"].split("boundary=")[1]
    payload = body.split(b"\r\n\r\n", 1)[1].rsplit(f"\r\n--{boundary}--".encode(), 1)[0]
    with (MEDIA / instance.file).open("rb") as handle:
        ds = pydicom.dcmread(handle)
    assert payload == ds.PixelData
    pixels = np.frombuffer(payload, dtype=np.uint16 if ds.PixelRepresentation == 0 else np.int16)
    assert pixels.size == ds.Rows * ds.Columns
    whole = client.get(f"{base}/instances/{instance.sop_instance_uid}")
    assert b"DICM" in b"".join(whole.streaming_content)


def test_resampled_variants_keep_the_physical_extent_and_are_cached(phantom_dir):
    import SimpleITK as sitk

    from readerstudy.cases.storage import local_copy
    from readerstudy.cases.volumes import variant_volume

    out, records = phantom_dir
    series = import_study(out / records[0]["case_id"]).case.primary_series
    with local_copy(series.volume) as path:
        original = sitk.ReadImage(str(path))
    for variant, spacing in (("iso1", (1.0, 1.0, 1.0)), ("z5", (1.0, 1.0, 5.0))):
        name = variant_volume(series, variant)
        with local_copy(name) as path:
            image = sitk.ReadImage(str(path))
        assert image.GetSpacing() == pytest.approx(spacing)
        assert image.GetOrigin() == pytest.approx(original.GetOrigin())
        extent = np.array(image.GetSize()) * np.array(image.GetSpacing())
        expected = np.array(original.GetSize()) * np.array(original.GetSpacing())
        assert np.all(np.abs(extent - expected) <= np.array(spacing))
        series.refresh_from_db()
        assert series.variants[variant] == name
        assert variant_volume(series, variant) == name  # cached
    with pytest.raises(ValueError, match="unknown volume variant"):
        variant_volume(series, "iso2")


def test_dicomweb_accepts_http_basic_credentials(phantom_dir, client):
    import base64

    out, records = phantom_dir
    import_study(out / records[0]["case_id"])
    coordinator = CoordinatorFactory()
    good = base64.b64encode(f"{coordinator.username}:{PASSWORD}".encode()).decode()
    bad = base64.b64encode(f"{coordinator.username}:wrong".encode()).decode()
    assert client.get("/dicomweb/studies", HTTP_AUTHORIZATION=f"Basic {good}").status_code == 200
    assert client.get("/dicomweb/studies", HTTP_AUTHORIZATION=f"Basic {bad}").status_code == 401
    assert client.get("/dicomweb/studies").status_code == 401
