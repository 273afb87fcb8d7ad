"""The panels' section of a case's page: where the case's truth mask came from (a panel's
consensus written for a reader study, or imported) and what the panels' consensus masks did
to it. Registered with ``cases.case_sections`` at start-up (the case library cannot import
the panels)."""

from readerstudy.cases.case_sections import CaseSection
from readerstudy.cases.models import HematomaMask

TEMPLATE = "panels/_case_mask_provenance.html"


def mask_provenance_section(case) -> CaseSection | None:
    """The case's truth mask and its provenance; None for a case with neither a truth mask nor
    a record of a panel's consensus."""
    from .selectors import case_mask_writes, mask_provenance  # not at start-up: statsmodels

    mask = HematomaMask.objects.filter(case=case).select_related("series").first()
    history = case_mask_writes(case)
    if mask is None and not history:
        return None
    written = mask_provenance(case) if mask is not None else None
    return CaseSection(TEMPLATE, {"mask": mask, "written": written, "history": history})
