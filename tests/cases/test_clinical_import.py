"""The clinical CSV: typed values, row-and-column errors, nothing stored on error, etiology truth."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from readerstudy.cases.clinical import define_variable, import_clinical_csv, set_clinical
from readerstudy.cases.clinical_schema import BUILTINS, binary_etiology
from readerstudy.cases.errors import ClinicalError
from readerstudy.cases.models import ClinicalRecord, Collection, GroundTruth
from readerstudy.studies.endpoints import endpoint_values
from readerstudy.studies.models import EndpointKind, TruthField
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases():
    return [CaseFactory() for _ in range(3)]


def _write(tmp_path, text: str):
    path = tmp_path / "clinical.csv"
    path.write_text(text)
    return path


def _errors(path, **kw) -> list[str]:
    with pytest.raises(ClinicalError) as exc:
        import_clinical_csv(path, **kw)
    return exc.value.errors


def test_values_are_stored_typed(tmp_path, cases):
    a, b, _ = cases
    path = _write(
        tmp_path,
        "case_id,age,sex,onset_to_imaging_h,seizure_at_admission,hypertension,headache,etiology\n"
        f"{a.code},54,F,6.5,yes,0,1,CVT\n"
        f"{b.code},71.0,m,20,no,true,,hp\n",
    )
    summary = import_clinical_csv(path)
    assert (summary.cases, summary.created) == (2, 2)
    assert ClinicalRecord.objects.get(case=a).values == {
        "age": 54.0,
        "sex": "F",
        "onset_to_imaging_h": 6.5,
        "seizure_at_admission": True,
        "hypertension": False,
        "headache": True,
        "etiology": "CVT",
    }
    second = ClinicalRecord.objects.get(case=b).values
    assert second["sex"] == "M" and second["etiology"] == "HP" and "headache" not in second
    assert second["hypertension"] is True


def test_every_problem_names_row_and_column_and_nothing_is_stored(tmp_path, cases):
    a, b, c = cases
    path = _write(
        tmp_path,
        "case_id,age,sex,headache\n"
        f"{a.code},54,F,1\n"  # valid, but not stored since other rows fail
        f"{b.code},old,X,maybe\n"
        "NOPE,40,M,0\n"
        f"{a.code},50,M,0\n"
        f"{c.code},-1,F,0\n",
    )
    errors = _errors(path)
    assert "row 3, column 'age': 'old' is not a number" in errors
    assert "row 3, column 'sex': 'X' is not one of M, F, other" in errors
    assert any(e.startswith("row 3, column 'headache': 'maybe' is not a yes/no") for e in errors)
    assert "row 4, column 'case_id': no case 'NOPE'" in errors
    assert f"row 5, column 'case_id': case '{a.code}' is also in row 2" in errors
    assert "row 6, column 'age': -1 is below the minimum 0" in errors
    assert ClinicalRecord.objects.count() == 0


def test_unknown_column_is_refused_before_any_row(tmp_path, cases):
    errors = _errors(_write(tmp_path, f"case_id,age,weight\n{cases[0].code},3,70\n"))
    assert len(errors) == 1 and errors[0].startswith("line 1, column 'weight': not a clinical")
    assert _errors(_write(tmp_path, "code,age\nX,3\n")) == [
        "the CSV needs one 'case_id' column (the case code)"
    ]


def test_extra_variables_have_declared_types(tmp_path, cases):
    define_variable("gcs", "integer")
    define_variable("side", "category", ["L", "R"])
    define_variable("note", "text")
    path = _write(tmp_path, f"case_id,gcs,side,note\n{cases[0].code},3.5,L,x\n")
    assert _errors(path) == ["row 2, column 'gcs': '3.5' is not a whole number"]
    path = _write(tmp_path, f"case_id,gcs,side,note\n{cases[0].code},14,r,seen late\n")
    import_clinical_csv(path)
    assert ClinicalRecord.objects.get(case=cases[0]).values == {
        "gcs": 14,
        "side": "R",
        "note": "seen late",
    }
    with pytest.raises(ClinicalError, match="already exists"):
        define_variable("age", "number")
    with pytest.raises(ClinicalError, match="at least two different options"):
        define_variable("grade", "category", ["I"])
    with pytest.raises(ClinicalError, match="not one of"):
        define_variable("weight", "float")


def test_blank_cell_clears_and_absent_column_keeps(tmp_path, cases):
    a = cases[0]
    import_clinical_csv(_write(tmp_path, f"case_id,age,headache\n{a.code},40,1\n"))
    import_clinical_csv(_write(tmp_path, f"case_id,age\n{a.code},\n"))
    assert ClinicalRecord.objects.get(case=a).values == {"headache": True}


def test_etiology_sets_the_seed001_binary_truth(tmp_path, cases):
    """CVT maps to the endpoint's positive label, every other cause to its negative one."""
    a, b, c = cases
    import_clinical_csv(
        _write(tmp_path, f"case_id,etiology\n{a.code},CVT\n{b.code},CAA\n{c.code},AVM\n")
    )
    assert [GroundTruth.objects.get(case=x).etiology for x in cases] == ["cvt", "other", "other"]
    assert {binary_etiology(e) for e in ("HP", "CAA", "AVM", "other")} == {"other"}

    class Endpoint:  # the seed-001 preset's endpoint, as endpoint_values reads it
        kind, code, truth_field = EndpointKind.BINARY, "diagnosis", TruthField.ETIOLOGY
        labels = [{"value": "cvt"}, {"value": "other"}]
        question = rating_question = None

    truths = [
        endpoint_values(Endpoint, {}, GroundTruth.objects.get(case=x))[0].truth for x in cases
    ]
    assert truths == [1, 0, 0]


