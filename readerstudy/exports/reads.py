"""The READS table from the database: the final locked answer per reader x case x condition.

Columns follow the statistician's interface of ``readerstudy.analysis`` (reader, case,
condition, truth, decision, rating) plus timing, revision counts and the assistance shown.
The model enters as a pseudo-reader (condition ``model``) at the study's operating point.
"""

import pandas as pd
from django.db.models import Count, Max, Min, Q

from readerstudy.ai.selectors import latest_output
from readerstudy.cases.models import GroundTruth
from readerstudy.reading.models import AnswerRevision, AssistanceExposure
from readerstudy.studies.models import Assignment, ReaderStudy

READ_COLUMNS = [
    "reader", "case", "condition", "truth", "decision", "rating", "session", "position",
    "specialty", "years_experience", "started_at", "locked_at", "active_ms", "n_revisions",
    "assistance_shown", "model_version", "answers", "n_assistance_views",
]  # fmt: skip


# Integer columns as pandas' nullable integers: the model's rows have no session or reader
# profile, and a float column would write "1.0" for session 1 in CSV.
INTEGER_COLUMNS = dict.fromkeys(
    [
        "truth",
        "decision",
        "session",
        "position",
        "years_experience",
        "active_ms",
        "n_revisions",
        "n_assistance_views",
    ],  # fmt: skip
    "Int64",
)


def _primary_questions(study: ReaderStudy):
    questions = list(study.questions.filter(is_primary=True))
    decision = next((q for q in questions if q.type == "binary"), None)
    rating = next((q for q in questions if q.type == "confidence_100"), None)
    return decision, rating


def _truth_by_case(study: ReaderStudy) -> dict[int, int | None]:
    truths = GroundTruth.objects.filter(case__study_memberships__study=study)
    mapping: dict[int, int | None] = {}
    for gt in truths:
        if gt.etiology == study.positive_label:
            mapping[gt.case_id] = 1
        elif gt.etiology == study.negative_label:
            mapping[gt.case_id] = 0
        else:
            mapping[gt.case_id] = None
    return mapping


def reads_table(
    study: ReaderStudy, *, with_truth: bool, include_model: bool = True
) -> pd.DataFrame:
    decision_q, rating_q = _primary_questions(study)
    truth = _truth_by_case(study) if with_truth else {}
    assignments = (
        Assignment.objects.filter(study=study, state=Assignment.State.LOCKED)
        .select_related("reader__user__reader_profile", "study_case__case", "session")
        .annotate(
            n_revisions=Count("revisions", filter=~Q(revisions__kind=AnswerRevision.Kind.LOCK)),
            first_change=Min("revisions__server_time"),
            last_change=Max("revisions__server_time"),
        )
        .order_by("reader__user__username", "session__index", "position")
    )
    locks = {
        r.assignment_id: r
        for r in AnswerRevision.objects.filter(
            assignment__study=study, kind=AnswerRevision.Kind.LOCK
        )
    }
    # One row per read and model output (first shown); reloads are counted in ``views``.
    exposures: dict = {}
    views: dict = {}
    for e in AssistanceExposure.objects.filter(assignment__study=study).select_related(
        "model_version"
    ):
        exposures[e.assignment_id] = e
        views[e.assignment_id] = views.get(e.assignment_id, 0) + e.views
    rows = []
    for a in assignments:
        answers = locks[a.pk].answers if a.pk in locks else {}
        profile = getattr(a.reader.user, "reader_profile", None)
        exposure = exposures.get(a.pk)
        decision = answers.get(decision_q.code) if decision_q else None
        rows.append(
            {
                "reader": a.reader.user.username,
                "case": a.study_case.case.code,
                "condition": a.condition,
                "truth": truth.get(a.study_case.case_id) if with_truth else None,
                "decision": None if decision is None else int(decision == study.positive_label),
                "rating": answers.get(rating_q.code) if rating_q else None,
                "session": a.session.index,
                "position": a.position,
                "specialty": profile.specialty if profile else "",
                "years_experience": profile.years_experience if profile else None,
                "started_at": a.started_at,
                "locked_at": a.locked_at,
                "active_ms": locks[a.pk].client_active_ms if a.pk in locks else None,
                "n_revisions": a.n_revisions,
                "assistance_shown": exposure.shown if exposure else None,
                "model_version": str(exposure.model_version) if exposure else "",
                "answers": answers,
                "n_assistance_views": views.get(a.pk),
            }
        )
    if include_model:
        rows.extend(_model_rows(study, truth, with_truth))
    frame = pd.DataFrame(rows, columns=READ_COLUMNS).astype(INTEGER_COLUMNS)
    if not with_truth:
        frame = frame.drop(columns=["truth"])
    return frame


def _model_rows(study: ReaderStudy, truth: dict, with_truth: bool) -> list[dict]:
    config = study.assistance
    version = config.model_version
    if version is None:
        return []
    rows = []
    for sc in study.study_cases.select_related("case__primary_series"):
        output = latest_output(series=sc.case.primary_series, model_version=version)
        if output is None:
            continue
        label = output.decisions.get(config.operating_point)
        rows.append(
            {
                "reader": f"model:{version.model_id}",
                "case": sc.case.code,
                "condition": "model",
                "truth": truth.get(sc.case_id) if with_truth else None,
                "decision": None if label is None else int(label == study.positive_label),
                "rating": round(100 * output.probabilities[version.positive_label], 4),
                "model_version": str(version),
                "answers": {},
            }
        )
    return rows


def model_scores(study: ReaderStudy, *, with_truth: bool) -> pd.DataFrame:
    """SCORES table (case, truth, score) from the latest output per case of the study's model.

    ``score`` is the model's probability of the study's positive label, at full precision.
    Cases without an output are absent; ``truth`` is missing (NA) where a case has none.
    """
    version = study.assistance.model_version
    columns = ["case", "truth", "score"] if with_truth else ["case", "score"]
    if version is None:
        return pd.DataFrame(columns=columns)
    truth = _truth_by_case(study) if with_truth else {}
    rows = []
    for sc in study.study_cases.select_related("case__primary_series"):
        output = latest_output(series=sc.case.primary_series, model_version=version)
        if output is None or study.positive_label not in output.probabilities:
            continue
        rows.append(
            {
                "case": sc.case.code,
                "truth": truth.get(sc.case_id),
                "score": float(output.probabilities[study.positive_label]),
            }
        )
    frame = pd.DataFrame(rows, columns=["case", "truth", "score"]).astype({"truth": "Int64"})
    return frame[columns]
