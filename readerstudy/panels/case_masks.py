"""A finished panel's consensus masks become the cases' own truth masks.

The case's truth mask (``cases.HematomaMask``) is the one FROC scoring, lesion derivation and
the aided view read. When a reader study takes its truth from a finished panel that drew
hematoma masks, each case's non-empty consensus is written as that mask, unless the case
already has another truth mask (imported, or from another panel) and the coordinator chose
to keep it: choosing the truth source says ``replace`` or not, and every case's outcome is
recorded (:class:`~readerstudy.panels.models.CaseMaskWrite`: panel, method consensus /
adjudicated, the mask replaced, who, when). An empty consensus removes an existing mask only
when replacing was chosen. A case whose lesions were derived from the mask it had gets them
derived again from the new one (equal weights); mask-derived lesions of a removed mask go.

:func:`write_case_masks` runs inside the caller's transaction (the truth source's), so the
study's truth source, the masks, the lesions and the record are stored together or not at all.
"""

from collections import Counter

from django.utils import timezone

from readerstudy import audit
from readerstudy.cases.lesions import extract_mask_lesions
from readerstudy.cases.models import HematomaMask, TruthLesion

from . import labels as L
from .errors import PanelError
from .models import CaseMaskWrite, Panel, PanelItem, PanelTruth

Outcome = CaseMaskWrite.Outcome
CHANGED = {Outcome.WRITTEN, Outcome.REPLACED, Outcome.REMOVED}


def draws_masks(panel: Panel) -> bool:
    return L.HEMATOMA_MASK in panel.labels


def write_case_masks(
    panel: Panel, *, replace: bool, user=None, study_id: int | None = None, case_ids=None
) -> list[CaseMaskWrite]:
    """Write the panel's consensus masks as the truth masks of its cases (``case_ids``: only
    these) and record each case's outcome; nothing for a panel without masks."""
    if not draws_masks(panel) or not panel.is_finished:
        return []
    rows = PanelTruth.objects.filter(panel=panel).select_related("case__primary_series")
    if case_ids is not None:
        rows = rows.filter(case_id__in=list(case_ids))
    truths = list(rows)
    adjudicated = set(
        PanelItem.objects.filter(
            panel_case__panel=panel, key=L.ICH_PRESENT, method=PanelItem.Method.ADJUDICATION
        ).values_list("panel_case__case_id", flat=True)
    )
    existing = {
        m.case_id: m for m in HematomaMask.objects.filter(case_id__in=[t.case_id for t in truths])
    }
    now = timezone.now()
    writes = []
    for truth in truths:
        current = existing.get(truth.case_id)
        outcome = _apply(truth, current, replace)
        writes.append(
            CaseMaskWrite(
                panel=panel,
                case=truth.case,
                study_id=study_id,
                outcome=outcome,
                method=CaseMaskWrite.Method.ADJUDICATED
                if truth.case_id in adjudicated
                else CaseMaskWrite.Method.CONSENSUS,
                replace_chosen=replace,
                file=truth.mask_file,
                sha256=truth.mask_sha256,
                voxels=truth.mask_voxels or 0,
                previous_file=current.file if current is not None and outcome in CHANGED else "",
                decided_by=user if getattr(user, "is_authenticated", False) else None,
                at=now,
            )  # fmt: skip
        )
    CaseMaskWrite.objects.bulk_create(writes)
    counts = Counter(str(w.outcome) for w in writes)
    audit.record(
        user, "panel.case_masks", panel, study=study_id, replace=replace, outcomes=dict(counts)
    )
    return writes


def _apply(truth: PanelTruth, current: HematomaMask | None, replace: bool) -> str:
    case = truth.case
    if not truth.mask_file:
        if current is None:
            return Outcome.EMPTY
        if not replace:
            return Outcome.KEPT
        current.delete()
        TruthLesion.objects.filter(case=case, source=TruthLesion.Source.MASK).delete()
        return Outcome.REMOVED
    if current is not None and current.file == truth.mask_file:
        return Outcome.UNCHANGED
    if current is not None and not replace:
        return Outcome.KEPT
    if case.primary_series is None:
        raise PanelError("no_series", f"case {case.code} has no series for its truth mask")
    derived = TruthLesion.objects.filter(case=case, source=TruthLesion.Source.MASK).exists()
    HematomaMask.objects.update_or_create(
        case=case,
        defaults={
            "series": case.primary_series,
            "file": truth.mask_file,
            "voxels": truth.mask_voxels or 0,
            "volume_ml": truth.mask_volume_ml or 0.0,
        },
    )
    if derived:
        try:
            extract_mask_lesions(case)
        except ValueError as exc:
            raise PanelError("bad_consensus_mask", f"case {case.code}: {exc}") from None
    return Outcome.REPLACED if current is not None else Outcome.WRITTEN
