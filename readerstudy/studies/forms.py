from django import forms
from django.contrib.auth import get_user_model

from readerstudy.accounts.models import Role
from readerstudy.ai.models import ModelVersion
from readerstudy.cases.models import Case

from .designs import DESIGNS
from .models import MAX_WASHOUT_DAYS, Design

HEATMAP_CHOICES = [
    ("gradcampp", "Grad-CAM++"),
    ("ig", "Integrated Gradients"),
    ("shap", "SHAP"),
    ("occlusion", "Occlusion"),
    ("cbam", "CBAM attention"),
]


class StudyCreateForm(forms.Form):
    title = forms.CharField(max_length=200)
    design = forms.ChoiceField(choices=[(d, Design(d).label) for d in DESIGNS])
    washout_days = forms.IntegerField(min_value=0, max_value=MAX_WASHOUT_DAYS, initial=0)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    blind_coordinators = forms.BooleanField(
        required=False, initial=True,
        help_text="coordinators see reads without ground truth until the study closes",
    )  # fmt: skip
    randomization_seed = forms.IntegerField(
        min_value=0,
        max_value=2**62,
        required=False,
        help_text="leave empty for a random seed (recorded)",
    )


class CasePickForm(forms.Form):
    cases = forms.ModelMultipleChoiceField(
        queryset=Case.objects.filter(status=Case.Status.READY), widget=forms.CheckboxSelectMultiple
    )


class ReaderPickForm(forms.Form):
    readers = forms.ModelMultipleChoiceField(
        queryset=get_user_model().objects.filter(role=Role.READER, is_active=True),
        widget=forms.CheckboxSelectMultiple,
    )


class AssistanceForm(forms.Form):
    model_version = forms.ModelChoiceField(
        queryset=ModelVersion.objects.filter(active=True), required=False
    )
    operating_point = forms.CharField(max_length=64, initial="high_sensitivity")
    show_probability = forms.BooleanField(required=False)
    show_decision = forms.BooleanField(required=False)
    show_mask_outline = forms.BooleanField(required=False)
    show_model_version = forms.BooleanField(required=False)
    heatmaps = forms.MultipleChoiceField(
        choices=HEATMAP_CHOICES, widget=forms.CheckboxSelectMultiple, required=False
    )
    heatmap_opacity = forms.FloatField(min_value=0, max_value=1, initial=0.45)
