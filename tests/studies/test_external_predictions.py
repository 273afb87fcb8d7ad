"""External predictions: a CSV/JSON file (and a slices CSV) imported as a model version.

Every refusal names the row or field at fault and stores nothing (the import is atomic).
"""

import hashlib
import io
import json

import pytest
from django.core.management import CommandError, call_command

from readerstudy.ai import services as ai_services
from readerstudy.ai.models import InferenceJob, InferenceOutput, ModelVersion
from readerstudy.cases.models import Instance
from readerstudy.studies import services as study_services
from readerstudy.studies.external_predictions import (
    PredictionsRefused,
    SourceFile,
    import_predictions,
)
from readerstudy.studies.models import Design, EndpointKind, TruthField
from tests.exports.multi_endpoint import LABELS, LOCATIONS, questions
from tests.factories import CoordinatorFactory, cases_with_series

pytestmark = pytest.mark.django_db
SLICES = 4


@pytest.fixture
def study():
    cases = cases_with_series(3)
    for case in cases:
        for i in range(SLICES):
            Instance.objects.create(
                series=case.primary_series,
                sop_instance_uid=f"2.25.9{case.pk}{i}",
                sop_class_uid="1.2.840.10008.5.1.4.1.1.2",
                transfer_syntax_uid="1.2.840.10008.1.2.1",
                position=i,
                file=f"x/{case.pk}-{i}.dcm",
                sha256="0" * 64,
                size=1,
                pixel_offset=0,
                pixel_length=1,
                metadata={},
            )
    study = study_services.create_study(
        title="External",
        design=Design.SEQUENTIAL_PER_CASE,
        questions=questions(),
        endpoints=[
            {
                "code": "etiology", "name": "Etiology", "kind": EndpointKind.BINARY,
                "truth_field": TruthField.ETIOLOGY,
                "labels": [{"value": "cvst_ich", "label": "CVST"}, {"value": "sich", "label": "sICH"}],
                "question": "diagnosis", "rating_question": "confidence", "is_primary": True,
            },
            {
                "code": "subtypes", "name": "Subtypes", "kind": EndpointKind.MULTI_LABEL,
                "truth_field": TruthField.SUBTYPES,
                "labels": [{"value": v, "label": v.upper()} for v in LABELS],
                "question": "ich", "rating_question": "ich_confidence",
            },
            {
                "code": "location", "name": "Location", "kind": EndpointKind.MULTI_CLASS,
                "truth_field": TruthField.LOCATION,
                "labels": [{"value": v, "label": v} for v in LOCATIONS], "question": "location",
            },
        ],
    )  # fmt: skip
    study_services.add_cases(study, cases)
    return study


def _csv(rows: list[list]) -> SourceFile:
    buffer = io.StringIO()
    for row in rows:
        buffer.write(",".join(str(x) for x in row) + "\n")
    return SourceFile("preds.csv", buffer.getvalue().encode())


def _codes(study) -> list[str]:
    return [sc.case.code for sc in study.study_cases.select_related("case").order_by("case_id")]


HEADER = ["case_id", "cvst_ich", "any", "iph", "location=deep", "location=lobar", "location=subtentorial"]  # fmt: skip


def _good_rows(study) -> list[list]:
    a, b, c = _codes(study)
    return [
        HEADER,
        [a, 0.9, 0.8, 0.7, 0.6, 0.3, 0.1],
        [b, 0.2, 0.4, 0.1, 0.1, 0.1, 0.8],
        [c, 0.5, 0.95, "", 0.2, 0.7, 0.1],
    ]


