"""Forms of the export pages."""

from django import forms

from readerstudy.studies.models import QuestionType

from .models import LocalizationScoring


class LocalizationScoringForm(forms.ModelForm):
    """How a study's lesion marks are scored; the marks question is one of the study's."""

    prefix = "scoring"  # beside the other forms of the study page

    question_code = forms.ChoiceField(
        label="Marks question scored", required=False, help_text="blank: the first one"
    )

    class Meta:
        model = LocalizationScoring
        fields = ("criterion", "radius_mm", "use_lesion_radius", "question_code")
        labels = {
            "criterion": "A mark localises a lesion when it is",
            "radius_mm": "R (mm)",
            "use_lesion_radius": "A lesion's own radius (lesions CSV) replaces R",
        }
        help_texts = {"use_lesion_radius": ""}

    def __init__(self, *args, study, **kwargs):
        super().__init__(*args, **kwargs)
        codes = study.questions.filter(type=QuestionType.MARKS).order_by("order", "id")
        self.fields["question_code"].choices = [
            ("", "the first marks question"),
            *((q.code, f"{q.code}: {q.text}") for q in codes),
        ]
        self.fields["radius_mm"].widget.attrs.update(min="0.001", max="1000", step="any")

    def clean_radius_mm(self):
        value = self.cleaned_data["radius_mm"]
        if not 0.001 <= value <= 1000:
            raise forms.ValidationError("R must be from 0.001 to 1000 mm")
        return value
