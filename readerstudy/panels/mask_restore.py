"""A study that leaves a panel (its truth imported again, or from another panel) gives its
cases back the truth masks the panel's consensus replaced or removed (``previous_file``).

For each case, the last record of the panel that changed the case's mask (written /
replaced / removed, for this study or another; since the last giving back) says what to give
back: nothing for a mask it wrote where the case had none (the mask goes), the file it
replaced or removed otherwise. A case is left as it is, and the record says why, when its
mask is no longer what the panel wrote (changed since), when another study still takes its
truth from the panel (``in_use``), or when the replaced file is gone; a mask left for another
study is given back when the last study on the panel leaves it. Lesions derived from the
mask are derived again from the mask given back (or go with it; a removed mask's lesions are
not derived again). Every case's outcome is recorded; :func:`restore_case_masks` runs in the
caller's transaction (the truth source's), so it is all stored together or not at all.
"""

import hashlib
from collections import Counter
from collections.abc import Iterable

from django.core.files.storage import default_storage
from django.utils import timezone

from readerstudy import audit
from readerstudy.ai.outputs import read_volume
from readerstudy.cases.lesions import extract_mask_lesions
from readerstudy.cases.models import Case, HematomaMask, TruthLesion

from .errors import PanelError
from .models import CaseMaskWrite, Panel

Outcome = CaseMaskWrite.Outcome
CHANGED = (Outcome.WRITTEN, Outcome.REPLACED, Outcome.REMOVED)
#: the outcomes of a giving back that settle what the panel changed before (a mask left
#: because another study reads it is given back when the last study on the panel leaves)
SETTLED = (Outcome.RESTORED, Outcome.LEFT_CHANGED, Outcome.LEFT_MISSING)


def restore_case_masks(
    panel: Panel, *, study_id: int, case_ids: Iterable[int], in_use: Iterable[int] = (), user=None
) -> list[CaseMaskWrite]:
    """Give back the truth masks the panel's consensus changed (``case_ids``: the cases of
    the study leaving it; ``in_use``: cases another study on the panel still reads); the
    records written (for ``study_id``), one per case the panel changed."""
    last: dict[int, CaseMaskWrite] = {}
    for write in CaseMaskWrite.objects.filter(
        panel=panel, case_id__in=list(case_ids), outcome__in=CHANGED + SETTLED
    ).order_by("at", "id"):
        if write.outcome in SETTLED:
            last.pop(write.case_id, None)
        else:
            last[write.case_id] = write
    if not last:
        return []
    current = {m.case_id: m for m in HematomaMask.objects.filter(case_id__in=list(last))}
    cases = Case.objects.select_related("primary_series").in_bulk(list(last))
    busy, now = set(in_use), timezone.now()
    records = []
    for case_id, write in sorted(last.items()):
        outcome, file, voxels = _restore(
            cases[case_id], write, current.get(case_id), case_id in busy
        )
        records.append(
            CaseMaskWrite(
                panel=panel,
                case_id=case_id,
                study_id=study_id,
                outcome=outcome,
                method=write.method,
                replace_chosen=False,
                file=file,
                sha256=_sha256(file) if file else "",
                voxels=voxels,
                previous_file=write.file if outcome == Outcome.RESTORED else "",
                decided_by=user if getattr(user, "is_authenticated", False) else None,
                at=now,
            )  # fmt: skip
        )
    CaseMaskWrite.objects.bulk_create(records)
    counts = Counter(str(r.outcome) for r in records)
    audit.record(user, "panel.case_masks_restored", panel, study=study_id, outcomes=dict(counts))
    return records


def _restore(case: Case, write: CaseMaskWrite, current: HematomaMask | None, busy: bool):
    """(outcome, the case's mask file and its voxels afterwards) of giving back what
    ``write`` changed."""
    now = current.file if current is not None else ""
    kept = (now, current.voxels if current is not None else 0)
    if now != (write.file if write.outcome != Outcome.REMOVED else ""):
        return Outcome.LEFT_CHANGED, *kept
    if busy:
        return Outcome.LEFT_IN_USE, *kept
    previous = write.previous_file
    if previous and not default_storage.exists(previous):
        return Outcome.LEFT_MISSING, *kept
    derived = TruthLesion.objects.filter(case=case, source=TruthLesion.Source.MASK)
    if not previous:
        if current is not None:
            current.delete()
        derived.delete()
        return Outcome.RESTORED, "", 0
    series = case.primary_series
    if series is None:
        raise PanelError("no_series", f"case {case.code} has no series for its truth mask")
    voxels = _voxels(previous)
    voxel_ml = series.pixel_spacing_row * series.pixel_spacing_col * series.slice_spacing / 1000
    had_lesions = derived.exists()
    HematomaMask.objects.update_or_create(
        case=case,
        defaults={
            "series": series, "file": previous, "voxels": voxels,
            "volume_ml": float(voxels * voxel_ml),
        },
    )  # fmt: skip
    if had_lesions:
        try:
            extract_mask_lesions(case)
        except ValueError as exc:
            raise PanelError("bad_restored_mask", f"case {case.code}: {exc}") from None
    return Outcome.RESTORED, previous, voxels


def _voxels(name: str) -> int:
    return int((read_volume(name).array > 0).sum())


def _sha256(name: str) -> str:
    digest = hashlib.sha256()
    with default_storage.open(name, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