def test_a_csv_becomes_a_model_version_with_one_output_per_case(study):
    user = CoordinatorFactory()
    source = _csv(_good_rows(study))
    version = import_predictions(
        study, model_name="Vendor ICH", model_version="3.1", predictions=source, user=user
    )
    manifest = version.manifest
    assert manifest["schema_version"] == "2.0" and manifest["external"] is True
    assert manifest["provenance"]["files"] == [
        {"name": "preds.csv", "sha256": hashlib.sha256(source.content).hexdigest()}
    ]
    assert manifest["provenance"]["imported_by"] == user.username
    assert [h["kind"] for h in manifest["heads"]] == ["binary", "multi_label", "multi_class"]
    assert version.positive_label == "cvst_ich" and version.operating_points == {"default": 0.5}
    a, b, c = _codes(study)
    outputs = {
        o.job.case.code: o for o in InferenceOutput.objects.select_related("job__case").all()
    }
    assert set(outputs) == {a, b, c}
    first = outputs[a]
    assert first.probabilities == {
        "cvst_ich": 0.9, "any": 0.8, "iph": 0.7,
        "location": {"deep": 0.6, "lobar": 0.3, "subtentorial": 0.1},
    }  # fmt: skip
    # threshold 0.5 per label; the multi-class head one-hot of its most probable class
    assert first.decisions["default"] == {
        "cvst_ich": 1, "any": 1, "iph": 1, "deep": 1, "lobar": 0, "subtentorial": 0
    }  # fmt: skip
    assert "iph" not in outputs[c].probabilities  # an empty cell is no probability
    assert all(j.status == "succeeded" for j in InferenceJob.objects.all())
    # a worker never runs imported predictions
    case = first.job.case
    with pytest.raises(ai_services.InferenceRefused, match="imported predictions"):
        ai_services.request_inference(case, version)
    assert ai_services.request_for_cases([case], version) == []


def test_json_with_slices_maps_slice_keys_to_the_series_uids(study):
    a, b, _ = _codes(study)
    uids = list(
        Instance.objects.filter(series__case__code=a).order_by("position")
        .values_list("sop_instance_uid", flat=True)
    )  # fmt: skip
    slices = {uids[3]: {"any": 0.9}, "0": {"any": 0.1}, "1": {"any": 0.2}, uids[2]: {"any": 0.3}}
    data = {
        "model": {"name": "Vendor", "version": "1.0", "operating_points": {"rule_out": {"threshold": 0.2}}},
        "cases": {
            a: {"probabilities": {"any": 0.9, "location": {"deep": 0.2, "lobar": 0.5, "subtentorial": 0.3}}, "slices": slices},
            b: {"probabilities": {"any": 0.1}},
        },
    }  # fmt: skip
    source = SourceFile("preds.json", json.dumps(data).encode())
    version = import_predictions(study, model_name="", model_version="", predictions=source)
    assert (version.name, version.version) == ("Vendor", "1.0")
    output = InferenceOutput.objects.get(job__case__code=a)
    assert output.slice_uids == uids
    assert output.slice_probabilities == {"any": [0.1, 0.2, 0.3, 0.9]}
    assert output.decisions["rule_out"] == {"any": 1, "deep": 0, "lobar": 1, "subtentorial": 0}
    assert [h["name"] for h in version.manifest["heads"]] == ["subtypes", "location"]


def test_the_slices_csv_and_the_command(study, tmp_path, capsys):
    a, *_ = _codes(study)
    preds = tmp_path / "p.csv"
    preds.write_bytes(_csv(_good_rows(study)).content)
    slices = tmp_path / "s.csv"
    slices.write_text(
        "case_id,slice,any,iph\n" + "".join(f"{a},{i},0.{i + 1},0.{i}\n" for i in range(SLICES))
    )
    call_command(
        "import_predictions", str(preds), "--study", str(study.pk), "--model-name", "V",
        "--model-version", "2", "--slices", str(slices),
    )  # fmt: skip
    assert "imported v 2: 3 case outputs" in capsys.readouterr().out
    output = InferenceOutput.objects.get(job__case__code=a)
    assert output.slice_probabilities == {"any": [0.1, 0.2, 0.3, 0.4], "iph": [0.0, 0.1, 0.2, 0.3]}
    assert len(ModelVersion.objects.get(model_id="v").manifest["provenance"]["files"]) == 2
    with pytest.raises(CommandError, match="already registered"):
        call_command(
            "import_predictions", str(preds), "--study", str(study.pk), "--model-name", "V",
            "--model-version", "2",
        )  # fmt: skip


def _refused(study, source, match, slices=None):
    with pytest.raises(PredictionsRefused, match=match):
        import_predictions(
            study, model_name="M", model_version="1", predictions=source, slices=slices
        )
    assert not ModelVersion.objects.exists() and not InferenceJob.objects.exists()


