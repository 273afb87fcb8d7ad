"""Analysis runs, web side: requested (queued on commit) and cancelled here.

The worker builds the report in :mod:`.runner`; reads of a run are in :mod:`.selectors`.
"""

from django.db import transaction

from readerstudy.studies.errors import ProtocolConflict
from readerstudy.studies.models import ReaderStudy

from .models import AnalysisRun
from .tasks import run_analysis


def request_analysis(study: ReaderStudy, *, user, with_truth: bool, options: dict) -> AnalysisRun:
    if not with_truth:
        raise ProtocolConflict(
            "blinded", "the analysis needs ground truth, which is withheld until the study closes"
        )
    with transaction.atomic():
        run = AnalysisRun.objects.create(study=study, requested_by=user, options=dict(options))
        transaction.on_commit(lambda: run_analysis.delay(run_id=str(run.pk)))
    return run


def cancel_analysis(run: AnalysisRun) -> AnalysisRun:
    """A queued run never starts; a running one stops at its next phase and keeps no files.

    Raises :class:`readerstudy.core.jobs.InvalidTransition` (409) for a finished run.
    """
    return run.cancel()


def set_localization_scoring(study: ReaderStudy, *, user, fields: dict):
    """Store how the study's lesion marks are scored (validated fields of
    ``LocalizationScoringSerializer``); the marks question must exist."""
    from readerstudy import audit

    from .froc_data import marks_question
    from .models import LocalizationScoring

    marks_question(study, fields.get("question_code", ""))
    with transaction.atomic():
        scoring, _ = LocalizationScoring.objects.update_or_create(study=study, defaults=fields)
        audit.record(user, "froc.scoring", scoring, study=study, **fields)
    return scoring
