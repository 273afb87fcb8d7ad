from django import forms
from django.contrib.auth import get_user_model

from readerstudy.accounts.models import Role
from readerstudy.ai.models import ModelVersion
from readerstudy.cases.models import Case

from .designs import DESIGNS
from .models import MAX_WASHOUT_DAYS, Design, HeatmapScale
from .presets import PRESETS

HEATMAP_CHOICES = [
    ("gradcampp", "Grad-CAM++"),
    ("ig", "Integrated Gradients"),
    ("shap", "SHAP"),
    ("occlusion", "Occlusion"),
    ("cbam", "CBAM attention"),
    ("gradcam", "Grad-CAM (per slice)"),
    ("attention", "ViT attention rollout"),
]


class StudyCreateForm(forms.Form):
    title = forms.CharField(max_length=200)
    design = forms.ChoiceField(choices=[(d, Design(d).label) for d in DESIGNS])
    preset = forms.ChoiceField(
        choices=[(code, f"{p.name} — {p.description}") for code, p in PRESETS.items()],
        initial="seed000",
        required=False,
        label="Questions and endpoints",
        help_text="a ready-made protocol; edit its questions and endpoints on the draft",
    )
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

    def clean_preset(self) -> str:
        return self.cleaned_data["preset"] or "seed000"


class CaseCheckboxes(forms.CheckboxSelectMultiple):
    """Each case's box carries its collection and truth, for the picker's columns and filter."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        case = getattr(value, "instance", None)
        if case is not None:
            truth = getattr(case, "ground_truth", None)
            option["collection"] = case.collection.name if case.collection else ""
            option["etiology"] = truth.etiology if truth is not None else ""
            option["attrs"]["data-collection"] = option["collection"]
        return option


class CasePickForm(forms.Form):
    """The draft's case set is exactly what is ticked (an empty selection removes all)."""

    cases = forms.ModelMultipleChoiceField(
        queryset=Case.objects.filter(status=Case.Status.READY).select_related(
            "collection", "ground_truth"
        ),
        widget=CaseCheckboxes,
        required=False,
    )


class ReaderChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, user) -> str:
        name = user.get_full_name()
        profile = getattr(user, "reader_profile", None)
        about = (
            f" ({profile.get_specialty_display()}, {profile.years_experience} y)" if profile else ""
        )
        return f"{user.username}{' · ' + name if name else ''}{about}"


class ReaderPickForm(forms.Form):
    """The draft's readers are exactly who is ticked."""

    readers = ReaderChoiceField(
        queryset=get_user_model()
        .objects.filter(role=Role.READER, is_active=True)
        .select_related("reader_profile")
        .order_by("username"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


class OpenStudyForm(forms.Form):
    truth_pending_allowed = forms.BooleanField(
        required=False,
        label="Open now, truth will be added later",
        help_text="cases without truth for the endpoint are left out of the analysis until then",
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
    labels = forms.CharField(
        required=False,
        help_text="model labels shown, comma-separated names (empty: all)",
    )
    show_slice_strip = forms.BooleanField(required=False, initial=True)
    heatmap_scale = forms.ChoiceField(
        choices=HeatmapScale.choices,
        initial="case",
        required=False,
    )
    side_by_side = forms.BooleanField(required=False, label="Side-by-side view allowed")
    show_truth_mask_side_by_side = forms.BooleanField(
        required=False, label="Ground-truth mask in the side-by-side view"
    )
    show_nomogram = forms.BooleanField(
        required=False, label="Nomogram with the case's points (models that have one)"
    )
    show_feature_importance = forms.BooleanField(
        required=False, label="Feature-importance chart (models that select features)"
    )
    show_model_marks = forms.BooleanField(
        required=False, label="The model's marks (its mask's components with their probability)"
    )
    show_clinical = forms.MultipleChoiceField(
        choices=(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Clinical data shown to readers",
        help_text="none unless chosen here; what is shown is recorded with each aided read",
    )

    def __init__(self, *args, **kwargs):
        from .conditions import showable_clinical

        super().__init__(*args, **kwargs)
        self.fields["show_clinical"].choices = [
            (v.name, v.label or v.name) for v in showable_clinical().values()
        ]

    def clean_heatmap_scale(self):
        return self.cleaned_data["heatmap_scale"] or "case"

    def clean_labels(self):
        return [x.strip() for x in self.cleaned_data["labels"].split(",") if x.strip()]
