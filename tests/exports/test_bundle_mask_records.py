"""The record of a panel's voxel vote travels: each case's consensus mask with the annotators'
Dice agreement (``panel/consensus_masks.csv``) and what became of each consensus when the
study took its truth from the panel (``panel/mask_writes.csv``, ``CaseMaskWrite``). The import
restores both equal; a bundle made before these tables existed still imports."""

import datetime as dt
import json

import pytest
from django.contrib.auth import get_user_model

from readerstudy.analysis.bundle import MANIFEST, BundleError
from readerstudy.cases.storage import save_content_addressed
from readerstudy.exports.bundle_export import export_bundle
from readerstudy.exports.bundle_import import import_bundle
from readerstudy.exports.bundle_panel import CONSENSUS, MASK_WRITES
from readerstudy.panels.models import CaseMaskWrite, ConsensusMask, Panel, PanelTruth
from readerstudy.studies.models import ReaderStudy
from tests.exports.bundle_files import FAST, members, rewrite
from tests.exports.test_bundle_masks import _empty, _masked_panel_study, _nifti, _read, _table
from tests.factories import CoordinatorFactory

pytestmark = pytest.mark.django_db

AT = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)


def _recorded_study() -> tuple[ReaderStudy, str]:
    """The masked panel study with its voxel vote (a consensus of the first case, an empty one
    of the second) and the record of its writing: the first case's replaced a mask (kept only
    by the record), the second's was empty, the third kept its mask; plus a record of another
    study that does not travel. Returns the study and the name of the coordinator."""
    study = _masked_panel_study()
    panel = Panel.objects.get(pk=study.truth_panel_id)
    pcs = list(panel.panel_cases.select_related("case").order_by("case__code"))
    truth = PanelTruth.objects.get(panel=panel, case=pcs[0].case)
    ConsensusMask.objects.create(
        panel_case=pcs[0], file=truth.mask_file, sha256=truth.mask_sha256, voxels=4,
        volume_ml=0.25, method="majority_voxel_vote", annotator_voxels={"A1": 3, "A2": 4, "A3": 5},
        dice={"pairs": {"A1-A2": 0.75, "A1-A3": None, "A2-A3": 0.5},
              "to_consensus": {"A1": 0.8571428571428571, "A2": 1.0, "A3": 0.0}},
    )  # fmt: skip
    ConsensusMask.objects.create(
        panel_case=pcs[1], voxels=0, volume_ml=0.0, method="majority_voxel_vote",
        annotator_voxels={"A1": 0, "A2": 2, "A3": 0},
        dice={"pairs": {"A1-A2": 0.0}, "to_consensus": {}},
    )  # fmt: skip
    replaced, _ = save_content_addressed("masks", _nifti(52), ".nii.gz")
    coordinator = CoordinatorFactory()
    common = {"panel": panel, "study_id": study.pk, "method": "consensus", "at": AT}
    CaseMaskWrite.objects.bulk_create([
        CaseMaskWrite(
            case=pcs[0].case, outcome="replaced", replace_chosen=True, file=truth.mask_file,
            sha256=truth.mask_sha256, voxels=4, previous_file=replaced, decided_by=coordinator,
            **common,
        ),
        CaseMaskWrite(case=pcs[1].case, outcome="empty", replace_chosen=True,
                      decided_by=coordinator, **{**common, "method": "adjudicated"}),
        CaseMaskWrite(case=pcs[2].case, outcome="kept", replace_chosen=False,
                      **{**common, "at": AT + dt.timedelta(minutes=1)}),
        CaseMaskWrite(case=pcs[3].case, outcome="empty", replace_chosen=False,
                      **{**common, "study_id": study.pk + 1000}),
    ])  # fmt: skip
    return study, coordinator.username


def _file(name: str) -> bytes | None:
    return _read(name) if name else None


def _records(study: ReaderStudy) -> dict:
    """The study's voxel vote and mask writes by natural keys, with their files' bytes."""
    panel = Panel.objects.get(pk=study.truth_panel_id)
    return {
        "consensus": sorted(
            (c.panel_case.case.code, c.sha256, c.voxels, c.volume_ml, c.method,
             json.dumps(c.annotator_voxels, sort_keys=True), json.dumps(c.dice, sort_keys=True),
             c.created_at, _file(c.file))
            for c in ConsensusMask.objects.filter(panel_case__panel=panel)
        ),
        "writes": sorted(
            (w.case.code, w.outcome, w.method, w.replace_chosen, w.sha256, w.voxels, w.at,
             w.decided_by.username if w.decided_by else None, _file(w.file),
             _file(w.previous_file))
            for w in CaseMaskWrite.objects.filter(panel=panel, study_id=study.pk)
        ),
    }  # fmt: skip


@pytest.fixture
def recorded(tmp_path):
    study, coordinator = _recorded_study()
    before = _records(study)
    path = tmp_path / "records.zip"
    export_bundle(study, path, report_options=FAST)
    _empty()
    return path, before, coordinator


def test_the_voxel_vote_and_the_mask_writes_come_back_equal(recorded, tmp_path):
    path, before, coordinator = recorded
    assert len(before["consensus"]) == 2 and len(before["writes"]) == 3
    files = members(path)
    manifest = json.loads(files[MANIFEST])
    assert manifest["format_version"] == 3
    assert {CONSENSUS.name, MASK_WRITES.name} <= set(manifest["files"])
    writes = _table(files[MASK_WRITES.name])
    assert writes[0][:2] == ["case", "decided_by"] and "study_id" not in writes[0]
    assert len(writes) == 1 + 3  # the other study's record stays behind
    previous = writes[1][writes[0].index("previous_file")]
    assert previous.startswith("masks/") and previous in manifest["files"]
    get_user_model().objects.create(username=coordinator)  # the coordinator exists here

    imported = import_bundle(path).study

    assert _records(imported) == before
    assert set(CaseMaskWrite.objects.values_list("study_id", flat=True)) == {imported.pk}
    again = tmp_path / "again.zip"
    export_bundle(imported, again, report_options=FAST)
    second = members(again)
    for name in (CONSENSUS.name, MASK_WRITES.name):
        assert second[name] == files[name], name


def test_a_decider_unknown_here_is_left_empty(recorded):
    path, before, _ = recorded
    imported = import_bundle(path).study
    after = _records(imported)
    assert after["consensus"] == before["consensus"]
    assert [w[7] for w in after["writes"]] == [None, None, None]
    assert [w[7] for w in before["writes"]].count(None) == 1


def test_a_bundle_without_the_records_still_imports(recorded, tmp_path):
    path, before, _ = recorded
    files = members(path)
    del files[CONSENSUS.name], files[MASK_WRITES.name]
    imported = import_bundle(rewrite(path, tmp_path / "old.zip", files, rehash=True)).study
    assert imported.truth_source == "panel"
    assert ConsensusMask.objects.count() == 0 and CaseMaskWrite.objects.count() == 0
    assert PanelTruth.objects.filter(panel=imported.truth_panel).exclude(mask_file="").count() == 1


@pytest.mark.parametrize("name", [CONSENSUS.name, MASK_WRITES.name])
def test_an_altered_record_is_refused_naming_it(recorded, tmp_path, name):
    path, _, _ = recorded
    files = members(path)
    files[name] = files[name].replace(b"0.75", b"0.95").replace(b"replaced", b"written")
    with pytest.raises(BundleError) as error:
        import_bundle(rewrite(path, tmp_path / "t.zip", files))
    assert error.value.code == "hash_mismatch" and name in error.value.message
    assert ReaderStudy.objects.count() == 0 and CaseMaskWrite.objects.count() == 0
