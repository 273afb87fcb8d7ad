"""The statistician's clinical table: one row per study case, one typed column per variable.

Columns: ``case``, then the built-in variables in catalogue order and the study-defined extras
that any of the study's cases has a value for. Numbers are floats, integers and yes/no values
nullable integers (booleans as 1/0), categories and text strings; an empty cell is a missing
value. ``etiology`` reveals the truth, so it is left out of an export without truth access.
It is the ``--clinical`` input of ``python -m readerstudy.analysis report``.
"""

from typing import Any

import pandas as pd

from readerstudy.cases.clinical import catalogue
from readerstudy.cases.clinical_schema import Kind
from readerstudy.cases.models import ClinicalRecord
from readerstudy.studies.models import ReaderStudy

TRUTH_VARIABLES = ("etiology",)
_DTYPES: dict[Kind, Any] = {
    Kind.NUMBER: "Float64",
    Kind.INTEGER: "Int64",
    Kind.BOOLEAN: "Int64",
    Kind.CATEGORY: "string",
    Kind.TEXT: "string",
}


def clinical_table(study: ReaderStudy, *, with_truth: bool) -> pd.DataFrame:
    codes = list(study.study_cases.order_by("case__code").values_list("case__code", flat=True))
    records = {
        r.case.code: r.values
        for r in ClinicalRecord.objects.filter(case__study_memberships__study=study).select_related(
            "case"
        )
    }
    present = {name for values in records.values() for name in values}
    variables = [
        v
        for v in catalogue().values()
        if v.name in present and (with_truth or v.name not in TRUTH_VARIABLES)
    ]
    frame = pd.DataFrame({"case": pd.Series(codes, dtype="string")})
    for variable in variables:
        values = [records.get(code, {}).get(variable.name) for code in codes]
        if variable.kind == Kind.BOOLEAN:
            values = [None if v is None else int(v) for v in values]
        frame[variable.name] = pd.Series(values, dtype=_DTYPES[variable.kind], index=frame.index)
    return frame
