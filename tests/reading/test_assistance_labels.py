"""The aided payload of a multi-label model: the labels the condition selects, their
probabilities and calls, the slice strip, per-label heatmaps on the model's global scale,
and the side-by-side view with the ground-truth mask, all behind the unaided lock."""

import numpy as np
import pytest
from django.db import transaction

from readerstudy.ai import runner
from readerstudy.ai.models import Heatmap, InferenceJob
from readerstudy.ai.outputs import save_mask
from readerstudy.ai.scales import overlay_scale
from readerstudy.cases.models import HematomaMask
from readerstudy.reading import services
from readerstudy.reading.assistance import assistance_payload, assistance_volume
from readerstudy.reading.models import AssistanceExposure
from readerstudy.studies import services as study_services
from readerstudy.studies.errors import NotAvailable
from readerstudy.studies.models import Assignment, Design
from tests.ai.test_outputs_per_label import (
    SHAPE,
    multi_label_version,
    prediction,
    series_with_slices,
)
from tests.factories import ReaderFactory

pytestmark = pytest.mark.django_db
ANSWER = {"diagnosis": "cvst_ich", "confidence": 80}


def _url(kind, assignment_id, method=None, label=None):
    return f"/{kind}/{assignment_id}/{method}/{label}"


@pytest.fixture
def aided():
    """A sequential study whose aided condition shows ``iph`` and the location head, the
    slice strip, Grad-CAM on the global scale, side by side with the truth mask."""
    version = multi_label_version()
    case = series_with_slices()
    study = study_services.create_study(
        title="labels", design=Design.SEQUENTIAL_PER_CASE, randomization_seed=5,
        conditions=[
            {"code": "unaided", "name": "Unaided"},
            {"code": "aided", "name": "Aided", "assistance": {
                "model_version": version, "operating_point": "default",
                "labels": ["iph", "location"], "heatmaps": ["gradcam"],
                "heatmap_scale": "global", "show_slice_strip": True, "side_by_side": True,
                "show_truth_mask_side_by_side": True}},
        ],
    )  # fmt: skip
    study_services.add_cases(study, [case])
    reader = ReaderFactory()
    study_services.enroll_reader(study, reader)
    study = study_services.open_study(study, truth_pending_allowed=True)
    job = InferenceJob.objects.create(
        case=case, series=case.primary_series, model_version=version, params={},
        params_hash="0" * 64, status=InferenceJob.Status.SUCCEEDED,
    )  # fmt: skip
    pred = prediction()
    image = pred.grid.image(np.zeros(SHAPE, dtype=np.float32))
    with transaction.atomic():
        runner.store_output(
            job, pred, runner.save_files(pred, image), runner.slice_outputs(job.series_id, pred)
        )
    truth = np.zeros(SHAPE, dtype=np.uint8)
    truth[2, 2:5, 3:6] = 1
    HematomaMask.objects.create(
        case=case, series=case.primary_series, file=save_mask(truth, image), voxels=9,
        volume_ml=0.01,
    )  # fmt: skip
    unaided, aided = Assignment.objects.filter(study=study).order_by("position")
    return reader, unaided, aided, pred, truth


def test_nothing_is_served_before_the_unaided_lock(aided, client):
    reader, unaided, aided_read, *_ = aided
    services.start(reader, unaided.pk)
    for assignment in (unaided, aided_read):
        with pytest.raises(NotAvailable):
            assistance_payload(reader, assignment.pk, url_for=_url)
        with pytest.raises(NotAvailable):
            assistance_volume(reader, assignment.pk, "truth_mask")
    client.force_login(reader)
    for assignment in (unaided, aided_read):
        for route in ("truth-mask/", "heatmaps/gradcam/iph/", ""):
            r = client.get(f"/api/reading/assignments/{assignment.pk}/assistance/{route}")
            assert r.status_code == 404, route


