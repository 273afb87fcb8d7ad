"""Where a study's truth comes from: a finished truth panel, or the cases' imported truth.

Every read of a study's truth (the opening check, the case table, the exports) goes through
:func:`study_truths`, so a study on a panel is scored on the panel's values even when the
case's imported truth changes later.
"""

from django.db import transaction
from django.db.models import QuerySet

from readerstudy.cases.models import GroundTruth
from readerstudy.panels.case_masks import write_case_masks
from readerstudy.panels.mask_restore import restore_case_masks
from readerstudy.panels.models import Panel, PanelTruth

from .errors import ProtocolConflict, StudyError
from .models import ReaderStudy, StudyCase


def study_truths(study: ReaderStudy) -> dict:
    """Per case id, the truth the study uses (a ``PanelTruth`` or a ``GroundTruth``)."""
    rows: QuerySet
    if study.truth_panel_id:
        rows = PanelTruth.objects.filter(panel_id=study.truth_panel_id)
    else:
        rows = GroundTruth.objects.all()
    rows = rows.filter(case__study_memberships__study=study).select_related("case")
    return {truth.case_id: truth for truth in rows}


def describe(study: ReaderStudy) -> dict:
    """The study's truth source as pages and exports record it."""
    panel = study.truth_panel
    if panel is None:
        return {"source": "import", "panel": None, "panel_title": None}
    return {
        "source": "panel",
        "panel": panel.pk,
        "panel_title": panel.title,
        "panel_rule": panel.rule,
        "panel_finished_at": panel.finished_at.isoformat() if panel.finished_at else None,
    }


def set_truth_source(
    study: ReaderStudy, panel_id: int | None, *, replace_masks: bool = False, user=None
) -> ReaderStudy:
    """Take the truth from a finished panel (``panel_id``) or from imports (None); drafts only.

    A panel that drew hematoma masks writes its consensus masks as the study's cases' truth
    masks in the same transaction; ``replace_masks``: also where a case has another one (the
    coordinator's recorded choice, see ``panels.case_masks``). Leaving a panel (for imports or
    another panel) first gives the cases back the masks its consensus replaced or removed for
    this study, where no other study on that panel still reads them (``panels.mask_restore``)."""
    with transaction.atomic():
        study = ReaderStudy.objects.select_for_update().get(pk=study.pk)
        if study.status != ReaderStudy.Status.DRAFT:
            raise ProtocolConflict(
                "study_frozen", "the truth source is fixed once the study is opened"
            )
        panel = None
        if panel_id is not None:
            panel = Panel.objects.filter(pk=panel_id).first()
            if panel is None:
                raise StudyError("unknown_panel", f"no truth panel {panel_id}")
            if not panel.is_finished:
                raise StudyError(
                    "panel_not_finished", f"the panel “{panel.title}” is not finalized yet"
                )
        left = study.truth_panel
        study.truth_panel = panel
        study.save(update_fields=["truth_panel"])
        if left is not None and left != panel:
            _give_back_masks(study, left, user)
        if panel is not None:
            write_case_masks(
                panel, replace=replace_masks, user=user, study_id=study.pk,
                case_ids=study.study_cases.values_list("case_id", flat=True),
            )  # fmt: skip
    return study


def _give_back_masks(study: ReaderStudy, panel: Panel, user) -> None:
    case_ids = list(study.study_cases.values_list("case_id", flat=True))
    in_use = (
        StudyCase.objects.filter(study__truth_panel=panel, case_id__in=case_ids)
        .exclude(study=study)
        .values_list("case_id", flat=True)
    )
    restore_case_masks(panel, study_id=study.pk, case_ids=case_ids, in_use=list(in_use), user=user)
