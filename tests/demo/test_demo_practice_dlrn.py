"""The demo's practice and its seed-001 study: the seed-000 study gets a task text and two
practice cases (rule: all done) whose feedback carries the model's heatmap; the seed-001 study
runs the real DLRN on haematoma phantoms with truth masks and clinical records, and its aided
view shows the nomogram, the feature importance and the chosen clinical variables. Re-running
changes nothing."""

import csv

import pytest
from django.urls import reverse

from readerstudy.ai.models import InferenceJob, InferenceOutput
from readerstudy.ai.selectors import latest_output
from readerstudy.cases.models import ClinicalRecord, HematomaMask
from readerstudy.demo.seed import (
    DLRN_CLINICAL,
    PRACTICE_PARAMS,
    compute_outputs,
    demo_model,
    dlrn_model,
    ensure_demo_practice,
    ensure_demo_study,
    ensure_dlrn_study,
    import_hematoma_phantoms,
    import_phantoms,
    write_hematoma_phantoms,
)
from readerstudy.studies.practice import PracticeRule
from tests.factories import PASSWORD, CoordinatorFactory, ReaderFactory

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
FAST = {"explain": ["gradcampp"]}  # the study's full set takes minutes on two cores


def test_the_seed_000_study_opens_with_a_task_and_two_practice_cases(tmp_path, client):
    from phantoms import generate_dataset

    generate_dataset(tmp_path / "study", 1, 11, matrix=128)
    generate_dataset(tmp_path / "practice", 2, 12, matrix=128, positive_fraction=0.5)
    cases = import_phantoms(tmp_path / "study")
    practice = import_phantoms(tmp_path / "practice", "demo practice phantoms")
    model = demo_model()
    compute_outputs(cases, model, params=FAST)
    compute_outputs(practice, model, params=PRACTICE_PARAMS)
    reader, coordinator = ReaderFactory(), CoordinatorFactory()
    study = ensure_demo_study(cases, [reader], model)
    ensure_demo_practice(study, practice, coordinator)
    ensure_demo_practice(study, practice, coordinator)  # a second `make demo`
    assert [p.case_id for p in study.practice_cases.all()] == [c.pk for c in practice]
    assert not study.study_cases.filter(case__in=practice).exists()
    assert study.practice_settings.rule == PracticeRule.ALL_DONE
    assert {c.ground_truth.etiology for c in practice} == {"cvst_ich", "sich"}

    client.login(username=reader.username, password=PASSWORD)
    page = client.get(reverse("reading-workspace", args=[study.pk])).content.decode()
    assert "spontaneous (sICH), and how likely CVST-ICH is" in page  # the task text
    state = client.get(reverse("reading-practice", args=[study.pk])).json()
    assert state["status"] == "in_progress" and state["cases"] == 2 and state["required"]
    first = state["next"]
    assert first["condition"] == "unaided" and first["model"] is None
    body = {"practice_case": first["practice_case"], "condition": "unaided",
            "answers": {"diagnosis": "sich", "confidence": 40}, "client_request_id": "demo-1"}  # fmt: skip
    result = client.post(
        reverse("reading-practice-answers", args=[study.pk]), body, "application/json"
    ).json()
    model_part = result["feedback"]["model"]
    assert model_part["available"] and 0 <= model_part["probability"] <= 1
    (heatmap,) = model_part["heatmaps"]  # the practice outputs carry Grad-CAM++ only
    assert heatmap["method"] == "gradcampp"
    assert client.get(heatmap["url"]).status_code == 200
    # the study's reads stay closed until both practice cases are read
    nxt = client.get(reverse("reading-next", args=[study.pk])).json()
    start = client.post(reverse("reading-start", args=[nxt["assignment"]["id"]]))
    assert start.status_code == 409 and start.json()["code"] == "practice_required"


def test_the_seed_001_study_runs_the_dlrn_on_phantoms_with_masks_and_records(tmp_path, client):
    folder = tmp_path / "seed001"
    write_hematoma_phantoms(folder, 2, 7)
    with open(folder / "clinical.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["etiology"] for r in rows} <= {"CVT", "HP", "CAA", "AVM"} and len(rows) == 2
    cases = import_hematoma_phantoms(folder)
    assert {c.ground_truth.etiology for c in cases} == {"cvt", "other"}  # one of each
    assert HematomaMask.objects.filter(case__in=cases).count() == 2
    record = ClinicalRecord.objects.get(case=cases[0]).values
    assert set(record) == {
        "age", "sex", "seizure_at_admission", "headache", "hypertension", "etiology"
    }  # fmt: skip
    version = dlrn_model()
    jobs = compute_outputs(cases, version, params={})
    assert {j.status for j in jobs} == {InferenceJob.Status.SUCCEEDED}
    reader = ReaderFactory()
    study = ensure_dlrn_study(cases, [reader], version)
    assert study.status == "open" and study.assistance.model_version == version
    for case in cases:
        output = latest_output(series=case.primary_series, model_version=version)
        assert output.provenance["roi_source"] == "mask" and output.nomogram

    # The aided view after the unaided lock: nomogram, feature importance, chosen clinical data.
    client.login(username=reader.username, password=PASSWORD)
    nxt = client.get(reverse("reading-next", args=[study.pk])).json()["assignment"]
    assert client.post(reverse("reading-start", args=[nxt["id"]])).status_code == 200
    hidden = client.get(reverse("reading-assistance", args=[nxt["id"]]))
    assert hidden.status_code == 404  # unaided, before its lock: nothing of the model
    body = {"answers": {"diagnosis": "other", "confidence": 30}, "client_request_id": "u1",
            "lock": True}  # fmt: skip
    submit = client.post(reverse("reading-submit", args=[nxt["id"]]), body, "application/json")
    assert submit.status_code == 201, submit.content
    aided = client.get(reverse("reading-next", args=[study.pk])).json()["assignment"]
    assert aided["condition"] != "unaided"
    client.post(reverse("reading-start", args=[aided["id"]]))
    payload = client.get(reverse("reading-assistance", args=[aided["id"]])).json()
    assert payload["nomogram"]["variables"] and payload["feature_importance"]["features"]
    assert [row["name"] for row in payload["clinical"]] == DLRN_CLINICAL
    assert "heatmaps" not in payload or payload["heatmaps"] == []

    # A second `make demo` on the same data: the same cases, records, jobs and study.
    again = import_hematoma_phantoms(folder)
    assert [c.pk for c in again] == [c.pk for c in cases]
    compute_outputs(again, version, params={})
    assert InferenceOutput.objects.count() == 2
    assert ensure_dlrn_study(again, [reader], version).pk == study.pk
