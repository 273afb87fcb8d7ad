"""A generated subtype data set goes through the project's own importer unchanged."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from phantoms.subtype_dataset import generate_subtype_dataset
from readerstudy.cases.dicom import UIDRemapper
from readerstudy.cases.labels import find_case
from readerstudy.cases.models import HematomaMask
from readerstudy.cases.secrets import deid_secret

pytestmark = pytest.mark.django_db


def test_import_cases_takes_labels_masks_and_slice_labels(tmp_path, settings, capsys):
    out = tmp_path / "subtypes"
    records = generate_subtype_dataset(out, 4, 3, matrix=64)
    call_command(
        "import_cases",
        str(out),
        "--labels",
        str(out / "labels.csv"),
        "--slice-labels",
        str(out / "slice_labels.csv"),
        "--no-progress",
    )
    said = capsys.readouterr().out
    assert "imported 4 new" in said
    assert "labels for 4 cases stored" in said
    assert "slice labels for 4 cases stored" in said
    remapper = UIDRemapper(deid_secret(), settings.READERSTUDY_UID_PREFIX)
    for record in records:
        case = find_case({"study_instance_uid": record["study_instance_uid"]}, remapper)
        truth = case.ground_truth
        assert truth.ich_present == bool(record["subtypes"])
        assert truth.etiology == ("ich" if record["subtypes"] else "normal")
        assert truth.subtypes == record["subtypes"]
        assert truth.location == record["location"]
        slices = truth.slice_labels["slices"]
        assert truth.slice_labels["labels"] == ["any", "iph", "ivh", "sah", "sdh", "edh"]
        assert len(slices) == record["n_slices"]
        positive = {s for labels in slices.values() for s in labels} - {"any"}
        assert positive == set(record["subtypes"])
        mask = HematomaMask.objects.filter(case=case).first()
        if record["subtypes"]:
            total = sum(h["volume_ml"] for h in record["hemorrhage"].values())
            assert mask.volume_ml == pytest.approx(total, rel=1e-3)
        else:
            assert mask is None
