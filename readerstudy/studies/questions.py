"""Question types -> JSON Schema of the answers, and the validation of a submitted answer."""

from dataclasses import dataclass

import jsonschema

from .marks import marks_problem, marks_schema, validate_marks_definition
from .models import QuestionType

CHOICE_TYPES = {QuestionType.BINARY, QuestionType.SINGLE_CHOICE, QuestionType.CHECKLIST}
OPTION_TYPES = CHOICE_TYPES | {QuestionType.MULTI_LABEL, QuestionType.CONFIDENCE_PER_LABEL}


def _option_values(options: list) -> list:
    return [option["value"] for option in options]


def schema_for_question(
    qtype: str, options: list, *, complete: bool = False, config: dict | None = None
) -> dict:
    """The JSON schema of one answer; ``complete``: a per-label confidence rates every label."""
    values = _option_values(options or [])
    if qtype == QuestionType.MARKS:
        return marks_schema(config, values)
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
    if qtype == QuestionType.CONFIDENCE_PER_LABEL:
        rating = {"type": "integer", "minimum": 0, "maximum": 100}
        return {
            "type": "object",
            "properties": {value: rating for value in values},
            "required": values if complete else [],
            "additionalProperties": False,
        }
    raise ValueError(f"unknown question type {qtype!r}")


def validate_question_definition(
    qtype: str | None, options: list, config: dict | None = None
) -> None:
    if qtype not in QuestionType.values:
        raise ValueError(f"unknown question type {qtype!r}")
    if qtype == QuestionType.MARKS:
        validate_marks_definition(config, options)
    elif config:
        raise ValueError(f"question type {qtype!r} takes no config")
    needs_options = qtype in OPTION_TYPES
    values = _option_values(options or [])
    if needs_options and not values:
        raise ValueError(f"question type {qtype!r} needs options")
    if qtype == QuestionType.BINARY and len(values) != 2:
        raise ValueError("a binary question needs exactly two options")
    if len(set(values)) != len(values):
        raise ValueError("option values must be unique")


def validate_show_if(show_if, earlier: dict[str, dict]) -> None:
    """Check a question's display condition against the questions listed before it.

    ``{"question": code, "equals": value}`` (a binary or single-choice question, one of its
    option values) or ``{"question": code, "present": bool}`` (a multi-label question).
    """
    if not show_if:
        return
    if not isinstance(show_if, dict) or not isinstance(show_if.get("question"), str):
        raise ValueError('show_if needs {"question": code, "equals": value} or "present"')
    keys = set(show_if) - {"question"}
    if keys not in ({"equals"}, {"present"}):
        raise ValueError('show_if takes "question" with exactly one of "equals" or "present"')
    ref = earlier.get(show_if["question"])
    if ref is None:
        raise ValueError(f"show_if refers to {show_if['question']!r}, not a question before it")
    if "present" in show_if:
        if ref.get("type") != QuestionType.MULTI_LABEL or not isinstance(show_if["present"], bool):
            raise ValueError('show_if "present" needs a multi-label question and true or false')
        return
    if ref.get("type") not in (QuestionType.BINARY, QuestionType.SINGLE_CHOICE):
        raise ValueError('show_if "equals" needs a binary or single-choice question')
    values = _option_values(ref.get("options") or [])
    if show_if["equals"] not in values:
        raise ValueError(
            f"show_if value {show_if['equals']!r} is not an option of {show_if['question']!r}"
            f" ({', '.join(map(str, values))})"
        )


def is_shown(show_if, answers: dict) -> bool:
    """Whether a question with this display condition is shown, given the same answer set."""
    if not show_if:
        return True
    given = answers.get(show_if["question"])
    if "present" in show_if:
        return isinstance(given, dict) and bool(given.get("present")) == show_if["present"]
    return given is not None and given == show_if["equals"]


def answers_schema(questions, *, require: bool) -> dict:
    """Schema of an answer set; conditional questions are never required here (see below)."""
    properties = {
        q.code: schema_for_question(q.type, q.options, complete=require, config=q.config)
        for q in questions
    }
    required = [q.code for q in questions if q.required and not q.show_if] if require else []
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
    code: str = "invalid_answer"

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


def _answer_error(exc: jsonschema.ValidationError) -> AnswerError:
    field = ".".join(str(p) for p in exc.absolute_path)
    if exc.validator == "required":
        missing = exc.message.split("'")[1] if "'" in exc.message else ""
        if field:  # inside an answer: a per-label rating, a multi-label's "present"
            return AnswerError(f"{field}.{missing}", "this part of the answer is required")
        return AnswerError(missing, "this question requires an answer")
    if exc.validator == "additionalProperties":
        return AnswerError("", f"unknown question in answer: {exc.message}")
    return AnswerError(field, exc.message)


def _named_mark(error: AnswerError, answers) -> AnswerError:
    """A schema error inside one lesion mark, with the mark's id in its message."""
    parts = error.field.split(".")
    if len(parts) < 3 or parts[1] != "marks" or not parts[2].isdigit():
        return error
    try:
        mark_id = answers[parts[0]]["marks"][int(parts[2])]["id"]
    except (KeyError, IndexError, TypeError):
        return error
    return AnswerError(error.field, f"mark {mark_id!r}: {error.message}", error.code)


def _shown_when(show_if: dict) -> str:
    if "present" in show_if:
        state = "present" if show_if["present"] else "absent"
        return f"shown only when {show_if['question']!r} is answered {state}"
    return f"shown only when {show_if['question']!r} is {show_if['equals']!r}"


class AnswerValidator:
    """The compiled answer schemas of one question set (drafts: partial; submissions: complete).

    Building and checking a JSON schema costs far more than validating an answer against it, so
    a frozen study's validator is built once per process and reused (see
    ``selectors.answer_validator``).
    """

    def __init__(self, questions) -> None:
        questions = list(questions)
        self._conditional = [(q.code, q.show_if, q.required) for q in questions if q.show_if]
        self._marks = [q.code for q in questions if q.type == QuestionType.MARKS]
        #: whether the answers hold marks whose places the reading app checks
        self.has_marks = bool(self._marks)
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
            raise _named_mark(_answer_error(error), answers)
        for code in self._marks:
            problem = marks_problem(answers[code]) if code in answers else None
            if problem is not None:
                raise AnswerError(f"{code}.{problem[0]}", problem[1], code="invalid_marks")
        for code, show_if, required in self._conditional:
            shown = is_shown(show_if, answers)
            if not shown and code in answers:
                raise AnswerError(
                    code, f"question {code!r} is hidden by this answer set ({_shown_when(show_if)})"
                    ": leave it unanswered", code="question_hidden",
                )  # fmt: skip
            if shown and required and complete and code not in answers:
                raise AnswerError(code, "this question requires an answer")


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
