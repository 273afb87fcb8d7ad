"""A DLRN-style prediction's signatures, nomogram and features are stored checked (through
the runner's own storing function), malformed ones refused naming the key; clinical
covariates come from the case's clinical record, a missing one named."""

import numpy as np
import pytest
import SimpleITK as sitk
from django.db import transaction

from inference.geometry import Grid
from inference.results import Prediction
from readerstudy.ai import runner
from readerstudy.ai.covariates import MissingCovariates, case_covariates, required_covariates
from readerstudy.ai.interpretation import InterpretationError, interpretation_of, nomogram_of
from readerstudy.ai.models import InferenceJob, InferenceOutput
from readerstudy.cases.models import ClinicalRecord
from tests.dlrn_outputs import dlrn_result, dlrn_version
from tests.factories import cases_with_series

SHAPE = (3, 4, 4)
OUTPUT_KEYS = ("signatures", "nomogram", "total_points", "nomogram_axes", "features")


def _prediction(result: dict) -> Prediction:
    image = sitk.GetImageFromArray(np.zeros(SHAPE, dtype=np.float32))
    p = result["probabilities"]["cvt_related"]
    return Prediction(
        model_id="cvt_hematoma_dlrn", model_version="0.1.0", positive_label="cvt_related",
        probabilities=result["probabilities"], decisions={"default": {"cvt_related": int(p > .5)}},
        thresholds={"default": 0.5}, heatmaps={}, grid=Grid.from_sitk(image),
        provenance=result["provenance"], outputs={k: result[k] for k in OUTPUT_KEYS},
    )  # fmt: skip


def _store(prediction: Prediction) -> InferenceOutput:
    (case,) = cases_with_series(1)
    job = InferenceJob.objects.create(
        case=case, series=case.primary_series, model_version=dlrn_version(), params={},
        params_hash="0" * 64,
    )  # fmt: skip
    image = prediction.grid.image(np.zeros(SHAPE, dtype=np.float32))
    with transaction.atomic():
        return runner.store_output(job, prediction, runner.save_files(prediction, image), ([], {}))


@pytest.mark.django_db
def test_the_runner_stores_the_signatures_nomogram_and_features():
    result = dlrn_result(dlr=0.4, seizure=False)
    output = InferenceOutput.objects.get(pk=_store(_prediction(result)).pk)
    assert output.signatures == result["signatures"]
    nomogram = output.nomogram
    assert nomogram["points"] == {"dlr_signature": pytest.approx(40.0), "seizure_at_admission": 0}
    assert nomogram["total_points"] == pytest.approx(40.0)
    assert [a["variable"] for a in nomogram["axes"]] == ["dlr_signature", "seizure_at_admission"]
    assert nomogram["axes"][1]["ticks"][1]["value"] == 1.0
    assert nomogram["total_points_axis"][:3] == [0.0, 10.0, 20.0]
    probabilities = [t["probability"] for t in nomogram["probability_axis"]]
    assert probabilities == sorted(probabilities)  # increasing with the total points
    names = [f["name"] for f in output.features]
    assert names[:2] == ["wavelet-LHL_glszm_SmallAreaEmphasis", "DL_feature_0412"]
    assert len(names) == len(result["features"])


@pytest.mark.django_db
def test_an_image_only_prediction_stores_none_of_it():
    result = dlrn_result()
    prediction = _prediction(result)
    prediction.outputs = {}
    output = _store(prediction)
    assert (output.signatures, output.nomogram, output.features) == ({}, {}, [])


def test_the_keyed_axis_form_is_read_as_the_listed_one():
    result = dlrn_result()
    listed = nomogram_of(result)
    result["nomogram_axes"] = {
        "dlr_signature": {"ticks": result["nomogram_axes"]["variables"][0]["ticks"]},
        "seizure_at_admission": {
            "values": [0.0, 1.0],
            "points": [t["points"] for t in result["nomogram_axes"]["variables"][1]["ticks"]],
        },
        "probability": {
            "total_points": [t["total_points"] for t in result["nomogram_axes"]["probability"]],
            "probability": [t["probability"] for t in result["nomogram_axes"]["probability"]],
        },
    }
    keyed = nomogram_of(result)
    assert keyed["axes"] == listed["axes"]
    assert keyed["probability_axis"] == listed["probability_axis"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r["signatures"].update(dlr=1.3), "signatures.dlr: a probability"),
        (lambda r: r.pop("total_points"), "total_points: missing"),
        (lambda r: r["nomogram"]["points"].update(dlr_signature="high"), "nomogram.dlr_signature"),
        (lambda r: r["nomogram_axes"]["variables"].pop(), "no axis for seizure_at_admission"),
        (lambda r: r["nomogram_axes"]["probability"][0].pop("probability"), "needs 'total_points'"),
        (lambda r: r["features"][0].pop("importance"), "features[0].importance"),
        (lambda r: r["features"].append({"value": 1, "importance": 1}), "features[7].name"),
        (lambda r: r.update(nomogram_axes=["x"]), "nomogram_axes: expected an object"),
    ],
)
def test_malformed_outputs_are_refused_naming_the_key(change, message):
    result = dlrn_result()
    change(result)
    with pytest.raises(InterpretationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        interpretation_of(result)


@pytest.mark.django_db
def test_a_malformed_output_stores_nothing():
    result = dlrn_result()
    result["features"][0]["importance"] = float("nan")
    with pytest.raises(InterpretationError):
        _store(_prediction(result))
    assert not InferenceOutput.objects.exists()


class _Plugin:
    covariates = ("seizure", "age", "sex_female")


@pytest.mark.django_db
def test_covariates_come_from_the_clinical_record_as_numbers():
    (case,) = cases_with_series(1)
    ClinicalRecord.objects.create(
        case=case, values={"seizure_at_admission": True, "age": 41.0, "sex": "F", "headache": 0}
    )
    names = required_covariates(_Plugin())
    assert case_covariates(case.pk, names, model_id="m") == {
        "seizure": 1.0, "age": 41.0, "sex_female": 1.0
    }  # fmt: skip
    assert required_covariates(object()) == []
    assert case_covariates(case.pk, [], model_id="m") == {}


@pytest.mark.django_db
def test_a_missing_covariate_is_named():
    (case,) = cases_with_series(1)
    ClinicalRecord.objects.create(case=case, values={"age": 70.0})
    with pytest.raises(MissingCovariates) as info:
        case_covariates(case.pk, ["seizure", "age", "hypertension"], model_id="dlrn")
    assert str(info.value) == (
        "model dlrn needs the clinical covariate(s) seizure (clinical seizure_at_admission), "
        "hypertension, which the case's clinical data lacks"
    )
    (bare,) = cases_with_series(1)  # no clinical record at all
    with pytest.raises(MissingCovariates, match="age"):
        case_covariates(bare.pk, ["age"], model_id="dlrn")
