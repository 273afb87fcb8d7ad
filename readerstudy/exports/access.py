"""Who may export a study's reads, and whether the export may carry ground truth.

Whether truth may be shown is decided by :func:`readerstudy.studies.blinding.truth_access`
alone. Exports add who may export at all: admins, coordinators (who may follow the reads at
any time, without truth while blinded) and statisticians (once the study closes, or earlier
when a coordinator grants it). Analysis runs always contain truth, so every analysis route
(list, detail, page, report files) needs both.
"""

from dataclasses import dataclass

from readerstudy.studies.blinding import truth_access
from readerstudy.studies.models import ReaderStudy


@dataclass(frozen=True)
class ExportRights:
    allowed: bool
    with_truth: bool
    reason: str = ""


def export_rights(user, study: ReaderStudy) -> ExportRights:
    if not user.is_authenticated:
        return ExportRights(False, False, "authentication required")
    truth = truth_access(user, study)
    if user.is_platform_admin or user.is_coordinator:
        return ExportRights(True, truth.visible, truth.reason)
    if user.is_statistician:
        if truth.visible:
            return ExportRights(True, True)
        return ExportRights(False, False, "exports open to statisticians when the study closes")
    return ExportRights(False, False, "readers cannot export reads")


def analysis_rights(user, study: ReaderStudy) -> ExportRights:
    """Analysis runs (and every file of them) carry truth: export rights *and* truth access."""
    rights = export_rights(user, study)
    if rights.allowed and not rights.with_truth:
        return ExportRights(
            False, False, f"analysis runs contain ground truth: {rights.reason or 'withheld'}"
        )
    return rights
