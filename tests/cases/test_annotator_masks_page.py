"""The coordinators' annotator-mask page: upload, list, Dice table and its CSV."""

import csv
import io

import numpy as np
import pytest
from django.test import Client

from readerstudy.analysis.dice import dice
from readerstudy.audit.models import AuditEntry
from readerstudy.cases.annotator_masks import import_manifest
from readerstudy.cases.labels import import_mask
from readerstudy.cases.models import AnnotatorMask
from tests.factories import PASSWORD, CoordinatorFactory, ReaderFactory, StatisticianFactory

from .annotator_fixtures import dilated, manifest, phantom_mask, write_mask

pytestmark = pytest.mark.django_db
URL = "/cases/annotators/"


@pytest.fixture
def coordinator():
    user = CoordinatorFactory()
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    client.user = user
    return client


def _upload(client, path, **fields):
    with open(path, "rb") as handle:
        data = {"case": "", "annotator": "A", "session": "1", "date": "2024-01-10", **fields}
        return client.post(f"{URL}upload/", {**data, "file": handle})


def test_readers_and_statisticians_are_refused():
    for user in (ReaderFactory(), StatisticianFactory()):
        client = Client()
        client.force_login(user)
        assert client.get(URL).status_code == 403
        assert client.get(f"{URL}dice.csv").status_code == 403


def test_an_uploaded_mask_is_stored_with_its_importer_and_audited(annotated, coordinator):
    out, records, cases, _ = annotated
    path = out / f"{cases[0].code}_a1.nii.gz"
    response = _upload(coordinator, path, case=cases[0].code, user=coordinator.user.username)
    assert response.status_code == 302, response.content.decode()[:2000]
    stored = AnnotatorMask.objects.get()
    assert (stored.annotator, stored.session, stored.user) == ("A", 1, coordinator.user)
    assert stored.imported_by == coordinator.user
    entry = AuditEntry.objects.get(kind="annotator_masks.import")
    assert entry.actor == coordinator.user and entry.additional_data["source"] == "upload"
    page = coordinator.get(URL).content.decode()
    assert cases[0].code in page and "1 annotator mask of 1 case stored" in page


def test_a_refused_upload_names_the_problem_and_stores_nothing(annotated, coordinator):
    out, records, cases, _ = annotated
    mask = phantom_mask(out, records[0]["case_id"])
    write_mask(out / "labels.nii.gz", mask * 3, cases[0])
    response = _upload(coordinator, out / "labels.nii.gz", case=cases[0].code)
    assert response.status_code == 400
    assert "the mask is not binary (values 0, 3" in response.content.decode()
    (out / "mask.txt").write_text("x")
    response = _upload(coordinator, out / "mask.txt", case=cases[0].code)
    assert (
        response.status_code == 400 and "is no .nii.gz, .nii or .dcm" in response.content.decode()
    )
    response = _upload(coordinator, out / f"{cases[0].code}_a1.nii.gz", case="RS-NONE")
    assert response.status_code == 400 and "no case &#x27;RS-NONE&#x27; in the library" in (
        response.content.decode()
    )
    assert AnnotatorMask.objects.count() == 0
    assert not AuditEntry.objects.filter(kind="annotator_masks.import").exists()


def test_the_dice_table_and_csv_hold_every_comparison(annotated, coordinator):
    out, records, cases, rows = annotated
    import_manifest(manifest(out, rows))
    import_mask(cases[0], out / f"{records[0]['case_id']}_mask.nii.gz")  # truth of case 1 only
    page = coordinator.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    for label in ("annotator vs annotator", "annotator vs own repeat", "annotator vs truth"):
        assert label in html
    response = coordinator.get(f"{URL}dice.csv")
    assert response["Content-Type"] == "text/csv"
    table = list(csv.DictReader(io.StringIO(response.content.decode())))
    kinds = [(r["case"], r["comparison"], r["session"], r["a"], r["b"]) for r in table]
    first, second = (c.code for c in cases)
    for code in (first, second):
        assert (code, "reader_vs_reader", "1", "A", "B") in kinds
        assert (code, "intra_reader", "1|2", "A", "A") in kinds
    truth_rows = [k for k in kinds if k[1] == "reader_vs_truth"]
    assert {k[0] for k in truth_rows} == {first} and len(truth_rows) == 3
    mask = phantom_mask(out, records[0]["case_id"])
    intra = next(r for r in table if r["case"] == first and r["comparison"] == "intra_reader")
    assert float(intra["dice"]) == pytest.approx(dice(mask, dilated(mask)))
    vs_truth = next(
        r
        for r in table
        if r["case"] == first and r["session"] == "1" and r["a"] == "A" and r["b"] == "truth"
    )
    assert float(vs_truth["dice"]) == 1.0
    assert int(intra["voxels_a"]) == int(mask.sum())
    assert (
        AuditEntry.objects.filter(
            kind="export.download", additional_data__file="annotator-dice.csv"
        ).count()
        == 1
    )
    assert np.isfinite([float(r["dice"]) for r in table]).all()
