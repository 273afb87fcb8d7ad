"""Errors of the study and reading services, with a stable code for API clients."""

from readerstudy.core.errors import DomainError


class StudyError(DomainError):
    """A request the protocol does not allow."""

    status = 400


class ProtocolConflict(StudyError):
    status = 409


class NotAvailable(StudyError):
    """Answered as 404: the caller may not learn whether the object exists."""

    status = 404


class TruthMissing(StudyError):
    """Opening refused: cases without truth for the study's endpoint (codes in ``cases``)."""

    status = 409
    SHOWN = 50

    def __init__(self, study, cases: list[str]):
        self.cases = cases
        shown = ", ".join(cases[: self.SHOWN])
        more = f" and {len(cases) - self.SHOWN} more" if len(cases) > self.SHOWN else ""
        super().__init__(
            "truth_missing",
            f"{len(cases)} case(s) have no truth for the endpoint "
            f"({study.positive_label} / {study.negative_label}): {shown}{more}. "
            'Add their truth, or open with "truth will be added later".',
        )
