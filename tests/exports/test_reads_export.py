import io
import json

import pandas as pd
import pytest

from readerstudy.cases.models import GroundTruth
from readerstudy.studies import services as study_services
from readerstudy.studies.models import Assignment, Design
from tests.factories import (
    PASSWORD,
    AdminFactory,
    CoordinatorFactory,
    StatisticianFactory,
)

pytestmark = pytest.mark.django_db


def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def test_reads_table_has_the_final_locked_answer_per_read(finished_study):
    from readerstudy.exports.reads import reads_table

    study, readers, cases = finished_study
    table = reads_table(study, with_truth=True)
    humans = table[table["condition"] != "model"]
    assert len(humans) == 2 * 4 * 2
    assert set(humans["condition"]) == {"unaided", "aided"}
    assert humans.groupby(["reader", "case", "condition"]).size().max() == 1
    assert (humans["n_revisions"] == 2).all()  # a draft and the submission
    a = Assignment.objects.filter(reader__user=readers[0]).order_by("position")[1]
    row = humans[(humans["reader"] == readers[0].username) & (humans["position"] == 1)].iloc[0]
    assert row["rating"] == 11
    assert row["decision"] == 1
    assert row["active_ms"] == 1001
    assert row["condition"] == a.condition
    truth = dict(GroundTruth.objects.values_list("case__code", "etiology"))
    assert all(
        (t == 1) == (truth[c] == "cvst_ich") for c, t in zip(humans["case"], humans["truth"])
    )
    aided = humans[humans["condition"] == "aided"]
    assert all(shown["heatmaps"] == ["ig"] for shown in aided["assistance_shown"])
    assert humans[humans["condition"] == "unaided"]["assistance_shown"].isna().all()
    assert set(aided["model_version"]) == {"cvst_ich_demo 1.0.0"}
    model = table[table["condition"] == "model"]
    assert len(model) == 4
    assert set(model["rating"]) == {81.25}


def test_statisticians_wait_for_closing_or_a_grant(client, finished_study):
    study, _, _ = finished_study
    _login(client, StatisticianFactory())
    url = f"/api/exports/studies/{study.pk}/reads/csv/"
    assert client.get(url).status_code == 403
    study_services.grant_statistician_access(study)
    response = client.get(url)
    assert response.status_code == 200
    frame = pd.read_csv(io.BytesIO(response.content))
    assert {"reader", "case", "condition", "truth", "decision", "rating"} <= set(frame.columns)


def test_blinded_coordinators_get_no_truth_until_close(client, finished_study):
    study, _, _ = finished_study
    _login(client, CoordinatorFactory())
    frame = pd.read_csv(
        io.BytesIO(client.get(f"/api/exports/studies/{study.pk}/reads/csv/").content)
    )
    assert "truth" not in frame.columns
    assert client.get(f"/api/exports/studies/{study.pk}/reads/imrmc/").status_code == 409
    study_services.close_study(study)
    frame = pd.read_csv(
        io.BytesIO(client.get(f"/api/exports/studies/{study.pk}/reads/csv/").content)
    )
    assert "truth" in frame.columns


def test_readers_cannot_export(client, finished_study):
    study, readers, _ = finished_study
    _login(client, readers[0])
    assert client.get(f"/api/exports/studies/{study.pk}/reads/csv/").status_code == 403


@pytest.mark.parametrize("fmt", ["csv", "parquet", "json", "imrmc", "mrmcaov"])
def test_every_format_downloads_and_parses(client, finished_study, fmt):
    study, _, _ = finished_study
    study_services.close_study(study)
    _login(client, AdminFactory())
    response = client.get(f"/api/exports/studies/{study.pk}/reads/{fmt}/")
    assert response.status_code == 200, response.content[:300]
    body = response.content
    if fmt == "csv":
        assert len(pd.read_csv(io.BytesIO(body))) == 20
    elif fmt == "parquet":
        assert len(pd.read_parquet(io.BytesIO(body))) == 20
    elif fmt == "json":
        assert len(json.loads(body)) == 20
    elif fmt == "imrmc":
        text = body.decode()
        head, data = text.split("BEGIN DATA:\n")
        assert "NR: 2" in head and "N0: 2" in head and "N1: 2" in head
        rows = [line.split(",") for line in data.strip().splitlines()]
        assert sum(1 for r in rows if r[0] == "-1") == 4
        assert sum(1 for r in rows if r[0] != "-1") == 16
    else:
        table = pd.read_csv(io.BytesIO(body))
        assert list(table.columns) == ["reader", "treatment", "case", "truth", "rating"]
        assert len(table) == 16
    assert client.get(f"/api/exports/studies/{study.pk}/reads/xlsx/").status_code == 400


def test_an_unblinded_study_lets_coordinators_see_truth_while_open(client):
    study = study_services.create_study(
        title="open book",
        design=Design.UNAIDED_ONLY,
        randomization_seed=1,
        blind_coordinators=False,
    )
    _login(client, CoordinatorFactory())
    from readerstudy.exports.access import export_rights

    assert export_rights(CoordinatorFactory(), study).with_truth is True
    assert study.blind_coordinators is False
