"""Who may export a study's reads, and whether the export may carry ground truth.

Statisticians get exports once the study is closed, or earlier when a coordinator grants it.
Coordinators may follow the reads at any time, but when the study keeps them blinded
(``blind_coordinators``) the reads are not joined to truth until the study closes.
"""

from dataclasses import dataclass

from readerstudy.studies.models import ReaderStudy


@dataclass(frozen=True)
class ExportRights:
    allowed: bool
    with_truth: bool
    reason: str = ""


def export_rights(user, study: ReaderStudy) -> ExportRights:
    closed = study.status == ReaderStudy.Status.CLOSED
    if not user.is_authenticated:
        return ExportRights(False, False, "authentication required")
    if user.is_platform_admin:
        return ExportRights(True, True)
    if user.is_coordinator:
        return ExportRights(True, closed or not study.blind_coordinators)
    if user.is_statistician:
        if closed or study.statistician_access:
            return ExportRights(True, True)
        return ExportRights(False, False, "exports open to statisticians when the study closes")
    return ExportRights(False, False, "readers cannot export reads")
