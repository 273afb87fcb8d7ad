"""The API's contract: its operations, serialized responses, and where its classes live."""

import re

import pytest
import yaml
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

# (method, path, operationId) of every operation: clients call these; they do not change.
OPERATIONS = {
    ("GET", "/api/ai/jobs/", "ai_jobs_list"),
    ("POST", "/api/ai/jobs/", "ai_jobs_create"),
    ("GET", "/api/ai/jobs/{id}/", "ai_jobs_retrieve"),
    ("POST", "/api/ai/jobs/{id}/cancel/", "ai_jobs_cancel_create"),
    ("GET", "/api/ai/jobs/{id}/dicom/", "ai_jobs_dicom_retrieve"),
    ("GET", "/api/ai/models/", "ai_models_list"),
    ("GET", "/api/cases/{code}/truth/", "cases_truth_retrieve"),
    ("PUT", "/api/cases/{code}/truth/", "cases_truth_update"),
    ("POST", "/api/cases/imports/", "cases_imports_create"),
    ("GET", "/api/cases/imports/{job_id}/", "cases_imports_retrieve"),
    ("POST", "/api/cases/imports/{job_id}/upload/", "cases_imports_upload_create"),
    ("POST", "/api/cases/imports/{job_id}/cancel/", "cases_imports_cancel_create"),
    ("POST", "/api/cases/labels/", "cases_labels_create"),
    ("POST", "/api/cases/uploads/", "cases_uploads_create"),
    ("GET", "/api/exports/analyses/{run_id}/", "exports_analyses_retrieve"),
    ("POST", "/api/exports/analyses/{run_id}/cancel/", "exports_analyses_cancel_create"),
    ("GET", "/api/exports/analyses/{run_id}/files/{name}", "exports_analyses_files_retrieve"),
    ("GET", "/api/exports/studies/{id}/analyses/", "exports_studies_analyses_list"),
    ("POST", "/api/exports/studies/{id}/analyses/", "exports_studies_analyses_create"),
    ("GET", "/api/exports/studies/{id}/bundle/", "exports_studies_bundle_retrieve"),
    ("GET", "/api/exports/studies/{id}/clinical/{fmt}/", "exports_studies_clinical_retrieve"),
    ("GET", "/api/exports/studies/{id}/consent/{fmt}/", "exports_studies_consent_retrieve"),
    ("GET", "/api/exports/studies/{id}/froc/scoring/", "exports_studies_froc_scoring_retrieve"),
    ("PUT", "/api/exports/studies/{id}/froc/scoring/", "exports_studies_froc_scoring_update"),
    ("GET", "/api/exports/studies/{id}/froc/workbook/", "exports_studies_froc_workbook_retrieve"),
    (
        "GET",
        "/api/exports/studies/{id}/segmentations/{assignment_id}/seg/",
        "exports_studies_segmentations_seg_retrieve",
    ),
    (
        "GET",
        "/api/exports/studies/{id}/segmentations/archive/{fmt}/",
        "exports_studies_segmentations_archive_retrieve",
    ),
    (
        "GET",
        "/api/exports/studies/{id}/segmentations/dice/{fmt}/",
        "exports_studies_segmentations_dice_retrieve",
    ),
    ("GET", "/api/exports/studies/{id}/reads/{fmt}/", "exports_studies_reads_retrieve"),
    ("GET", "/api/exports/studies/{id}/scores/{fmt}/", "exports_studies_scores_retrieve"),
    ("GET", "/api/ops/worker-probes/", "ops_worker_probes_list"),
    ("POST", "/api/ops/worker-probes/", "ops_worker_probes_create"),
    ("GET", "/api/ops/worker-probes/{id}/", "ops_worker_probes_retrieve"),
    ("GET", "/api/reading/assignments/", "reading_assignments_list"),
    ("GET", "/api/reading/assignments/{id}/", "reading_assignments_retrieve"),
    ("GET", "/api/reading/assignments/{id}/assistance/", "reading_assignments_assistance_retrieve"),
    (
        "GET",
        "/api/reading/assignments/{id}/assistance/heatmaps/{method}/",
        "reading_assignments_assistance_heatmaps_retrieve",
    ),
    (
        "GET",
        "/api/reading/assignments/{id}/assistance/heatmaps/{method}/{label}/",
        "reading_assignments_assistance_heatmaps_label_retrieve",
    ),
    (
        "GET",
        "/api/reading/assignments/{id}/assistance/mask/",
        "reading_assignments_assistance_mask_retrieve",
    ),
    (
        "GET",
        "/api/reading/assignments/{id}/assistance/truth-mask/",
        "reading_assignments_assistance_truth_mask_retrieve",
    ),
    ("PUT", "/api/reading/assignments/{id}/draft/", "reading_assignments_draft_update"),
    ("POST", "/api/reading/assignments/{id}/lock/", "reading_assignments_lock_create"),
    ("GET", "/api/reading/assignments/{id}/revisions/", "reading_assignments_revisions_list"),
    (
        "POST",
        "/api/reading/assignments/{id}/segmentations/",
        "reading_assignments_segmentations_create",
    ),
    (
        "GET",
        "/api/reading/assignments/{id}/segmentations/{sha256}/",
        "reading_assignments_segmentations_retrieve",
    ),
    ("POST", "/api/reading/assignments/{id}/start/", "reading_assignments_start_create"),
    ("POST", "/api/reading/assignments/{id}/submit/", "reading_assignments_submit_create"),
    ("GET", "/api/reading/studies/", "reading_studies_retrieve"),
    ("GET", "/api/reading/studies/{study_id}/consent/", "reading_studies_consent_retrieve"),
    ("POST", "/api/reading/studies/{study_id}/consent/", "reading_studies_consent_create"),
    ("GET", "/api/reading/studies/{study_id}/practice/", "reading_studies_practice_retrieve"),
    (
        "POST",
        "/api/reading/studies/{study_id}/practice/answers/",
        "reading_studies_practice_answers_create",
    ),
    (
        "GET",
        "/api/reading/studies/{study_id}/practice/cases/{practice_case_id}/feedback/",
        "reading_studies_practice_cases_feedback_retrieve",
    ),
    (
        "GET",
        "/api/reading/studies/{study_id}/practice/cases/{practice_case_id}/heatmaps/{method}/"
        "{label}/",
        "reading_studies_practice_cases_heatmaps_retrieve",
    ),
    (
        "POST",
        "/api/reading/studies/{study_id}/practice/finish/",
        "reading_studies_practice_finish_create",
    ),
    ("GET", "/api/reading/studies/{study_id}/next/", "reading_studies_next_retrieve"),
    ("GET", "/api/studies/", "studies_list"),
    ("POST", "/api/studies/", "studies_create"),
    ("GET", "/api/studies/{id}/", "studies_retrieve"),
    ("PATCH", "/api/studies/{id}/assistance/", "studies_assistance_partial_update"),
    ("POST", "/api/studies/{id}/cases/", "studies_cases_create"),
    ("POST", "/api/studies/{id}/close/", "studies_close_create"),
    ("POST", "/api/studies/{id}/grant-statistician/", "studies_grant_statistician_create"),
    ("POST", "/api/studies/{id}/open/", "studies_open_create"),
    ("GET", "/api/studies/{id}/progress/", "studies_progress_retrieve"),
    ("PUT", "/api/studies/{id}/questions/", "studies_questions_update"),
    ("PUT", "/api/studies/{id}/conditions/", "studies_conditions_update"),
    ("PUT", "/api/studies/{id}/endpoints/", "studies_endpoints_update"),
    ("POST", "/api/studies/{id}/preset/", "studies_preset_create"),
    ("POST", "/api/studies/{id}/readers/", "studies_readers_create"),
}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def test_the_operations_are_unchanged(schema):
    found = {(method, path, op["operationId"]) for method, path, op in _operations(schema)}
    assert found == OPERATIONS


