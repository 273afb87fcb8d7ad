"""Ready-made protocols: the question set and endpoints of each seed study.

A preset is plain data in the shape ``services.set_questions`` and ``services.set_endpoints``
take, so a coordinator may start from one and edit it.
"""

from dataclasses import dataclass, field

from .models import EndpointKind, QuestionType, TruthField
from .questions import seed000_questions

SUBTYPES = [
    {"value": "iph", "label": "Intraparenchymal (IPH)"},
    {"value": "ivh", "label": "Intraventricular (IVH)"},
    {"value": "sah", "label": "Subarachnoid (SAH)"},
    {"value": "sdh", "label": "Subdural (SDH)"},
    {"value": "edh", "label": "Epidural (EDH)"},
]
ANY_ICH = {"value": "any", "label": "Any ICH"}
LOCATIONS = [
    {"value": "deep", "label": "Deep"},
    {"value": "lobar", "label": "Lobar"},
    {"value": "subtentorial", "label": "Subtentorial"},
]


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    questions: list[dict] = field(default_factory=list)
    endpoints: list[dict] = field(default_factory=list)


def _etiology_endpoint(question: dict) -> dict:
    return {
        "code": "etiology",
        "name": "Etiology",
        "kind": EndpointKind.BINARY,
        "truth_field": TruthField.ETIOLOGY,
        "labels": question["options"],
        "question": question["code"],
        "rating_question": "confidence",
        "is_primary": True,
    }


def _seed000() -> Preset:
    questions = seed000_questions()
    return Preset(
        name="CVST-related ICH vs spontaneous ICH (seed 000)",
        description="Binary etiology with a 0-100 confidence, imaging signs and a comment.",
        questions=questions,
        endpoints=[_etiology_endpoint(questions[0])],
    )


def _seed001() -> Preset:
    questions: list[dict] = [
        {
            "code": "diagnosis",
            "type": QuestionType.BINARY,
            "text": "Cause of the hematoma",
            "options": [
                {"value": "cvt", "label": "CVT-related hematoma"},
                {"value": "other", "label": "Other hematoma"},
            ],
            "is_primary": True,
        },
        {
            "code": "confidence",
            "type": QuestionType.CONFIDENCE_100,
            "text": "Likelihood of a CVT-related hematoma (0 = certainly not, 100 = certainly)",
            "is_primary": True,
        },
    ]
    return Preset(
        name="CVT-related hematoma vs other hematomas (seed 001)",
        description="Binary etiology (CVT-related vs other) with a 0-100 confidence.",
        questions=questions,
        endpoints=[_etiology_endpoint(questions[0])],
    )


def _subtypes(name: str, description: str) -> Preset:
    questions: list[dict] = [
        {
            "code": "ich",
            "type": QuestionType.MULTI_LABEL,
            "text": "Intracranial hemorrhage present? If so, which subtypes",
            "options": SUBTYPES,
        },
        {
            "code": "confidence",
            "type": QuestionType.CONFIDENCE_PER_LABEL,
            "text": "Likelihood of each (0 = certainly not, 100 = certainly)",
            "options": [ANY_ICH, *SUBTYPES],
            "required": False,
        },
    ]
    endpoints = [
        {
            "code": "subtypes",
            "name": "ICH and subtypes",
            "kind": EndpointKind.MULTI_LABEL,
            "truth_field": TruthField.SUBTYPES,
            "labels": [ANY_ICH, *SUBTYPES],
            "question": "ich",
            "rating_question": "confidence",
            "is_primary": True,
        }
    ]
    return Preset(name, description, questions, endpoints)


def _seed003() -> Preset:
    questions: list[dict] = [
        {
            "code": "ich",
            "type": QuestionType.BINARY,
            "text": "Intracranial hemorrhage present?",
            "options": [
                {"value": "yes", "label": "ICH present"},
                {"value": "no", "label": "No ICH"},
            ],
            "is_primary": True,
        },
        {
            "code": "location",
            "type": QuestionType.SINGLE_CHOICE,
            "text": "Location of the hematoma",
            "options": LOCATIONS,
            "show_if": {"question": "ich", "equals": "yes"},
        },
    ]
    endpoints = [
        {
            "code": "ich",
            "name": "ICH present",
            "kind": EndpointKind.BINARY,
            "truth_field": TruthField.ICH_PRESENT,
            "labels": questions[0]["options"],
            "question": "ich",
            "is_primary": True,
        },
        {
            "code": "location",
            "name": "Hematoma location",
            "kind": EndpointKind.MULTI_CLASS,
            "truth_field": TruthField.LOCATION,
            "labels": LOCATIONS,
            "question": "location",
        },
    ]
    return Preset(
        name="ICH and hematoma location (seed 003)",
        description="ICH yes/no; if present, its location (deep, lobar or subtentorial).",
        questions=questions,
        endpoints=endpoints,
    )


PRESETS: dict[str, Preset] = {
    "seed000": _seed000(),
    "seed001": _seed001(),
    "seed002": _subtypes(
        "ICH and five subtypes (seed 002)",
        "ICH present and its subtypes (IPH, IVH, SAH, SDH, EDH), with a confidence per label.",
    ),
    "seed003": _seed003(),
    "seed004": _subtypes(
        "Acute ICH and subtypes (seed 004)",
        "Any ICH and its five subtypes, scan level, with a confidence per label.",
    ),
}
