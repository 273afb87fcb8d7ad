"""Errors of the case-library services."""

from readerstudy.core.errors import DomainError


class ImportFailed(DomainError):
    """Nothing was stored. ``errors`` lists every problem (dicts without PHI)."""

    status = 400

    def __init__(self, message: str, errors: list[dict]):
        super().__init__("import_failed", message)
        self.errors = errors


class LabelError(DomainError):
    status = 400

    def __init__(self, errors: list[str]):
        super().__init__("invalid_labels", "invalid labels: " + "; ".join(errors[:10]))
        self.errors = errors


class UploadRefused(DomainError):
    """An upload that cannot be taken (no files, not this job, job not waiting): nothing kept."""

    def __init__(self, code: str, message: str, status: int):
        super().__init__(code, message)
        self.status = status


class TruthInvalid(DomainError):
    """Ground-truth values that cannot be stored; ``problems`` is [(column, message)]."""

    status = 400

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("invalid_truth", "; ".join(message for _, message in problems))
        self.problems = problems


class ClinicalError(DomainError):
    """Clinical data that cannot be stored (nothing was); ``errors`` names row and column."""

    status = 400

    def __init__(self, errors: list[str]):
        super().__init__("invalid_clinical", "invalid clinical data: " + "; ".join(errors[:10]))
        self.errors = errors


class AnnotatorMaskError(DomainError):
    """Annotator masks that cannot be stored (none was); ``errors`` names the row and problem."""

    status = 400

    def __init__(self, errors: list[str]):
        super().__init__(
            "invalid_annotator_masks", "annotator masks not imported: " + "; ".join(errors[:10])
        )
        self.errors = errors