def test_etiology_refuses_a_case_labelled_in_another_vocabulary(tmp_path, cases):
    GroundTruth.objects.create(case=cases[0], etiology="cvst_ich")
    errors = _errors(_write(tmp_path, f"case_id,etiology\n{cases[0].code},CVT\n"))
    assert errors[0].startswith("row 2, column 'etiology': the case is labelled 'cvst_ich'")
    assert GroundTruth.objects.get(case=cases[0]).etiology == "cvst_ich"


def test_collection_scope(tmp_path, cases):
    inside = Collection.objects.create(name="center 1")
    cases[0].collection = inside
    cases[0].save()
    path = _write(tmp_path, f"case_id,age\n{cases[0].code},30\n{cases[1].code},31\n")
    assert _errors(path, collection="center 1") == [
        f"row 3, column 'case_id': no case '{cases[1].code}' in collection 'center 1'"
    ]
    assert _errors(path, collection="nowhere") == ["no collection 'nowhere'"]


def test_command_imports_and_exits_2_on_error(tmp_path, cases, capsys):
    good = _write(tmp_path, f"case_id,age,gcs\n{cases[0].code},30,15\n")
    call_command("import_clinical", str(good), "--define", "gcs:integer")
    assert "clinical data for 1 case stored; 1 new, 0 updated" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text(f"case_id,age\n{cases[0].code},abc\n")
    with pytest.raises(CommandError) as exc:
        call_command("import_clinical", str(bad))
    assert exc.value.returncode == 2
    assert "row 2, column 'age': 'abc' is not a number" in str(exc.value)
    assert ClinicalRecord.objects.get(case=cases[0]).values == {"age": 30.0, "gcs": 15}


def test_set_clinical_replaces_every_value(cases):
    a = cases[0]
    set_clinical(a, {"age": "40", "headache": "1"}, source="case page")
    set_clinical(a, {"age": "41", "headache": ""}, source="case page")
    assert ClinicalRecord.objects.get(case=a).values == {"age": 41.0}
    with pytest.raises(ClinicalError, match="'sex': 'Q' is not one of"):
        set_clinical(a, {"sex": "Q"}, source="case page")
    assert [v.name for v in BUILTINS][:6] == [
        "age",
        "sex",
        "onset_to_imaging_h",
        "seizure_at_admission",
        "hypertension",
        "headache",
    ]
