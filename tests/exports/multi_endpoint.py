"""A study with three endpoints (binary etiology, multi-label ICH subtypes, multi-class
location) read by three readers, with the expected READS built independently of the exports."""

from readerstudy.ai.models import InferenceOutput
from readerstudy.cases.models import GroundTruth
from readerstudy.reading import services as reading
from readerstudy.reading.assistance import assistance_payload
from readerstudy.studies import services as study_services
from readerstudy.studies.models import Assignment, Design, EndpointKind, QuestionType, TruthField
from readerstudy.studies.questions import seed000_questions
from tests.factories import (
    EndpointFactory,
    ModelVersionFactory,
    ReaderFactory,
    cases_with_series,
    make_inference_output,
)

LABELS = ["any", "iph", "ivh", "sah", "sdh", "edh"]
SUBTYPE_OPTIONS = [{"value": v, "label": v.upper()} for v in LABELS[1:]]
LOCATIONS = ["deep", "lobar", "subtentorial"]
# per case: etiology, ICH present, subtypes (as a labeller writes them), location
TRUTH = [
    ("cvst_ich", True, ["IPH"], "deep"),
    ("sich", True, ["SAH", "IVH"], "lobar"),
    ("cvst_ich", True, ["iph", "sah"], "subtentorial"),
    ("", True, ["SDH"], "deep"),  # no etiology: left out of that endpoint only
    ("sich", False, [], ""),
    ("cvst_ich", False, [], ""),
]
# the model scores etiology, any, iph and sah only (no probability for ivh, sdh, edh)
SCORED = {"etiology": "cvst_ich", "any": "any", "iph": "iph", "sah": "sah"}


def questions() -> list[dict]:
    return [
        *seed000_questions(),
        {
            "code": "ich",
            "type": QuestionType.MULTI_LABEL,
            "text": "ICH?",
            "options": SUBTYPE_OPTIONS,
        },
        {
            "code": "ich_confidence",
            "type": QuestionType.CONFIDENCE_PER_LABEL,
            "text": "Likelihood of each",
            "options": [{"value": v, "label": v} for v in LABELS],
            "required": False,
        },
        {
            "code": "location",
            "type": QuestionType.SINGLE_CHOICE,
            "text": "Location",
            "options": [{"value": v, "label": v} for v in LOCATIONS],
            "required": False,
            "show_if": {"question": "ich", "present": True},
        },
    ]


def answer(reader: int, case: int, condition: str) -> dict:
    """A reader's final answer: deterministic, imperfect, different between conditions."""
    aided = condition != "unaided"
    etiology, present, subtypes, location = TRUTH[case]
    said_present = present if (reader + case + aided) % 4 else not present
    out = {
        "diagnosis": "cvst_ich" if (case + reader + aided) % 3 else "sich",
        "confidence": 10 * reader + 7 * case + (5 if aided else 0),
        "ich": {
            "present": said_present,
            "subtypes": [s.lower() for s in subtypes][: 1 + (reader % 2)] if said_present else [],
        },
        "ich_confidence": {
            v: (13 * reader + 11 * case + 3 * i) % 101 for i, v in enumerate(LABELS)
        },
    }
    if said_present:
        out["location"] = LOCATIONS[(case + reader) % 3] if location else "deep"
    return out


def probabilities(case: int) -> dict[str, float]:
    etiology, present, subtypes, _ = TRUTH[case]
    lower = {s.lower() for s in subtypes}
    return {
        "cvst_ich": 0.8 - 0.1 * case if etiology == "cvst_ich" else 0.3 + 0.05 * case,
        "any": 0.9 - 0.05 * case if present else 0.2 + 0.1 * case,
        "iph": 0.7 if "iph" in lower else 0.25 + 0.01 * case,
        "sah": 0.65 - 0.02 * case if "sah" in lower else 0.4 - 0.03 * case,
    }


def decisions(case: int) -> dict[str, int]:
    """The model's 0/1 call on each label at the operating point (threshold 0.5)."""
    return {label: int(p >= 0.5) for label, p in probabilities(case).items()}


