"""Clinical covariates of a case for a model that needs them (seed 001's DLRN).

A plug-in names its covariates; each is a variable of the clinical catalogue
(``readerstudy.cases.clinical_schema``), or one of the model-side names below, which are read
from a catalogue variable: seed 001 calls seizure at admission "epilepsy", and a model coded
on sex as a 0/1 indicator reads ``sex``. Values reach the model as numbers (yes/no as 1/0)
where they are numbers or yes/no, as text otherwise.
"""

from collections.abc import Callable
from typing import Any

from readerstudy.cases.models import ClinicalRecord

#: model-side name -> (catalogue variable, value from the catalogue's value)
DERIVED: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "seizure": ("seizure_at_admission", bool),
    "epilepsy": ("seizure_at_admission", bool),
    "sex_female": ("sex", lambda sex: sex == "F"),
    "sex_male": ("sex", lambda sex: sex == "M"),
}


class MissingCovariates(ValueError):
    """The case has no clinical value for a covariate the model needs."""


def required_covariates(model) -> list[str]:
    """The covariates a plug-in needs at predict time: its ``covariates`` attribute (a list,
    or a method returning one); none for image-only models."""
    names = getattr(model, "covariates", None) or ()
    if callable(names):
        names = names()
    return [str(name) for name in names]


def _model_value(value: Any) -> Any:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    return value


def case_covariates(case_id: int, names: list[str], *, model_id: str) -> dict[str, Any]:
    """``{name: value}`` for the model from the case's clinical record; raises
    MissingCovariates naming every covariate (and the clinical variable) the record lacks."""
    if not names:
        return {}
    record = ClinicalRecord.objects.filter(case_id=case_id).values_list("values", flat=True)
    values = next(iter(record), None) or {}
    out: dict[str, Any] = {}
    missing: list[str] = []
    for name in names:
        source, convert = DERIVED.get(name, (name, lambda v: v))
        value = values.get(source)
        if value is None:
            missing.append(name if source == name else f"{name} (clinical {source})")
            continue
        out[name] = _model_value(convert(value))
    if missing:
        raise MissingCovariates(
            f"model {model_id} needs the clinical covariate(s) {', '.join(missing)}, "
            "which the case's clinical data lacks"
        )
    return out
