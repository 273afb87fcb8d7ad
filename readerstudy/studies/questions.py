"""Question types -> JSON Schema of the answers, and the validation of a submitted answer."""

from dataclasses import dataclass

import jsonschema

from .models import QuestionType

CHOICE_TYPES = {QuestionType.BINARY, QuestionType.SINGLE_CHOICE, QuestionType.CHECKLIST}


def _option_values(options: list) -> list:
    return [option["value"] for option in options]


def schema_for_question(qtype: str, options: list) -> dict:
    values = _option_values(options or [])
    if qtype == QuestionType.BINARY:
        return {"type": "string", "enum": values}
    if qtype == QuestionType.CONFIDENCE_100:
        return {"type": "integer", "minimum": 0, "maximum": 100}
    if qtype == QuestionType.SCALE_5:
        return {"type": "integer", "minimum": 1, "maximum": 5}
    if qtype == QuestionType.SINGLE_CHOICE:
        return {"type": "string", "enum": values}
    if qtype == QuestionType.CHECKLIST:
        return {"type": "array", "items": {"enum": values}, "uniqueItems": True}
    if qtype == QuestionType.MULTI_LABEL:
        return {
            "type": "object",
            "properties": {
                "present": {"type": "boolean"},
                "subtypes": {"type": "array", "items": {"enum": values}, "uniqueItems": True},
            },
            "required": ["present"],
            "additionalProperties": False,
        }
    if qtype == QuestionType.FREE_TEXT:
        return {"type": "string", "maxLength": 5000}
    raise ValueError(f"unknown question type {qtype!r}")


def validate_question_definition(qtype: str | None, options: list) -> None:
    if qtype not in QuestionType.values:
        raise ValueError(f"unknown question type {qtype!r}")
    needs_options = qtype in CHOICE_TYPES or qtype == QuestionType.MULTI_LABEL
    values = _option_values(options or [])
    if needs_options and not values:
        raise ValueError(f"question type {qtype!r} needs options")
    if qtype == QuestionType.BINARY and len(values) != 2:
        raise ValueError("a binary question needs exactly two options")
    if len(set(values)) != len(values):
        raise ValueError("option values must be unique")


def answers_schema(questions, *, require: bool) -> dict:
    properties = {q.code: schema_for_question(q.type, q.options) for q in questions}
    required = [q.code for q in questions if q.required] if require else []
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


@dataclass(frozen=True)
class AnswerError(Exception):
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


def _answer_error(exc: jsonschema.ValidationError) -> AnswerError:
    field = ".".join(str(p) for p in exc.absolute_path)
    if exc.validator == "required":
        field = exc.message.split("'")[1] if "'" in exc.message else ""
        return AnswerError(field, "this question requires an answer")
    if exc.validator == "additionalProperties":
        return AnswerError("", f"unknown question in answer: {exc.message}")
    return AnswerError(field, exc.message)


class AnswerValidator:
    """The compiled answer schemas of one question set (drafts: partial; submissions: complete).

    Building and checking a JSON schema costs far more than validating an answer against it, so
    a frozen study's validator is built once per process and reused (see
    ``selectors.answer_validator``).
    """

    def __init__(self, questions) -> None:
        questions = list(questions)
        self._validators = {}
        for complete in (False, True):
            schema = answers_schema(questions, require=complete)
            cls = jsonschema.validators.validator_for(schema)
            cls.check_schema(schema)
            self._validators[complete] = cls(schema)

    def validate(self, answers, *, complete: bool) -> None:
        """Raise AnswerError naming the first problem; ``complete`` enforces required questions."""
        error = jsonschema.exceptions.best_match(self._validators[complete].iter_errors(answers))
        if error is not None:
            raise _answer_error(error)


def validate_answers(questions, answers, *, complete: bool) -> None:
    """Raise AnswerError naming the first problem; ``complete`` enforces required questions."""
    AnswerValidator(questions).validate(answers, complete=complete)


def seed000_questions(positive: str = "cvst_ich", negative: str = "sich") -> list[dict]:
    """The reference protocol's answer set, plus a rating for ROC/MRMC analyses."""
    return [
        {
            "code": "diagnosis",
            "type": QuestionType.BINARY,
            "text": "Etiology of the hemorrhage",
            "options": [
                {"value": positive, "label": "CVST-related ICH"},
                {"value": negative, "label": "Spontaneous ICH"},
            ],
            "is_primary": True,
        },
        {
            "code": "confidence",
            "type": QuestionType.CONFIDENCE_100,
            "text": "Likelihood of CVST-related ICH (0 = certainly not, 100 = certainly)",
            "is_primary": True,
        },
        {
            "code": "signs",
            "type": QuestionType.CHECKLIST,
            "text": "Imaging signs seen",
            "options": [
                {"value": "cord_sign", "label": "Cord sign"},
                {"value": "dense_delta", "label": "Dense delta sign"},
                {"value": "flame_shaped", "label": "Flame-shaped hemorrhages"},
                {"value": "large_edema", "label": "Large perihematomal edema"},
            ],
            "required": False,
        },
        {
            "code": "comment",
            "type": QuestionType.FREE_TEXT,
            "text": "Comment",
            "required": False,
        },
    ]