def build() -> tuple:
    model = ModelVersionFactory(model_id="ich_multi", version="2.0.0")
    cases = cases_with_series(len(TRUTH))
    for case, (etiology, present, subtypes, location) in zip(cases, TRUTH, strict=True):
        GroundTruth.objects.create(
            case=case, etiology=etiology, ich_present=present, subtypes=subtypes, location=location
        )
        output = make_inference_output(case, model)
        index = cases.index(case)
        InferenceOutput.objects.filter(pk=output.pk).update(
            probabilities=probabilities(index), decisions={"high_sensitivity": decisions(index)}
        )
    study = study_services.create_study(
        title="Multi endpoint",
        design=Design.SEQUENTIAL_PER_CASE,
        randomization_seed=3,
        questions=questions(),
        endpoints=[
            {
                "code": "etiology",
                "name": "Etiology",
                "kind": EndpointKind.BINARY,
                "truth_field": TruthField.ETIOLOGY,
                "labels": [
                    {"value": "cvst_ich", "label": "CVST"},
                    {"value": "sich", "label": "sICH"},
                ],
                "question": "diagnosis",
                "rating_question": "confidence",
                "is_primary": True,
            },
            {
                "code": "subtypes",
                "name": "ICH and subtypes",
                "kind": EndpointKind.MULTI_LABEL,
                "truth_field": TruthField.SUBTYPES,
                "labels": [{"value": v, "label": v} for v in LABELS],
                "question": "ich",
                "rating_question": "ich_confidence",
            },
        ],
    )
    EndpointFactory(
        study=study,
        code="location",
        kind=EndpointKind.MULTI_CLASS,
        truth_field=TruthField.LOCATION,
        labels=[{"value": v, "label": v} for v in LOCATIONS],
        question=study.questions.get(code="location"),
        order=2,
    )
    study_services.add_cases(study, cases)
    readers = [ReaderFactory(), ReaderFactory(), ReaderFactory()]
    for r in readers:
        study_services.enroll_reader(study, r)
    study_services.configure_assistance(study, model_version=model)
    study = study_services.open_study(study, truth_pending_allowed=True)
    for ri, r in enumerate(readers):
        for a in Assignment.objects.filter(reader__user=r).order_by("position"):
            reading.start(r, a.pk)
            if a.condition != "unaided":  # the workspace fetches (and records) the assistance
                assistance_payload(r, a.pk, url_for=lambda *args: "/x")
            final = answer(ri, cases.index(a.study_case.case), a.condition)
            reading.save_draft(r, a.pk, {"diagnosis": "sich"})
            reading.submit(r, a.pk, final, client_request_id=f"{a.pk}", lock=True)
    return study, readers, cases


def _subtype_rows(present, subtypes, said: dict, ratings: dict) -> list[tuple]:
    lower = {s.lower() for s in subtypes}
    rows = []
    for label in LABELS:
        truth = int(present) if label == "any" else int(present and label in lower)
        if label == "any":
            decision = int(said["present"])
        else:
            decision = int(said["present"] and label in said["subtypes"])
        rows.append((label, truth, decision, float(ratings[label])))
    return rows


def expected_reads(study, readers, cases) -> set[tuple]:
    """(reader, case, condition, endpoint, truth, decision, rating) of every read and the
    model, from the answers and the truth table above (None = empty)."""
    rows = set()
    for a in Assignment.objects.filter(study=study).select_related("reader__user", "study_case"):
        ri = [r.pk for r in readers].index(a.reader.user_id)
        ci = [c.pk for c in cases].index(a.study_case.case_id)
        said = answer(ri, ci, a.condition)
        etiology, present, subtypes, location = TRUTH[ci]
        key = (a.reader.user.username, cases[ci].code, a.condition)
        truth = {"cvst_ich": 1, "sich": 0}.get(etiology)
        rows.add(
            (
                *key,
                "etiology",
                truth,
                int(said["diagnosis"] == "cvst_ich"),
                float(said["confidence"]),
            )
        )
        for label, t, d, rating in _subtype_rows(
            present, subtypes, said["ich"], said["ich_confidence"]
        ):
            rows.add((*key, label, t, d, rating))
        rows.add((*key, "location", location or None, said.get("location"), None))
    for ci, case in enumerate(cases):
        etiology, present, subtypes, _ = TRUTH[ci]
        lower = {s.lower() for s in subtypes}
        truths = {
            "etiology": {"cvst_ich": 1, "sich": 0}.get(etiology),
            "any": int(present),
            "iph": int("iph" in lower),
            "sah": int("sah" in lower),
        }
        for name, label in SCORED.items():
            p = probabilities(ci)[label]
            rows.add(
                (
                    "model:ich_multi",
                    case.code,
                    "model",
                    name,
                    truths[name],
                    int(p >= 0.5),
                    round(100 * p, 4),
                )
            )
    return rows
