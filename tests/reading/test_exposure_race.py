"""Concurrent first views of an aided read's output record one exposure (PostgreSQL, threads)."""

import threading

import pytest
from django.db import connection

from readerstudy.reading import services
from readerstudy.reading.assistance import assistance_payload
from readerstudy.reading.models import AssistanceExposure
from readerstudy.studies import services as study_services
from readerstudy.studies.models import Assignment, Design
from tests.factories import (
    ModelVersionFactory,
    ReaderFactory,
    cases_with_series,
    make_inference_output,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
ANSWER = {"diagnosis": "sich", "confidence": 20}
N = 12


def test_simultaneous_first_views_make_one_row_counting_every_view():
    assert connection.vendor == "postgresql", "run with TEST_DATABASE_URL (PostgreSQL)"
    model = ModelVersionFactory()
    study = study_services.create_study(
        title="race", design=Design.SEQUENTIAL_PER_CASE, randomization_seed=5
    )
    study_services.add_cases(study, cases_with_series(1))
    reader = ReaderFactory()
    study_services.enroll_reader(study, reader)
    study_services.configure_assistance(study, model_version=model)
    study_services.open_study(study, truth_pending_allowed=True)
    unaided = Assignment.objects.get(study=study, condition="unaided")
    services.start(reader, unaided.pk)
    services.submit(reader, unaided.pk, ANSWER, client_request_id="u", lock=True)
    aided = Assignment.objects.get(prerequisite=unaided)
    services.start(reader, aided.pk)
    make_inference_output(aided.study_case.case, model)

    barrier = threading.Barrier(N)
    errors = []

    def view():
        try:
            barrier.wait()
            assistance_payload(reader, aided.pk, url_for=lambda *args: "/x")
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=view) for _ in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    exposure = AssistanceExposure.objects.get(assignment=aided)
    assert exposure.views == N