def test_the_payload_shows_what_the_condition_selects(aided, client):
    reader, unaided, aided_read, pred, truth = aided
    services.start(reader, unaided.pk)
    services.submit(reader, unaided.pk, ANSWER, client_request_id="u", lock=True)
    services.start(reader, aided_read.pk)
    payload = assistance_payload(reader, aided_read.pk, url_for=_url)
    assert [x["name"] for x in payload["labels"]] == ["iph", "deep", "lobar"]
    assert payload["labels"][1] == {
        "name": "deep", "display": "Deep", "head": "location", "kind": "multi_class"
    }  # fmt: skip
    assert payload["label_probabilities"] == [
        {"label": "iph", "display": "Intraparenchymal", "value": 0.7},
        {"label": "location", "display": "Location", "classes": [
            {"label": "deep", "display": "Deep", "value": 0.8},
            {"label": "lobar", "display": "Lobar", "value": 0.2}]},
    ]  # fmt: skip
    assert payload["label_decisions"] == {
        "operating_point": "default", "values": {"iph": 1, "deep": 1, "lobar": 0}
    }  # fmt: skip
    # the seed-000 keys stay: the headline label's probability and call
    assert payload["probability"]["value"] == 0.9
    assert payload["probability"]["meaning"] == "probability of Any ICH"
    assert payload["decision"]["label"] == "any"
    strip = payload["slice_strip"]
    assert strip["labels"] == ["iph"]  # "any" has slice values but is not selected
    assert strip["sop_instance_uids"] == [f"2.25.77{i}" for i in range(5)]
    assert strip["values"]["iph"] == pytest.approx([0.0, 0.1, 0.7, 0.6, 0.0])
    (heatmap,) = payload["heatmaps"]  # Grad-CAM of "any" is stored but not selected
    assert heatmap["url"] == f"/heatmap/{aided_read.pk}/gradcam/iph"
    assert heatmap["scale"] == {"mode": "global", "range": [0.0, 2.0]}
    assert heatmap["colorbar"] == {"high": "towards Intraparenchymal", "low": ""}
    assert payload["side_by_side"] == {
        "allowed": True, "truth_mask_url": f"/truth_mask/{aided_read.pk}/None/None"
    }  # fmt: skip
    shown = AssistanceExposure.objects.get(assignment=aided_read).shown
    assert shown["labels"] == ["iph", "deep", "lobar"] and shown["slice_strip"] == ["iph"]
    assert shown["heatmap_labels"] == ["gradcam:iph"]
    assert shown["side_by_side"] is True and shown["truth_mask"] is True

    # global scale: a stored value v sits at v * scale / global_scale = v * 1.5 / 2.0
    descriptor, data = assistance_volume(reader, aided_read.pk, "heatmap", "gradcam", "iph")
    assert descriptor["range"] == [0.0, 1.0] and descriptor["label"] == "iph"
    expected = np.clip(
        np.rint(pred.heatmap("gradcam", "iph").array.astype(np.float32) * 0.75 * 255), 0, 255
    )
    np.testing.assert_array_equal(np.frombuffer(data, np.uint8).reshape(SHAPE), expected)
    with pytest.raises(NotAvailable):  # stored, but the condition does not show "any"
        assistance_volume(reader, aided_read.pk, "heatmap", "gradcam", "any")
    _, mask = assistance_volume(reader, aided_read.pk, "truth_mask")
    np.testing.assert_array_equal(np.frombuffer(mask, np.uint8).reshape(SHAPE), truth * 255)
    client.force_login(reader)
    base = f"/api/reading/assignments/{aided_read.pk}/assistance/"
    body = client.get(base).json()
    assert body["heatmaps"][0]["url"] == f"{base}heatmaps/gradcam/iph/"
    assert body["side_by_side"]["truth_mask_url"] == f"{base}truth-mask/"
    for url in (body["heatmaps"][0]["url"], body["side_by_side"]["truth_mask_url"]):
        assert client.get(url).status_code == 200
    # the older route answers for the positive label, which this condition does not show
    assert client.get(f"{base}heatmaps/gradcam/").status_code == 404


def test_a_global_scale_falls_back_to_the_case_range_with_a_note():
    version = multi_label_version()
    unscaled = Heatmap(method="gradcam", label="any", params={}, value_range=[0, 1])
    scale = overlay_scale("global", version, unscaled)
    assert (scale.mode, scale.factor) == ("case", None)
    assert "no stored per-case scale" in scale.note
    other = Heatmap(method="ig", label="any", params={"scale": 3.0}, value_range=[0, 1])
    assert "ig has no global scale" in overlay_scale("global", version, other).note
    own = Heatmap(method="ig", label="any", params={"scale": 3.0, "global_scale": 6.0})
    assert overlay_scale("global", version, own).factor == 0.5
    assert overlay_scale("case", version, own).mode == "case"
    # a global scale per label (as the seed-004 model's manifest gives it)
    version.manifest = {
        **version.manifest,
        "explainers": {"gradcam": {"defaults": {"global_scale": {"any": 0.01, "iph": 0.004}}}},
    }
    iph = Heatmap(method="gradcam", label="iph", params={"scale": 0.002})
    scale = overlay_scale("global", version, iph)
    assert (scale.mode, scale.bound, scale.factor) == ("global", 0.004, 0.5)
    sah = Heatmap(method="gradcam", label="sah", params={"scale": 0.002})
    assert overlay_scale("global", version, sah).mode == "case"  # no scale for that label


def test_a_signed_map_of_a_two_label_binary_head_points_to_the_other_label():
    """Seed 000's signed maps read "towards sICH" at their low end, as the viewer always showed."""
    import json
    from pathlib import Path

    from readerstudy.ai import labels as model_labels
    from readerstudy.ai.models import ModelVersion
    from readerstudy.reading.assistance import _colorbar

    manifest = json.loads(
        (Path(__file__).parents[2] / "inference/models/cvst_ich_demo/manifest.json").read_text()
    )
    version = ModelVersion(manifest=manifest, positive_label="cvst_ich")
    (label,) = model_labels.scored_labels(version)
    assert _colorbar(version, label, signed=True) == {
        "high": "towards CVST-ICH",
        "low": "towards sICH",
    }
    assert _colorbar(version, label, signed=False) == {"high": "towards CVST-ICH", "low": ""}


@pytest.mark.parametrize(("signed", "expected"), [(False, [0.0, 2.0]), (True, [-2.0, 2.0])])
def test_an_empty_map_keeps_a_drawable_per_case_range(signed, expected):
    """A label the model found nothing for has an all-zero map; its colour bar must still span
    a range the viewer can draw (the overlay's own [lo, lo + 1] in stored units)."""
    from types import SimpleNamespace

    from readerstudy.ai.models import Heatmap, ModelVersion
    from readerstudy.reading.assistance import _heatmap_scale

    version = ModelVersion(manifest={}, positive_label="any")
    heatmap = Heatmap(
        method="gradcam", label="sdh", signed=signed, value_range=[0.0, 0.0], params={"scale": 2.0}
    )
    scale = _heatmap_scale(SimpleNamespace(heatmap_scale="case"), version, heatmap)
    assert scale["mode"] == "case"
    assert scale["range"] == expected
