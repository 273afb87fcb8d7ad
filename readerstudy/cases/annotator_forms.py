"""The upload form of one annotator mask; the values are checked by the manifest's rules."""

from django import forms
from django.utils import timezone


class AnnotatorMaskForm(forms.Form):
    case = forms.CharField(label="Case", max_length=32, help_text="the case code, e.g. RS-ABCDEFGH")
    annotator = forms.CharField(label="Annotator", max_length=120, help_text="e.g. A or neuro1")
    session = forms.IntegerField(
        label="Session", min_value=1, max_value=99, initial=1, help_text="1 = first, 2 = repeat"
    )
    date = forms.DateField(
        label="Drawn on",
        widget=forms.DateInput(attrs={"type": "date"}),
        initial=timezone.localdate,
    )
    user = forms.CharField(
        label="Account (optional)", required=False, max_length=150, help_text="a username"
    )
    segment = forms.IntegerField(
        label="SEG segment (optional)",
        required=False,
        min_value=1,
        help_text="of a SEG with several",
    )
    file = forms.FileField(label="Mask (.nii.gz, .nii or DICOM SEG .dcm)")

    def row(self) -> dict[str, str]:
        """The fields as a manifest row."""
        data = self.cleaned_data
        return {
            "case": data["case"],
            "annotator": data["annotator"],
            "session": str(data["session"]),
            "date": data["date"].isoformat(),
            "user": data.get("user") or "",
            "segment": "" if data.get("segment") is None else str(data["segment"]),
        }
