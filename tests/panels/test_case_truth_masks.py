"""A finished panel's consensus mask becomes the case's own truth mask when a reader study
takes its truth from the panel; an existing mask is kept unless the coordinator chooses to
replace it; each case's outcome is recorded; and it is all one transaction."""

import pytest
from django.test import TestCase

from readerstudy.audit.models import AuditEntry
from readerstudy.cases.ingest import import_study
from readerstudy.cases.lesions import extract_mask_lesions
from readerstudy.cases.models import HematomaMask, TruthLesion
from readerstudy.panels import case_masks, services
from readerstudy.panels.errors import PanelError
from readerstudy.panels.models import CaseMaskWrite, PanelMask, PanelTruth, Rule
from readerstudy.panels.selectors import mask_provenance
from readerstudy.studies import services as study_services
from readerstudy.studies.models import Design
from readerstudy.studies.truth_source import set_truth_source
from tests.factories import AdjudicatorFactory, AnnotatorFactory, CoordinatorFactory

from .test_panel_masks import _as, _box, _draw

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(tmp_path):
    from phantoms import generate_dataset

    records = generate_dataset(tmp_path / "ph", 1, 5, matrix=64, positive_fraction=1.0)
    return import_study(tmp_path / "ph" / records[0]["case_id"]).case


def _finished(client, case, *, rule=Rule.MAJORITY, third_says_no=False):
    """Three annotators draw boxes (A3 elsewhere, or says no ICH): the consensus is A1 and
    A2's overlap, 2 slices x 10 x 5 = 100 voxels."""
    annotators = [AnnotatorFactory() for _ in range(3)]
    adjudicator, coordinator = AdjudicatorFactory(), CoordinatorFactory()
    panel = services.create_panel(
        title="Mask panel", cases=[case], annotators=annotators, adjudicator=adjudicator,
        labels=["ich_present", "hematoma_mask"], rule=rule, created_by=coordinator,
    )  # fmt: skip
    series = case.primary_series
    _draw(client, panel, case, annotators[0], _box(series, (20, 30), (20, 30)))
    if third_says_no:
        _draw(client, panel, case, annotators[1], _box(series, (20, 30), (25, 35)))
        with TestCase.captureOnCommitCallbacks(execute=True):
            services.annotate(annotators[2], panel.pk, case.code, {"ich_present": False})
        services.adjudicate(adjudicator, panel.pk, case.code, "ich_present", True)
    else:
        _draw(client, panel, case, annotators[2], _box(series, (40, 45), (40, 45)))
        _draw(client, panel, case, annotators[1], _box(series, (20, 30), (25, 35)))
    return services.finalize(coordinator, panel.pk), coordinator


def _study(case):
    study = study_services.create_study(
        title="Masks", design=Design.UNAIDED_ONLY, randomization_seed=3
    )
    study_services.add_cases(study, [case])
    return study


def _imported(case, *, lesions=True) -> HematomaMask:
    """An imported truth mask of the case (a box elsewhere), its lesions derived from it."""
    upload = PanelMask.objects.filter(panel_case__case=case, voxels=2 * 5 * 5).first()
    mask = HematomaMask.objects.create(
        case=case, series=case.primary_series, file=upload.file, voxels=upload.voxels,
        volume_ml=1.0,
    )  # fmt: skip
    if lesions:
        extract_mask_lesions(case)
    return mask


def test_the_consensus_becomes_the_case_truth_mask_with_its_provenance(case, client):
    panel, coordinator = _finished(client, case)
    truth = PanelTruth.objects.get(panel=panel)
    assert not HematomaMask.objects.filter(case=case).exists()
    study = _study(case)
    set_truth_source(study, panel.pk, user=coordinator)
    mask = HematomaMask.objects.get(case=case)
    assert (mask.file, mask.voxels, mask.series_id) == (
        truth.mask_file,
        100,
        case.primary_series_id,
    )
    assert mask.volume_ml == pytest.approx(truth.mask_volume_ml)
    write = CaseMaskWrite.objects.get(case=case)
    assert (write.outcome, write.method, write.study_id) == ("written", "consensus", study.pk)
    assert (write.panel_id, write.decided_by, write.sha256) == (
        panel.pk,
        coordinator,
        truth.mask_sha256,
    )
    assert write.previous_file == "" and write.replace_chosen is False
    assert mask_provenance(case) == write
    entry = AuditEntry.objects.filter(kind="panel.case_masks").get()
    assert entry.additional_data["outcomes"] == {"written": 1}
    set_truth_source(study, panel.pk)  # chosen again: the mask already is the consensus
    assert CaseMaskWrite.objects.filter(case=case).first().outcome == "unchanged"
    assert HematomaMask.objects.get(case=case).file == truth.mask_file


