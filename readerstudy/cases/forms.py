"""Forms of the case library pages; truth values are checked by the labels CSV's row rules."""

from django import forms

from .labels import truth_problems


class LabelsUploadForm(forms.Form):
    file = forms.FileField(label="Labels CSV")
    kind = forms.ChoiceField(
        label="The CSV holds",
        choices=[
            ("cases", "case labels (one row per case)"),
            ("slices", "slice labels (one row per labelled slice)"),
        ],
        initial="cases",
    )


class TruthForm(forms.Form):
    """A case's truth as one labels-CSV row; every rule is the CSV's (``truth_problems``)."""

    label = forms.CharField(
        label="Label (etiology)", required=False, help_text="e.g. cvst_ich or sich"
    )
    ich_present = forms.ChoiceField(
        label="ICH present",
        required=False,
        choices=[("", "not recorded"), ("1", "yes"), ("0", "no")],
    )
    subtypes = forms.CharField(
        label="Subtypes", required=False, help_text="separated by ';', e.g. IPH;IVH"
    )
    location = forms.CharField(
        label="Location", required=False, help_text="deep / lobar / subtentorial"
    )
    site = forms.CharField(label="Site", required=False)

    def clean(self):
        row = {name: self.cleaned_data.get(name) or "" for name in self.fields}
        for column, message in truth_problems(row):
            self.add_error(column if column in self.fields else None, message)
        self.cleaned_data["row"] = row
        return self.cleaned_data

    @classmethod
    def initial_for(cls, state: dict) -> dict:
        ich = state["ich_present"]
        return {
            "label": state["label"],
            "ich_present": "" if ich is None else ("1" if ich else "0"),
            "subtypes": ";".join(state["subtypes"]),
            "location": state["location"],
            "site": state["site"],
        }


class LesionsCsvForm(forms.Form):
    """A lesions CSV (``cases.lesions``): checked first, or checked and stored."""

    file = forms.FileField(
        label="Lesions CSV",
        help_text="case_code, lesion_id, x_mm, y_mm, z_mm; optional radius_mm, weight",
    )


class MaskLesionsForm(forms.Form):
    """Truth lesions from the hematoma masks' connected components."""

    cases = forms.CharField(
        label="Cases",
        required=False,
        help_text="case codes separated by spaces or commas; blank: every case with a mask",
    )
    weighting = forms.ChoiceField(
        label="Lesion weights",
        choices=[("equal", "equal weights"), ("volume", "by volume (voxels)")],
        initial="equal",
    )
    min_voxels = forms.IntegerField(
        label="Smallest component (voxels)",
        min_value=1,
        initial=1,
        help_text="smaller components are not lesions",
    )

    def codes(self) -> list[str]:
        raw = self.cleaned_data["cases"].replace(",", " ")
        return [code for code in raw.split() if code]
