"""A study that takes its truth from imports again gives its cases back the truth masks the
panel's consensus replaced (or removes the ones it wrote), in the same transaction as the
truth source, and records each case's outcome; a case another study on the panel still reads,
or whose mask changed since, is left as it is."""

import pytest

from readerstudy.audit.models import AuditEntry
from readerstudy.cases.ingest import import_study
from readerstudy.cases.models import HematomaMask, TruthLesion
from readerstudy.panels import mask_restore
from readerstudy.panels.errors import PanelError
from readerstudy.panels.models import CaseMaskWrite, PanelTruth
from readerstudy.panels.selectors import mask_provenance
from readerstudy.studies.truth_source import set_truth_source

from .test_case_truth_masks import _finished, _imported, _study

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(tmp_path):
    """A phantom case with one series (as ``test_case_truth_masks``)."""
    from phantoms import generate_dataset

    records = generate_dataset(tmp_path / "ph", 1, 5, matrix=64, positive_fraction=1.0)
    return import_study(tmp_path / "ph" / records[0]["case_id"]).case


def _voxel_ml(case) -> float:
    s = case.primary_series
    return s.pixel_spacing_row * s.pixel_spacing_col * s.slice_spacing / 1000


def test_the_replaced_mask_comes_back_with_its_lesions(case, client):
    panel, coordinator = _finished(client, case)
    imported = _imported(case)
    study = _study(case)
    set_truth_source(study, panel.pk, replace_masks=True, user=coordinator)
    consensus = PanelTruth.objects.get(panel=panel).mask_file
    assert HematomaMask.objects.get(case=case).file == consensus
    assert TruthLesion.objects.get(case=case).voxels == 100

    set_truth_source(study, None, user=coordinator)

    mask = HematomaMask.objects.get(case=case)
    assert (mask.file, mask.voxels, mask.series_id) == (imported.file, 50, case.primary_series_id)
    assert mask.volume_ml == pytest.approx(50 * _voxel_ml(case))
    assert TruthLesion.objects.get(case=case).voxels == 50  # derived again from it
    record = CaseMaskWrite.objects.first()
    assert (record.outcome, record.file, record.previous_file, record.voxels) == (
        "restored", imported.file, consensus, 50,
    )  # fmt: skip
    assert (record.study_id, record.decided_by, record.replace_chosen) == (
        study.pk, coordinator, False,
    )  # fmt: skip
    assert mask_provenance(case) is None  # the imported mask again
    entry = AuditEntry.objects.get(kind="panel.case_masks_restored")
    assert entry.additional_data["outcomes"] == {"restored": 1}
    set_truth_source(study, None, user=coordinator)  # chosen again: nothing more to give back
    assert CaseMaskWrite.objects.filter(outcome="restored").count() == 1


def test_a_mask_the_panel_wrote_goes_and_a_kept_one_stays(case, client):
    panel, coordinator = _finished(client, case)
    study = _study(case)
    set_truth_source(study, panel.pk, user=coordinator)
    assert CaseMaskWrite.objects.get().outcome == "written"
    set_truth_source(study, None, user=coordinator)
    assert not HematomaMask.objects.filter(case=case).exists()
    record = CaseMaskWrite.objects.first()
    assert (record.outcome, record.file, record.voxels) == ("restored", "", 0)

    imported = _imported(case, lesions=False)
    set_truth_source(study, panel.pk, replace_masks=False, user=coordinator)
    set_truth_source(study, None, user=coordinator)
    assert HematomaMask.objects.get(case=case).file == imported.file
    assert CaseMaskWrite.objects.first().outcome == "kept"  # nothing to give back


def test_a_mask_another_study_reads_is_given_back_when_the_last_study_leaves(case, client):
    panel, coordinator = _finished(client, case)
    imported = _imported(case, lesions=False)
    study, other = _study(case), _study(case)
    set_truth_source(study, panel.pk, replace_masks=True, user=coordinator)
    set_truth_source(other, panel.pk, user=coordinator)
    consensus = PanelTruth.objects.get(panel=panel).mask_file

    set_truth_source(study, None, user=coordinator)
    assert HematomaMask.objects.get(case=case).file == consensus
    assert CaseMaskWrite.objects.first().outcome == "left_in_use"

    set_truth_source(other, None, user=coordinator)  # the last study on the panel leaves
    mask = HematomaMask.objects.get(case=case)
    assert (mask.file, mask.voxels) == (imported.file, 50)
    record = CaseMaskWrite.objects.first()
    assert (record.outcome, record.study_id, record.file) == ("restored", other.pk, imported.file)


def test_a_changed_mask_is_left_as_it_is(case, client):
    panel, coordinator = _finished(client, case)
    imported = _imported(case, lesions=False)
    study = _study(case)
    set_truth_source(study, panel.pk, replace_masks=True, user=coordinator)
    HematomaMask.objects.filter(case=case).update(file=imported.file, voxels=50)
    set_truth_source(study, None, user=coordinator)
    record = CaseMaskWrite.objects.first()
    assert (record.outcome, record.file, record.voxels) == ("left_changed", imported.file, 50)


def test_nothing_is_stored_half_way(case, client, monkeypatch):
    panel, coordinator = _finished(client, case)
    _imported(case)
    study = _study(case)
    set_truth_source(study, panel.pk, replace_masks=True, user=coordinator)
    consensus = PanelTruth.objects.get(panel=panel).mask_file

    def broken(case):
        raise ValueError("the mask has no component")

    monkeypatch.setattr(mask_restore, "extract_mask_lesions", broken)
    with pytest.raises(PanelError) as exc:
        set_truth_source(study, None, user=coordinator)
    assert exc.value.code == "bad_restored_mask"
    study.refresh_from_db()
    assert study.truth_panel_id == panel.pk
    assert HematomaMask.objects.get(case=case).file == consensus
    assert TruthLesion.objects.get(case=case).voxels == 100
    assert not CaseMaskWrite.objects.filter(outcome="restored").exists()


def test_another_panel_writes_after_the_first_gives_back(case, client):
    first, coordinator = _finished(client, case)
    second, _ = _finished(client, case)
    imported = _imported(case, lesions=False)
    study = _study(case)
    set_truth_source(study, first.pk, replace_masks=True, user=coordinator)
    set_truth_source(study, second.pk, replace_masks=False, user=coordinator)
    assert HematomaMask.objects.get(case=case).file == imported.file  # given back, then kept
    latest = list(CaseMaskWrite.objects.values_list("panel_id", "outcome")[:2])
    assert latest == [(second.pk, "kept"), (first.pk, "restored")]
