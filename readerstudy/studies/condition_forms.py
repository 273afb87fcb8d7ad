"""The forms of a draft's conditions page section: a condition's name (and code when added),
with the assistance settings it shows."""

from django import forms
from django.utils.text import slugify

from .forms import AssistanceForm
from .models import AssistanceConfig, StudyCondition

ASSISTANCE_INITIAL = (
    "operating_point", "show_probability", "show_decision", "show_mask_outline",
    "show_model_version", "heatmaps", "heatmap_opacity", "show_slice_strip", "heatmap_scale",
    "side_by_side", "show_truth_mask_side_by_side", "show_nomogram", "show_feature_importance",
    "show_clinical", "show_model_marks",
)  # fmt: skip


class ConditionForm(forms.Form):
    name = forms.CharField(max_length=StudyCondition._meta.get_field("name").max_length)
    code = forms.SlugField(
        max_length=64, required=False,
        help_text="the key in exports (letters, digits, - and _); default: from the name",
    )  # fmt: skip

    def clean(self):
        data = super().clean()
        if data.get("name") and not data.get("code"):
            data["code"] = slugify(data["name"]).replace("-", "_")[:64]
        return data


class ConditionEditForm(forms.Form):
    name = forms.CharField(max_length=StudyCondition._meta.get_field("name").max_length)


def assistance_form(config: AssistanceConfig | None = None, **kwargs) -> AssistanceForm:
    """The assistance settings form, filled in from ``config`` (default settings: a new one)."""
    config = config or AssistanceConfig(heatmaps=["gradcampp", "ig", "shap", "occlusion"])
    initial = {name: getattr(config, name) for name in ASSISTANCE_INITIAL}
    initial["model_version"] = config.model_version_id
    initial["labels"] = ", ".join(config.labels or [])
    return AssistanceForm(initial=initial, **kwargs)
