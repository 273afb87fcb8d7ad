"""Practice cases and answers never reach the reads exports, model reads and scores, the
analysis inputs or the progress counts; their images are open to the study's readers only."""

import pytest

from readerstudy.cases.access import can_view_case
from readerstudy.exports.analysis_inputs import analysis_inputs
from readerstudy.exports.model_reads import model_scores
from readerstudy.exports.reads import reads_table
from readerstudy.reading import practice_services, selectors, services
from readerstudy.studies.models import Assignment, Design
from readerstudy.studies.selectors import reader_progress
from tests.factories import ReaderFactory, make_inference_output
from tests.reading.practice_world import answer, build

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_study):
    study, readers, practice, _ = build(make_study, design=Design.UNAIDED_ONLY, k=1)
    version = study.assistance.model_version
    for sc in study.study_cases.select_related("case"):
        make_inference_output(sc.case, version, methods=())
    reader = readers[0]
    for i, pc in enumerate(practice):  # the reader practises (and qualifies) ...
        practice_services.submit(
            reader, study.pk, practice_case_id=pc.pk, condition="unaided",
            answers=answer("cvst_ich"), client_request_id=f"p{i}",
        )  # fmt: skip
    for a in Assignment.objects.filter(study=study, reader__user=reader):  # ... then reads
        services.start(reader, a.pk)
        services.submit(reader, a.pk, answer("sich"), client_request_id=f"s{a.pk}", lock=True)
    practice_codes = {pc.case.code for pc in practice}
    study_codes = set(study.study_cases.values_list("case__code", flat=True))
    assert practice_codes and not practice_codes & study_codes
    return study, reader, practice, practice_codes, study_codes


def test_reads_exports_hold_no_practice_case(world):
    study, _, _, practice_codes, study_codes = world
    for revisions in ("final", "all"):
        table = reads_table(study, with_truth=True, revisions=revisions)
        assert set(table["case"]) == study_codes, revisions
    final = reads_table(study, with_truth=True)
    assert set(final[final["condition"] == "model"]["case"]) == study_codes  # model reads


def test_model_scores_and_analysis_inputs_hold_no_practice_case(world):
    study, _, _, practice_codes, study_codes = world
    assert set(model_scores(study, with_truth=True)["case"]) == study_codes
    inputs = analysis_inputs(study)
    assert set(inputs.reads["case"]) == study_codes
    if inputs.scores is not None:  # scores are left out where READS holds the model's reads
        assert set(inputs.scores["case"]) == study_codes
    assert not practice_codes & set(inputs.reads["case"])


def test_progress_counts_only_study_reads(world):
    study, reader, _, _, _ = world
    n = Assignment.objects.filter(study=study, reader__user=reader).count()
    row = next(r for r in reader_progress(study) if r["reader"] == reader.username)
    assert (row["total"], row["locked"]) == (n, n) and n == 3
    mine = selectors.my_studies(reader).get(pk=study.pk)
    assert (mine.total, mine.locked) == (3, 3)


def test_practice_images_are_open_to_the_studys_readers_only(world):
    study, reader, practice, _, _ = world
    case = practice[0].case
    assert can_view_case(reader, case)
    assert not can_view_case(ReaderFactory(), case)
    study.status = study.Status.CLOSED
    study.save(update_fields=["status"])
    assert not can_view_case(reader, case)