def test_an_imported_mask_is_kept_unless_replacing_is_chosen(case, client):
    panel, coordinator = _finished(client, case)
    imported = _imported(case)
    assert TruthLesion.objects.get(case=case).voxels == 50
    study = _study(case)
    set_truth_source(study, panel.pk, replace_masks=False, user=coordinator)
    assert HematomaMask.objects.get(case=case).file == imported.file
    assert CaseMaskWrite.objects.get().outcome == "kept"
    assert mask_provenance(case) is None  # still the imported mask
    assert TruthLesion.objects.get(case=case).voxels == 50

    set_truth_source(study, panel.pk, replace_masks=True, user=coordinator)
    truth = PanelTruth.objects.get(panel=panel)
    mask = HematomaMask.objects.get(case=case)
    assert (mask.file, mask.voxels) == (truth.mask_file, 100)
    write = CaseMaskWrite.objects.first()
    assert (write.outcome, write.previous_file, write.replace_chosen) == (
        "replaced", imported.file, True,
    )  # fmt: skip
    lesion = TruthLesion.objects.get(case=case)  # derived again from the consensus
    assert (lesion.voxels, lesion.source) == (100, TruthLesion.Source.MASK)


def test_nothing_is_stored_half_way(case, client, monkeypatch):
    panel, coordinator = _finished(client, case)
    imported = _imported(case)
    study = _study(case)

    def broken(case):
        raise ValueError("the consensus has no component")

    monkeypatch.setattr(case_masks, "extract_mask_lesions", broken)
    with pytest.raises(PanelError, match="no component") as exc:
        set_truth_source(study, panel.pk, replace_masks=True, user=coordinator)
    assert exc.value.code == "bad_consensus_mask"
    study.refresh_from_db()
    assert study.truth_panel_id is None  # the truth source is not changed either
    assert HematomaMask.objects.get(case=case).file == imported.file
    assert TruthLesion.objects.get(case=case).voxels == 50
    assert not CaseMaskWrite.objects.exists()


def test_an_adjudicated_case_records_the_method(case, client):
    panel, coordinator = _finished(client, case, rule=Rule.UNANIMOUS, third_says_no=True)
    set_truth_source(_study(case), panel.pk, user=coordinator)
    write = CaseMaskWrite.objects.get()
    assert (write.outcome, write.method, write.voxels) == ("written", "adjudicated", 100)


def test_the_study_page_asks_keep_or_replace_and_shows_what_was_done(case, client):
    panel, coordinator = _finished(client, case)
    imported = _imported(case, lesions=False)
    study = _study(case)
    c = _as(client, coordinator)
    page = c.get(f"/studies/{study.pk}/").content.decode()
    assert 'id="truth-masks-choice"' in page
    assert "<strong>1 of 1 case</strong> already has another truth mask" in page
    assert 'value="keep" id="id_masks_keep" checked' in page
    url = f"/studies/{study.pk}/truth-source/"
    bad = c.post(url, {"panel": panel.pk, "masks": "maybe"}, follow=True).content.decode()
    assert "keep or to replace" in bad
    assert HematomaMask.objects.get(case=case).file == imported.file
    c.post(url, {"panel": panel.pk, "masks": "replace"})
    assert HematomaMask.objects.get(case=case).file == PanelTruth.objects.get().mask_file
    page = c.get(f"/studies/{study.pk}/").content.decode()
    assert 'id="truth-mask-writes"' in page and "existing masks replaced" in page
    assert "1 replaced the case&#x27;s existing mask" in page
    assert coordinator.username in page


def test_an_empty_consensus_removes_a_mask_only_when_replacing(case, client):
    a1, a2 = AnnotatorFactory(), AnnotatorFactory()
    adjudicator, coordinator = AdjudicatorFactory(), CoordinatorFactory()
    panel = services.create_panel(
        title="Tie", cases=[case], annotators=[a1, a2], adjudicator=adjudicator,
        labels=["ich_present", "hematoma_mask"],
    )  # fmt: skip
    _draw(client, panel, case, a1, _box(case.primary_series, (20, 25), (20, 25)))
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.annotate(a2, panel.pk, case.code, {"ich_present": False})
    services.adjudicate(adjudicator, panel.pk, case.code, "ich_present", False)
    services.finalize(coordinator, panel.pk)
    assert PanelTruth.objects.get().mask_file == ""  # 1 of 2 is no majority
    imported = _imported(case)
    study = _study(case)
    set_truth_source(study, panel.pk, user=coordinator)
    assert CaseMaskWrite.objects.first().outcome == "kept"
    assert HematomaMask.objects.filter(case=case).exists()
    set_truth_source(study, panel.pk, replace_masks=True, user=coordinator)
    write = CaseMaskWrite.objects.first()
    assert (write.outcome, write.previous_file) == ("removed", imported.file)
    assert not HematomaMask.objects.filter(case=case).exists()
    assert not TruthLesion.objects.filter(case=case).exists()
