"""Forms of the panel pages: create a panel, label a case, decide an item."""

import json

from django import forms
from django.contrib.auth import get_user_model

from readerstudy.accounts.models import Role
from readerstudy.cases.models import Case

from . import labels as L
from .models import Rule


class PanelForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    labels = forms.MultipleChoiceField(
        choices=list(L.KINDS.items()),
        widget=forms.CheckboxSelectMultiple,
        initial=[L.ICH_PRESENT, L.SUBTYPES],
        help_text="what the panel establishes for each case (hematoma masks are voted voxel by"
        " voxel, by majority, under either rule)",
    )
    etiology_values = forms.CharField(
        required=False,
        initial=", ".join(L.DEFAULT_ETIOLOGY_VALUES),
        help_text="with etiology: the positive value, then the negative, comma-separated",
    )
    rule = forms.ChoiceField(choices=Rule.choices, initial=Rule.MAJORITY)
    cases = forms.ModelMultipleChoiceField(
        queryset=Case.objects.filter(status=Case.Status.READY).order_by("code"),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    annotators = forms.ModelMultipleChoiceField(
        queryset=get_user_model().objects.filter(role=Role.ANNOTATOR, is_active=True),
        widget=forms.CheckboxSelectMultiple,
        help_text="users with the annotator role; each sees only their own labels",
    )
    adjudicator = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(role=Role.ADJUDICATOR, is_active=True),
        help_text="decides the items the vote leaves open; sees the labels as A1..An",
    )

    def clean_etiology_values(self) -> list[str]:
        text = self.cleaned_data.get("etiology_values") or ""
        return [v.strip() for v in text.split(",") if v.strip()]


class AnnotationForm(forms.Form):
    """The labels of one case; built for the panel's label kinds."""

    def __init__(self, *args, panel, **kwargs):
        super().__init__(*args, **kwargs)
        self.panel = panel
        kinds = panel.labels
        if L.ETIOLOGY in kinds:
            self.fields[L.ETIOLOGY] = forms.ChoiceField(
                choices=[(v, v) for v in panel.etiology_values],
                widget=forms.RadioSelect,
                label="Etiology",
            )
        if L.ICH_PRESENT in kinds:
            self.fields[L.ICH_PRESENT] = forms.TypedChoiceField(
                choices=[("yes", "yes"), ("no", "no")],
                coerce=lambda v: v == "yes",
                widget=forms.RadioSelect,
                label="ICH present",
            )
        if L.SUBTYPES in kinds:
            self.fields[L.SUBTYPES] = forms.MultipleChoiceField(
                choices=[(v, v.upper()) for v in L.SUBTYPE_VALUES],
                widget=forms.CheckboxSelectMultiple,
                required=False,
                label="Subtypes",
            )
        if L.LOCATION in kinds:
            self.fields[L.LOCATION] = forms.ChoiceField(
                choices=[("", "none (no ICH)"), *[(v, v) for v in L.LOCATION_VALUES]],
                required=False,
                label="Location",
            )
        if L.SLICE_LABELS in kinds:
            # filled by the viewer's slice marks on the page: [{sop_instance_uid, label}]
            self.fields[L.SLICE_LABELS] = forms.CharField(
                required=False, widget=forms.HiddenInput, label="Slice labels"
            )
        if L.HEMATOMA_MASK in kinds:
            # filled by the viewer's segmentation: {file, sha256, voxels} of the uploaded mask
            self.fields[L.HEMATOMA_MASK] = forms.CharField(
                required=False, widget=forms.HiddenInput, label="Hematoma mask"
            )

    def clean_hematoma_mask(self) -> dict | None:
        text = self.cleaned_data.get(L.HEMATOMA_MASK) or "null"
        try:
            mask = json.loads(text)
        except ValueError:
            raise forms.ValidationError("the mask reference is not valid JSON") from None
        if mask is not None and not isinstance(mask, dict):
            raise forms.ValidationError("the mask reference must be an object")
        return mask

    def clean_slice_labels(self) -> list:
        text = self.cleaned_data.get(L.SLICE_LABELS) or "[]"
        try:
            marks = json.loads(text)
        except ValueError:
            raise forms.ValidationError("the slice marks are not valid JSON") from None
        if not isinstance(marks, list):
            raise forms.ValidationError("the slice marks must be a list")
        return marks

    @staticmethod
    def initial_for(values: dict | None) -> dict:
        if not values:
            return {}
        initial = dict(values)
        if L.ICH_PRESENT in initial:
            initial[L.ICH_PRESENT] = "yes" if initial[L.ICH_PRESENT] else "no"
        for kind in (L.SLICE_LABELS, L.HEMATOMA_MASK):
            if kind in initial:
                initial[kind] = json.dumps(initial[kind])
        return initial


def decision_value(key: str, text: str) -> object:
    """A submitted choice as the item's value (yes/no items are booleans)."""
    if key in (L.ETIOLOGY, L.LOCATION):
        return text
    return {"yes": True, "no": False}.get(text, text)
