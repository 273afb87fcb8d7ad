"""The one rule for ground truth: may this user see truth for this study now?

Every route that can carry truth (reads exports joined to truth, MRMC files, analysis runs,
their reports, plots and downloads) asks :func:`truth_access` and nothing else, so a new
route cannot apply a weaker rule by accident.

- Platform admins: always.
- Coordinators: once the study is closed, or at any time when the study does not blind
  them (``blind_coordinators`` off).
- Statisticians: once the study is closed, or earlier when a coordinator granted it
  (``statistician_access``).
- Readers and anonymous callers: never.
"""

from dataclasses import dataclass

from .models import ReaderStudy


@dataclass(frozen=True)
class TruthAccess:
    visible: bool
    reason: str = ""


WITHHELD_FROM_COORDINATORS = "ground truth is withheld from coordinators until the study closes"
WITHHELD_FROM_STATISTICIANS = "ground truth is withheld from statisticians until the study closes"


def truth_access(user, study: ReaderStudy) -> TruthAccess:
    if not user.is_authenticated:
        return TruthAccess(False, "authentication required")
    closed = study.status == ReaderStudy.Status.CLOSED
    if user.is_platform_admin:
        return TruthAccess(True)
    if user.is_coordinator:
        if closed or not study.blind_coordinators:
            return TruthAccess(True)
        return TruthAccess(False, WITHHELD_FROM_COORDINATORS)
    if user.is_statistician:
        if closed or study.statistician_access:
            return TruthAccess(True)
        return TruthAccess(False, WITHHELD_FROM_STATISTICIANS)
    return TruthAccess(False, "readers never see ground truth")
