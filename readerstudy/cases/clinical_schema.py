"""The clinical-variable catalogue: built-in variables, declared types and value parsing.

Values arrive as text (a CSV cell, a form field) and are stored typed (JSON numbers, booleans,
strings). ``etiology`` is seed 001's taxonomy: CVT (the positive class) against a multi-cause
negative class (HP, CAA, AVM, other); :func:`binary_etiology` maps it onto the binary label
the seed-001 endpoint reads (``cvt`` / ``other``).
"""

import math
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    CATEGORY = "category"
    TEXT = "text"


@dataclass(frozen=True)
class Variable:
    name: str
    kind: Kind
    label: str = ""
    options: tuple[str, ...] = ()  # a category's values, in display order
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    builtin: bool = False
    description: str = field(default="", compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": str(self.kind),
            "label": self.label or self.name,
            "options": list(self.options),
            "unit": self.unit,
            "builtin": self.builtin,
        }


CVT = "CVT"
ETIOLOGIES = (CVT, "HP", "CAA", "AVM", "other")
#: the seed-001 endpoint's binary label of each etiology (its first option is the positive one)
BINARY_ETIOLOGY = {CVT: "cvt", "HP": "other", "CAA": "other", "AVM": "other", "other": "other"}

BUILTINS: tuple[Variable, ...] = (
    Variable("age", Kind.NUMBER, "Age", unit="years", minimum=0, maximum=130, builtin=True),
    Variable("sex", Kind.CATEGORY, "Sex", options=("M", "F", "other"), builtin=True),
    Variable(
        "onset_to_imaging_h",
        Kind.NUMBER,
        "Onset to imaging",
        unit="h",
        minimum=0,
        maximum=24 * 365,
        builtin=True,
    ),
    Variable("seizure_at_admission", Kind.BOOLEAN, "Epilepsy / seizure at admission", builtin=True),
    Variable("hypertension", Kind.BOOLEAN, "Hypertension", builtin=True),
    Variable("headache", Kind.BOOLEAN, "Headache", builtin=True),
    Variable(
        "etiology",
        Kind.CATEGORY,
        "Etiology",
        options=ETIOLOGIES,
        builtin=True,
        description="CVT-related hematoma, or hypertensive (HP), amyloid angiopathy (CAA), "
        "arteriovenous malformation (AVM) or other",
    ),
)
BUILTIN_NAMES = frozenset(v.name for v in BUILTINS)
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
MAX_TEXT = 500
_TRUE = {"1", "true", "yes", "y"}
_FALSE = {"0", "false", "no", "n"}


def binary_etiology(etiology: str) -> str:
    """``cvt`` for a CVT-related hematoma, ``other`` for any other cause."""
    try:
        return BINARY_ETIOLOGY[etiology]
    except KeyError:
        raise ValueError(f"unknown etiology {etiology!r}") from None


def name_problem(name: str) -> str | None:
    if not NAME_PATTERN.match(name):
        return (
            f"variable name {name!r} must start with a lower-case letter and hold only "
            "a-z, 0-9 and '_' (at most 48 characters)"
        )
    return None


def _number(variable: Variable, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    if variable.minimum is not None and value < variable.minimum:
        raise ValueError(f"{text} is below the minimum {variable.minimum:g}")
    if variable.maximum is not None and value > variable.maximum:
        raise ValueError(f"{text} is above the maximum {variable.maximum:g}")
    return value


def parse_value(variable: Variable, text: str) -> Any:
    """The typed value of ``text`` (``None`` when blank). Raises ValueError naming the problem."""
    text = text.strip()
    if not text:
        return None
    if variable.kind == Kind.NUMBER:
        return _number(variable, text)
    if variable.kind == Kind.INTEGER:
        if not re.fullmatch(r"[+-]?\d+", text):
            raise ValueError(f"{text!r} is not a whole number")
        return int(_number(variable, text))
    if variable.kind == Kind.BOOLEAN:
        lowered = text.lower()
        if lowered in _TRUE | _FALSE:
            return lowered in _TRUE
        raise ValueError(f"{text!r} is not a yes/no value (use 1/0, true/false or yes/no)")
    if variable.kind == Kind.CATEGORY:
        match = next((o for o in variable.options if o.lower() == text.lower()), None)
        if match is None:
            raise ValueError(f"{text!r} is not one of {', '.join(variable.options)}")
        return match
    if len(text) > MAX_TEXT:
        raise ValueError(f"the text is longer than {MAX_TEXT} characters")
    return text


def value_text(value: Any) -> str:
    """A stored value as the CSV writes it (booleans 1/0, blank for none)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
