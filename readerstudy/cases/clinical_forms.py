"""Forms of the clinical-data pages; values are checked by the clinical CSV's rules."""

from django import forms

from .clinical import value_problems
from .clinical_schema import Kind, Variable, value_text
from .models import ClinicalVariable


class ClinicalUploadForm(forms.Form):
    file = forms.FileField(label="Clinical CSV")


class VariableForm(forms.Form):
    name = forms.CharField(label="Name", max_length=48, help_text="a-z, 0-9 and _, e.g. gcs")
    kind = forms.ChoiceField(label="Type", choices=ClinicalVariable.Kind.choices)
    options = forms.CharField(
        label="Options", required=False, help_text="a category's values, separated by '|'"
    )
    label = forms.CharField(label="Label", required=False, max_length=120)
    unit = forms.CharField(label="Unit", required=False, max_length=32)


def _field(variable: Variable) -> forms.Field:
    label = variable.label or variable.name
    if variable.unit:
        label += f" ({variable.unit})"
    if variable.kind == Kind.BOOLEAN:
        choices = [("", "not recorded"), ("1", "yes"), ("0", "no")]
        return forms.ChoiceField(label=label, required=False, choices=choices)
    if variable.kind == Kind.CATEGORY:
        choices = [("", "not recorded"), *((o, o) for o in variable.options)]
        return forms.ChoiceField(label=label, required=False, choices=choices)
    help_text = {Kind.NUMBER: "a number", Kind.INTEGER: "a whole number"}.get(variable.kind, "")
    return forms.CharField(label=label, required=False, help_text=help_text)


class ClinicalForm(forms.Form):
    """One case's values, a field per catalogue variable; the CSV's rules (``value_problems``)."""

    def __init__(self, *args, variables: dict[str, Variable], **kwargs):
        super().__init__(*args, **kwargs)
        self.variables = variables
        for name, variable in variables.items():
            self.fields[name] = _field(variable)

    def clean(self):
        texts = {name: self.cleaned_data.get(name) or "" for name in self.variables}
        _, problems = value_problems(texts, self.variables)
        for column, message in problems:
            self.add_error(column if column in self.fields else None, message)
        self.cleaned_data["texts"] = texts
        return self.cleaned_data

    @staticmethod
    def initial_for(values: dict) -> dict:
        return {name: value_text(value) for name, value in values.items()}