def _names_a_serializer(body: dict) -> bool:
    return "$ref" in body or (body.get("type") == "array" and "$ref" in body.get("items", {}))


def test_every_json_body_is_a_serializer(schema):
    free_form = []
    for method, path, operation in _operations(schema):
        bodies = [("request", operation.get("requestBody", {}))]
        bodies += [(status, r) for status, r in operation.get("responses", {}).items()]
        for where, body in bodies:
            for media_type, content in (body.get("content") or {}).items():
                if media_type.endswith("json") and not _names_a_serializer(content["schema"]):
                    free_form.append(f"{method} {path} {where}: {content['schema']}")
    assert not free_form, "\n".join(free_form)


def _api_classes(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _api_classes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and hasattr(pattern.callback, "cls"):
            yield route, pattern.callback.cls


def test_api_classes_live_in_api_modules_and_are_named_entity_action_api():
    misplaced = [
        f"{route}: {cls.__module__}.{cls.__name__}"
        for route, cls in _api_classes(get_resolver().url_patterns)
        if cls.__module__.startswith("readerstudy.")  # not the framework's schema and root views
        and not (
            re.fullmatch(r"readerstudy\.\w+\.api", cls.__module__)
            and re.fullmatch(r"(?:[A-Z][a-z]+){2,}Api", cls.__name__)
        )
    ]
    assert not misplaced, "\n".join(misplaced)