def test_refusals_name_the_row_and_field_and_store_nothing(study):
    a, b, c = _codes(study)
    rows = _good_rows(study)
    _refused(study, _csv([[*HEADER, "xyz"], *[[*r, 0.1] for r in rows[1:]]]),
             r"header: unknown label column 'xyz'")  # fmt: skip
    _refused(study, _csv([HEADER, *rows[1:], [a, 0.1, 0.1, 0.1, 0.2, 0.3, 0.5]]),
             rf"row 5: case {a} is already given at preds.csv row 2")  # fmt: skip
    _refused(study, _csv([HEADER, rows[1], ["NOPE", 0.1, 0.1, 0.1, 0.2, 0.3, 0.5]]),
             r"row 3: case 'NOPE' is not in the study")  # fmt: skip
    _refused(study, _csv([HEADER, [a, 1.2, 0.1, 0.1, 0.2, 0.3, 0.5]]),
             r"row 2, column 'cvst_ich': probability '1.2' is outside \[0, 1\]")  # fmt: skip
    _refused(study, _csv([HEADER, [a, "high", 0.1, 0.1, 0.2, 0.3, 0.5]]),
             r"row 2, column 'cvst_ich': 'high' is not a probability")  # fmt: skip
    _refused(study, _csv([HEADER, [a, 0.5, 0.1, 0.1, 0.2, 0.3, 0.3]]),
             r"row 2: location probabilities sum to 0.8000, not 1")  # fmt: skip
    _refused(study, _csv([["case", "cvst_ich"], [a, 0.5]]), r"no case_id column")
    _refused(study, SourceFile("p.txt", b"x"), r"expected a .csv or .json file")
    json_bad = {"cases": {a: {"probabilities": {"any": 0.5, "sdh2": 0.1}}}}
    _refused(study, SourceFile("p.json", json.dumps(json_bad).encode()),
             rf"p.json case {a}: unknown label column 'sdh2'")  # fmt: skip


def test_slice_refusals(study):
    a, *_ = _codes(study)
    source = _csv(_good_rows(study))
    three = "case_id,slice,any\n" + "".join(f"{a},{i},0.5\n" for i in range(SLICES - 1))
    _refused(study, source, rf"case {a} slices: 3 slices given, the series has 4",
             slices=SourceFile("s.csv", three.encode()))  # fmt: skip
    unknown = three + f"{a},2.25.404,0.5\n"
    _refused(study, source, r"slice '2.25.404' is not in the series",
             slices=SourceFile("s.csv", unknown.encode()))  # fmt: skip
    twice = three + f"{a},0,0.5\n"
    _refused(study, source, rf"s.csv row 5: slice '0' of case {a} twice",
             slices=SourceFile("s.csv", twice.encode()))  # fmt: skip
    per_class = "case_id,slice,location=deep\n" + f"{a},0,0.5\n"
    _refused(study, source, r"slice probabilities are per label, not per class",
             slices=SourceFile("s.csv", per_class.encode()))  # fmt: skip
    other = "case_id,slice,any\n" + "".join(f"ZZ,{i},0.5\n" for i in range(SLICES))
    _refused(study, source, r"case 'ZZ' has no case-level row",
             slices=SourceFile("s.csv", other.encode()))  # fmt: skip


def test_the_study_page_uploads_predictions(study, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(CoordinatorFactory())
    page = client.get(f"/studies/{study.pk}/").content.decode()
    assert 'id="predictions-import"' in page
    upload = SimpleUploadedFile("p.csv", _csv(_good_rows(study)).content)
    r = client.post(
        f"/studies/{study.pk}/predictions/import/",
        {"model_name": "Site model", "model_version": "1", "predictions": upload, "threshold": 0.4},
        follow=True,
    )
    assert "Imported site_model 1 (3 case outputs)" in r.content.decode()
    assert ModelVersion.objects.get().operating_points == {"default": 0.4}
    bad = SimpleUploadedFile("p.csv", b"case_id,zzz\nC1,0.5\n")
    r = client.post(
        f"/studies/{study.pk}/predictions/import/",
        {"model_name": "Other", "model_version": "1", "predictions": bad, "threshold": 0.5},
        follow=True,
    )
    assert "unknown label column &#x27;zzz&#x27;" in r.content.decode()
    assert ModelVersion.objects.count() == 1
