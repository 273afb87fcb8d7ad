"""The model output a reader was shown is recorded once per read and output; reloads count."""

import pytest
from django.db import IntegrityError, transaction

from readerstudy.ai.models import InferenceJob
from readerstudy.exports.reads import READ_COLUMNS, reads_table
from readerstudy.reading import services
from readerstudy.reading.models import AssistanceExposure
from readerstudy.studies.models import Assignment, Design
from tests.factories import make_inference_output

pytestmark = pytest.mark.django_db
ANSWER = {"diagnosis": "sich", "confidence": 20}


@pytest.fixture
def aided_read(make_study, client):
    study, (reader, _) = make_study(Design.SEQUENTIAL_PER_CASE, n_cases=1)
    unaided = Assignment.objects.get(study=study, reader__user=reader, condition="unaided")
    services.start(reader, unaided.pk)
    services.submit(reader, unaided.pk, ANSWER, client_request_id="u", lock=True)
    aided = Assignment.objects.get(prerequisite=unaided)
    services.start(reader, aided.pk)
    output = make_inference_output(aided.study_case.case, study.assistance.model_version)
    client.force_login(reader)
    return study, reader, aided, output


def _show(client, aided):
    response = client.get(f"/api/reading/assignments/{aided.pk}/assistance/")
    assert response.status_code == 200
    return response.json()


def test_two_views_are_one_exposure_viewed_twice(client, aided_read):
    _, _, aided, output = aided_read
    first = _show(client, aided)
    exposure = aided.exposures.get()
    assert (exposure.views, exposure.inference_output_id) == (1, output.pk)
    assert exposure.last_viewed_at >= exposure.served_at
    assert _show(client, aided) == first
    again = aided.exposures.get()
    assert again.views == 2
    assert (again.pk, again.served_at, again.shown) == (
        exposure.pk,
        exposure.served_at,
        exposure.shown,
    )
    assert again.last_viewed_at > exposure.last_viewed_at


def test_a_new_output_is_a_new_exposure(client, aided_read):
    study, _, aided, _ = aided_read
    _show(client, aided)
    InferenceJob.objects.update(params_hash="earlier run")  # the model is run again
    job = make_inference_output(aided.study_case.case, study.assistance.model_version).job
    assert job.output.pk != aided.exposures.get().inference_output_id
    _show(client, aided)
    assert sorted(aided.exposures.values_list("views", flat=True)) == [1, 1]


def test_the_aided_answer_waits_for_the_first_view(client, aided_read):
    _, reader, aided, _ = aided_read
    with pytest.raises(services.ProtocolConflict, match="not been shown"):
        services.submit(reader, aided.pk, ANSWER, client_request_id="a1")
    _show(client, aided)
    _show(client, aided)
    assert services.submit(reader, aided.pk, ANSWER, client_request_id="a1", lock=True).created


def test_reloads_do_not_change_the_reads_export(client, aided_read):
    study, reader, aided, _ = aided_read
    _show(client, aided)
    services.submit(reader, aided.pk, ANSWER, client_request_id="a1", lock=True)
    before = reads_table(study, with_truth=False)
    for _ in range(3):  # the locked read reopened and reloaded
        _show(client, aided)
    after = reads_table(study, with_truth=False)
    assert READ_COLUMNS[-1] == "n_assistance_views"
    others = [c for c in before.columns if c != "n_assistance_views"]
    assert after[others].astype(str).equals(before[others].astype(str))
    aided_rows = after["condition"] == "aided"
    assert list(before.loc[aided_rows, "n_assistance_views"]) == [1]
    assert list(after.loc[aided_rows, "n_assistance_views"]) == [4]


def test_a_second_row_for_the_same_read_and_output_is_refused(aided_read, client):
    _, _, aided, output = aided_read
    _show(client, aided)
    with pytest.raises(IntegrityError), transaction.atomic():
        AssistanceExposure.objects.create(
            assignment=aided,
            model_version=aided.study.assistance.model_version,
            inference_output=output,
            shown={},
        )
