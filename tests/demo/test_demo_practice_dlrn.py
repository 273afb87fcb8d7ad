"""The demo's practice and its seed-001 study, set up as `make demo` does (smaller phantoms,
fewer explainers): the seed-000 study gets a task text and two practice cases (rule: all done)
whose feedback carries the model's heatmap; the seed-001 study runs the real DLRN on hematoma
phantoms with truth masks and clinical records, and its aided view shows the nomogram, the
feature importance and the chosen clinical variables. Re-running changes nothing."""

import csv

import pytest
from django.urls import reverse

from readerstudy.accounts.models import User
from readerstudy.ai.models import InferenceJob, InferenceOutput
from readerstudy.ai.selectors import latest_output
from readerstudy.cases.models import Case, ClinicalRecord, HematomaMask
from readerstudy.demo.seed import DLRN_CLINICAL
from readerstudy.demo.set_up import set_up_demo
from readerstudy.studies.models import ReaderStudy
from readerstudy.studies.practice import PracticeRule

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
FAST = {"explain": ["gradcampp"]}  # the study's full set takes minutes on two cores


def _set_up(folder):
    return set_up_demo(folder, cases=1, seed=11, dlrn_cases=2, matrix=128, study_params=FAST)


def test_the_demo_sets_up_both_studies_and_a_rerun_changes_nothing(tmp_path, client):
    demo = _set_up(tmp_path)
    client.force_login(User.objects.get(username="reader"))
    _check_the_seed_000_study_opens_with_a_task_and_two_practice_cases(demo, client)
    _check_the_seed_001_study_runs_the_dlrn_with_masks_and_records(demo, client, tmp_path)

    # A second `make demo` on the same data: the same cases, practice, records, jobs and studies.
    before = _counts()
    again = _set_up(tmp_path)
    assert _counts() == before
    assert again.study.pk == demo.study.pk and again.dlrn_study.pk == demo.dlrn_study.pk
    for before, after in ((demo.cases, again.cases), (demo.practice, again.practice),
                          (demo.dlrn_cases, again.dlrn_cases)):  # fmt: skip
        assert [c.pk for c in after] == [c.pk for c in before]
    assert [p.case_id for p in again.study.practice_cases.all()] == [c.pk for c in demo.practice]
    assert InferenceOutput.objects.count() == 1 + 2 + 2
    assert set(InferenceJob.objects.values_list("attempts", flat=True)) == {1}


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Case, HematomaMask, ClinicalRecord, InferenceJob, ReaderStudy, User)
    }


def _check_the_seed_000_study_opens_with_a_task_and_two_practice_cases(demo, client):
    study, practice = demo.study, demo.practice
    assert [p.case_id for p in study.practice_cases.all()] == [c.pk for c in practice]
    assert not study.study_cases.filter(case__in=practice).exists()
    assert study.practice_settings.rule == PracticeRule.ALL_DONE
    assert {c.ground_truth.etiology for c in practice} == {"cvst_ich", "sich"}

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


def _check_the_seed_001_study_runs_the_dlrn_with_masks_and_records(demo, client, folder):
    with open(folder / "seed001" / "clinical.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["etiology"] for r in rows} <= {"CVT", "HP", "CAA", "AVM"} and len(rows) == 2
    cases, study = demo.dlrn_cases, demo.dlrn_study
    assert {c.ground_truth.etiology for c in cases} == {"cvt", "other"}  # one of each
    assert HematomaMask.objects.filter(case__in=cases).count() == 2
    record = ClinicalRecord.objects.get(case=cases[0]).values
    assert set(record) == {
        "age", "sex", "seizure_at_admission", "headache", "hypertension", "etiology"
    }  # fmt: skip
    version = study.assistance.model_version
    assert study.status == "open" and version.model_id == "cvt_hematoma_dlrn"
    for case in cases:
        output = latest_output(series=case.primary_series, model_version=version)
        assert output.provenance["roi_source"] == "mask" and output.nomogram

    # The aided view after the unaided lock: nomogram, feature importance, chosen clinical data.
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
