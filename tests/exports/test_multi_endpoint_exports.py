"""READS and SCORES of a study with several endpoints, checked against an independent
construction; the single-endpoint layout; every answer revision; blinding; MRMC files."""

import io
import zipfile

import pandas as pd
import pytest

from readerstudy.reading.models import AnswerRevision
from readerstudy.studies import services as study_services
from tests.exports.multi_endpoint import LABELS, SCORED, TRUTH, expected_reads, probabilities
from tests.factories import PASSWORD, AdminFactory, CoordinatorFactory, StatisticianFactory

pytestmark = pytest.mark.django_db

LEGACY_COLUMNS = [
    "reader", "case", "condition", "truth", "decision", "rating", "session", "position",
    "specialty", "years_experience", "started_at", "locked_at", "active_ms", "n_revisions",
    "assistance_shown", "model_version", "answers", "n_assistance_views",
]  # fmt: skip


def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def _csv(client, url) -> pd.DataFrame:
    response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return pd.read_csv(io.BytesIO(response.content), dtype=str, keep_default_na=False)


def _value(text: str):
    return None if text == "" else text


def _rating(text: str):
    return None if text == "" else float(text)


def _as_text(row: tuple) -> tuple:
    *head, truth, decision, rating = row
    text = [None if v is None else str(v) for v in (truth, decision)]
    return (*head, *text, rating)


def test_multi_endpoint_reads_match_the_answers_row_by_row(client, multi_endpoint_study):
    study, readers, cases = multi_endpoint_study
    study_services.close_study(study)
    _login(client, AdminFactory())
    frame = _csv(client, f"/api/exports/studies/{study.pk}/reads/csv/")
    assert list(frame.columns[:7]) == [
        "reader", "case", "condition", "endpoint", "truth", "decision", "rating"
    ]  # fmt: skip
    got = [
        (
            r.reader,
            r.case,
            r.condition,
            r.endpoint,
            _value(r.truth),
            _value(r.decision),
            _rating(r.rating),
        )
        for r in frame.itertuples()
    ]
    assert len(got) == len(set(got))  # one row per reader x case x condition x endpoint
    expected = {_as_text(row) for row in expected_reads(study, readers, cases)}
    assert set(got) == expected
    # 3 readers x 6 cases x 2 conditions x (etiology + 6 labels + location), and the model
    # for the 4 endpoints it has probabilities for
    assert len(got) == 3 * 6 * 2 * 8 + 6 * len(SCORED)
    model = frame[frame["condition"] == "model"]
    assert set(model["endpoint"]) == set(SCORED)


def test_multi_endpoint_reads_in_json_and_parquet_are_the_csv(client, multi_endpoint_study):
    study, _, _ = multi_endpoint_study
    study_services.close_study(study)
    _login(client, AdminFactory())
    base = f"/api/exports/studies/{study.pk}/reads"
    csv = _csv(client, f"{base}/csv/")
    parquet = pd.read_parquet(io.BytesIO(client.get(f"{base}/parquet/").content))
    records = pd.read_json(io.BytesIO(client.get(f"{base}/json/").content), dtype=False)
    for other in (parquet, records):
        assert list(other.columns) == list(csv.columns)
        assert len(other) == len(csv)
        for column in ("endpoint", "truth", "decision"):
            left = csv[column].tolist()
            right = ["" if pd.isna(v) else str(v) for v in other[column]]
            assert left == right, column


def test_a_single_binary_endpoint_keeps_the_single_endpoint_columns(client, finished_study):
    study, _, cases = finished_study
    study_services.close_study(study)
    _login(client, AdminFactory())
    frame = _csv(client, f"/api/exports/studies/{study.pk}/reads/csv/")
    assert list(frame.columns) == LEGACY_COLUMNS
    assert set(frame["truth"]) == {"0", "1"} and set(frame["decision"]) == {"0", "1"}
    scores = _csv(client, f"/api/exports/studies/{study.pk}/scores/csv/")
    assert list(scores.columns) == ["case", "truth", "score"]
    assert sorted(scores["case"]) == sorted(c.code for c in cases)
    assert set(scores["score"]) == {"0.8125"}


