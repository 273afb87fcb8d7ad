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
    """Opening refused: cases without truth for the study's endpoints.

    ``by_endpoint`` maps each endpoint code to its cases; ``cases`` is every case named.
    """

    status = 409
    SHOWN = 50

    def __init__(self, by_endpoint: dict[str, list[str]], described: dict[str, str]):
        self.by_endpoint = by_endpoint
        self.cases = sorted({code for codes in by_endpoint.values() for code in codes})
        parts = []
        for endpoint, cases in by_endpoint.items():
            shown = ", ".join(cases[: self.SHOWN])
            more = f" and {len(cases) - self.SHOWN} more" if len(cases) > self.SHOWN else ""
            parts.append(
                f"{len(cases)} case(s) have no truth for the endpoint {endpoint!r} "
                f"({described[endpoint]}): {shown}{more}"
            )
        super().__init__(
            "truth_missing",
            "; ".join(parts) + '. Add their truth, or open with "truth will be added later".',
        )
