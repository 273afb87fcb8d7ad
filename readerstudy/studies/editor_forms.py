"""Forms of the question and endpoint editors: one item each, turned into a service spec.

Options (questions) and labels (endpoints) are value/label rows of a formset; blank rows are
dropped, so the page can always offer a few empty rows without JavaScript.
"""

from django import forms

from .marks import DEFAULT_CONFIG, HU_LIMITS, MAX_MARKS_LIMIT, TOOLS, marks_config
from .models import EndpointKind, QuestionType, TruthField
from .questions import OPTION_TYPES

# Question types whose answer is one of the options: "shown only if <it> is <value>".
EQUALS_TYPES = {QuestionType.BINARY, QuestionType.SINGLE_CHOICE}
# Question types with a "present" flag: "shown only if <it> is present".
PRESENT_TYPES = {QuestionType.MULTI_LABEL}
EXTRA_ROWS = 3
KIND_CHOICES = [
    (EndpointKind.BINARY, "binary: one decision of two classes"),
    (EndpointKind.MULTI_LABEL, "multi_label: each label scored as its own binary endpoint"),
    (EndpointKind.MULTI_CLASS, "multi_class: one of several classes"),
]
TRUTH_FIELD_CHOICES = [
    (TruthField.ETIOLOGY, "etiology (the case's etiology label)"),
    (TruthField.ICH_PRESENT, "ich_present (ICH present or not)"),
    (TruthField.SUBTYPES, "subtypes (the ICH subtypes present)"),
    (TruthField.LOCATION, "location (the hematoma location)"),
    (TruthField.SLICE_LABELS, "slice_labels (per-slice labels, scan = any slice)"),
]


class LabelRowForm(forms.Form):
    value = forms.CharField(max_length=64, required=False)
    label = forms.CharField(max_length=200, required=False)

    def clean(self):
        data = super().clean()
        if data.get("label") and not data.get("value"):
            self.add_error("value", "a row with a label needs a value")
        return data


LabelRowFormSet = forms.formset_factory(LabelRowForm, extra=EXTRA_ROWS)


def label_rows(formset) -> list[dict]:
    """The filled rows of a valid formset as ``[{value, label}]`` (label defaults to value)."""
    rows = []
    for row in formset.cleaned_data:
        value = (row.get("value") or "").strip()
        if value:
            rows.append({"value": value, "label": (row.get("label") or "").strip() or value})
    return rows


def condition_choices(earlier: list[dict]) -> list:
    """The "show only if" select: always, or a rule on one of the earlier questions."""
    choices: list = [("", "Always shown")]
    for q in earlier:
        rules = []
        if q["type"] in EQUALS_TYPES:
            rules = [
                (f"eq:{q['code']}:{o['value']}", f"{q['code']} is “{o.get('label') or o['value']}”")
                for o in q.get("options") or []
            ]
        elif q["type"] in PRESENT_TYPES:
            rules = [(f"present:{q['code']}", f"{q['code']} is present")]
        if rules:
            choices.append((f"{q['code']}: {q['text']}", rules))
    return choices


def condition_key(show_if: dict | None) -> str:
    """The select's value of a stored ``show_if``."""
    if not show_if:
        return ""
    if show_if.get("present"):
        return f"present:{show_if['question']}"
    return f"eq:{show_if['question']}:{show_if.get('equals')}"


def show_if_of(key: str) -> dict:
    """The ``show_if`` of a select value (codes are slugs, so they hold no colon)."""
    if not key:
        return {}
    kind, _, rest = key.partition(":")
    if kind == "present":
        return {"question": rest, "present": True}
    code, _, value = rest.partition(":")
    return {"question": code, "equals": value}