def test_revisions_all_lists_every_answer_revision(client, finished_study):
    study, _, _ = finished_study
    study_services.close_study(study)
    _login(client, StatisticianFactory())
    url = f"/api/exports/studies/{study.pk}/reads/csv/"
    final = _csv(client, url)
    assert "revision" not in final.columns and "server_time" not in final.columns
    frame = _csv(client, url + "?revisions=all")
    assert {"revision", "revision_kind", "server_time"} <= set(frame.columns)
    assert (frame["condition"] != "model").all()
    revisions = AnswerRevision.objects.filter(assignment__study=study).select_related(
        "assignment__reader__user", "assignment__study_case__case"
    )
    expected = {
        (
            r.assignment.reader.user.username,
            r.assignment.study_case.case.code,
            r.assignment.condition,
            str(r.number),
            r.kind,
            r.server_time.isoformat(),
            "" if "confidence" not in r.answers else f"{float(r.answers['confidence'])}",
            str(int(r.answers["diagnosis"] == "cvst_ich")),
        )
        for r in revisions
    }
    got = {
        (
            x.reader,
            x.case,
            x.condition,
            x.revision,
            x.revision_kind,
            x.server_time,
            x.rating,
            x.decision,
        )
        for x in frame.itertuples()
    }
    assert got == expected and len(frame) == revisions.count() == 16 * 3
    assert set(frame["revision_kind"]) == {"draft", "submit", "lock"}
    drafts = frame[frame["revision_kind"] == "draft"]
    assert (drafts["decision"] == "0").all() and (drafts["rating"] == "").all()
    bad = client.get(url + "?revisions=some")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_revisions"
    mrmc = client.get(f"/api/exports/studies/{study.pk}/reads/imrmc/?revisions=all")
    assert mrmc.status_code == 400 and mrmc.json()["code"] == "revisions_unsupported"


def test_scores_list_every_scored_endpoint_of_every_case(client, multi_endpoint_study):
    study, _, cases = multi_endpoint_study
    study_services.close_study(study)
    _login(client, StatisticianFactory())
    frame = _csv(client, f"/api/exports/studies/{study.pk}/scores/csv/")
    assert list(frame.columns) == ["case", "endpoint", "truth", "score"]
    expected = set()
    for ci, case in enumerate(cases):
        etiology, present, subtypes, _ = TRUTH[ci]
        truths = {
            "etiology": {"cvst_ich": "1", "sich": "0"}.get(etiology, ""),
            "any": str(int(present)),
            "iph": str(int("iph" in {s.lower() for s in subtypes})),
            "sah": str(int("sah" in {s.lower() for s in subtypes})),
        }
        for name, label in SCORED.items():
            expected.add((case.code, name, truths[name], probabilities(ci)[label]))
    got = {(r.case, r.endpoint, r.truth, float(r.score)) for r in frame.itertuples()}
    assert got == expected
    assert client.get(f"/api/exports/studies/{study.pk}/scores/imrmc/").status_code == 400


def test_blinded_exports_withhold_truth_for_every_endpoint(client, multi_endpoint_study):
    study, readers, _ = multi_endpoint_study
    _login(client, CoordinatorFactory())
    reads = _csv(client, f"/api/exports/studies/{study.pk}/reads/csv/")
    assert "truth" not in reads.columns and set(reads["endpoint"]) >= {"etiology", "location"}
    revisions = _csv(client, f"/api/exports/studies/{study.pk}/reads/csv/?revisions=all")
    assert "truth" not in revisions.columns
    scores = _csv(client, f"/api/exports/studies/{study.pk}/scores/csv/")
    assert list(scores.columns) == ["case", "endpoint", "score"]
    assert client.get(f"/api/exports/studies/{study.pk}/reads/mrmcaov/").status_code == 409
    _login(client, readers[0])
    assert client.get(f"/api/exports/studies/{study.pk}/scores/csv/").status_code == 403
    _login(client, StatisticianFactory())
    assert client.get(f"/api/exports/studies/{study.pk}/scores/csv/").status_code == 403


@pytest.mark.parametrize("fmt", ["imrmc", "mrmcaov"])
def test_mrmc_files_come_one_per_binary_endpoint(client, multi_endpoint_study, fmt):
    study, readers, cases = multi_endpoint_study
    study_services.close_study(study)
    _login(client, AdminFactory())
    response = client.get(f"/api/exports/studies/{study.pk}/reads/{fmt}/")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].endswith(f'.{fmt}.zip"')
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    extension = "imrmc" if fmt == "imrmc" else "mrmcaov.csv"
    names = {f"{n}.{extension}" for n in ["etiology", *LABELS]}
    assert set(archive.namelist()) == names | {"README.txt"}
    readme = archive.read("README.txt").decode()
    assert "location: multi-class" in readme
    assert f"etiology: 1 case(s) without truth: {cases[3].code}" in readme
    expected = expected_reads(study, readers, cases)
    for name in ["etiology", "sah"]:
        rows = {
            (r[0], r[1], r[2], r[6])
            for r in expected
            if r[3] == name and r[2] != "model" and r[4] is not None
        }
        body = archive.read(f"{name}.{extension}").decode()
        if fmt == "imrmc":
            head, data = body.split("BEGIN DATA:\n")
            lines = [line.split(",") for line in data.strip().splitlines()]
            got = {(a, b, c, float(d)) for a, b, c, d in lines if a != "-1"}
            truth = {b: int(d) for a, b, _, d in lines if a == "-1"}
            assert f"N1: {sum(truth.values())}" in head and "NR: 3" in head
        else:
            table = pd.read_csv(io.StringIO(body), dtype=str)
            got = {(r.reader, r.case, r.treatment, float(r.rating)) for r in table.itertuples()}
        assert got == rows, name