class QuestionForm(forms.Form):
    code = forms.SlugField(max_length=64, help_text="stable key in answers and exports")
    type = forms.ChoiceField(choices=QuestionType.choices)
    text = forms.CharField(max_length=300, label="Question text")
    help_text = forms.CharField(max_length=300, required=False, label="Help text")
    required = forms.BooleanField(required=False, initial=True, label="An answer is required")
    is_primary = forms.BooleanField(
        required=False, label="Primary (the decision analysed, or its rating)"
    )
    show_if = forms.ChoiceField(
        required=False,
        label="Show only if",
        help_text="a rule on an earlier question; a hidden question is not asked",
    )

    def __init__(self, *args, earlier: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["show_if"].choices = condition_choices(earlier)  # type: ignore[attr-defined]

    def spec(self, options: list[dict]) -> dict:
        data = self.cleaned_data
        return {
            "code": data["code"],
            "type": data["type"],
            "text": data["text"],
            "help_text": data["help_text"],
            "options": options if data["type"] in OPTION_TYPES | {QuestionType.MARKS} else [],
            "required": data["required"],
            "is_primary": data["is_primary"],
            "show_if": show_if_of(data["show_if"]),
        }


def question_initial(spec: dict) -> dict:
    return {**spec, "show_if": condition_key(spec.get("show_if"))}


TOOL_LABELS = {
    "point": "point: a lesion mark with its rating",
    "ellipse": "ellipse: a small elliptic ROI with its rating",
    "rectangle": "rectangle: a small rectangular ROI with its rating",
    "slice": "slice marks: “this slice shows …”, one per option (e.g. per subtype)",
    "brush": "segmentation: brush, threshold fill in an HU window, eraser",
}
TOOL_CHOICES = [(tool, TOOL_LABELS[tool]) for tool in TOOLS]


class MarksSettingsForm(forms.Form):
    """The settings (``Question.config``) of a ``marks`` question; other types have none.

    Rendered with the prefix ``marks`` beside the question's fields and checked only when the
    question's type is ``marks``; the service checks them again (``marks.validate_marks_definition``).
    """

    tools = forms.MultipleChoiceField(
        choices=TOOL_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Tools the reader may use",
    )
    rating_min = forms.IntegerField(label="Lowest rating of a mark", required=False)
    rating_max = forms.IntegerField(
        label="Highest rating of a mark", required=False, help_text="e.g. 1 to 5 for wAFROC"
    )
    max_marks = forms.IntegerField(
        label="Most lesion marks per read",
        required=False,
        help_text=f"1 to {MAX_MARKS_LIMIT}; slice marks are not counted",
    )
    threshold_hu_low = forms.IntegerField(
        label="Threshold fill: lower HU", required=False, help_text="segmentation only"
    )
    threshold_hu_high = forms.IntegerField(
        label="Threshold fill: upper HU",
        required=False,
        help_text="where the fill starts; the reader may change the window while segmenting",
    )

    def clean(self):
        data = super().clean()
        for key in ("rating_min", "rating_max", "max_marks", "threshold_hu_low",
                    "threshold_hu_high"):  # fmt: skip
            if data.get(key) is None and key not in self.errors:
                self.add_error(key, "a marks question needs this setting")
        if not data.get("tools"):
            self.add_error("tools", "pick at least one tool")
        if self.errors:
            return data
        if data["rating_min"] >= data["rating_max"]:
            self.add_error(
                "rating_max",
                f"the highest rating ({data['rating_max']}) must be above the lowest"
                f" ({data['rating_min']})",
            )
        if not 1 <= data["max_marks"] <= MAX_MARKS_LIMIT:
            self.add_error("max_marks", f"must be from 1 to {MAX_MARKS_LIMIT} marks")
        low, high = HU_LIMITS
        for key in ("threshold_hu_low", "threshold_hu_high"):
            if not low <= data[key] <= high:
                self.add_error(key, f"must be from {low} to {high} HU")
        hu_checked = (
            "threshold_hu_high" not in self.errors and "threshold_hu_low" not in self.errors
        )
        if hu_checked and data["threshold_hu_low"] >= data["threshold_hu_high"]:
            self.add_error(
                "threshold_hu_high",
                f"the upper HU ({data['threshold_hu_high']}) must be above the lower"
                f" ({data['threshold_hu_low']})",
            )
        return data

    def config(self) -> dict:
        """The question's ``config``: every setting, the tools in their usual order."""
        data = self.cleaned_data
        return {
            **{key: data[key] for key in DEFAULT_CONFIG if key != "tools"},
            "tools": [t for t in TOOLS if t in data["tools"]],
        }


def marks_initial(spec: dict) -> dict:
    """The settings form's values: the stored config with the defaults filled in (a new
    question, or one of another type, shows the defaults)."""
    config = spec.get("config") if spec.get("type") == QuestionType.MARKS else None
    return marks_config(config)


class EndpointForm(forms.Form):
    code = forms.SlugField(max_length=64, help_text="endpoint name in exports and analyses")
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=KIND_CHOICES)
    truth_field = forms.ChoiceField(
        choices=TRUTH_FIELD_CHOICES, label="Truth field", help_text="the case truth it is scored on"
    )
    question = forms.ChoiceField(label="Answered by question")
    rating_question = forms.ChoiceField(
        required=False, label="Rating question", help_text="its confidence, optional"
    )
    is_primary = forms.BooleanField(required=False, label="Primary endpoint")

    def __init__(self, *args, questions: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        codes = [(q["code"], f"{q['code']}: {q['text']}") for q in questions]
        self.fields["question"].choices = [("", "—"), *codes]  # type: ignore[attr-defined]
        self.fields["rating_question"].choices = [("", "none"), *codes]  # type: ignore[attr-defined]

    def spec(self, labels: list[dict]) -> dict:
        data = self.cleaned_data
        return {
            "code": data["code"],
            "name": data["name"],
            "kind": data["kind"],
            "truth_field": data["truth_field"],
            "labels": labels,
            "question": data["question"],
            "rating_question": data["rating_question"] or None,
            "is_primary": data["is_primary"],
        }
