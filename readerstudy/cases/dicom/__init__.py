"""Django-free DICOM core of the case library.

* :mod:`.deid` - PS3.15 Annex E Basic Profile + Modified Dates + Clean Descriptors options,
  table-driven (``annex_e_table.csv``), with quarantine of burned-in/secondary-capture images.
* :mod:`.uids` - deterministic keyed UID replacement.
* :mod:`.series` - series grouping, sorting, validation, primary choice, HU volume, NIfTI.
* :mod:`.archives` - safe zip handling and folder walking.
* :mod:`.dicomio` - reading with typed errors.
* :mod:`.values` - checks of the numeric attributes the importer computes with or stores.
* :mod:`.ingest` - :func:`prepare_upload`, the single entry point for the Django service.

No Django imports here.
"""

from .archives import ArchiveLimits
from .deid import Deidentifier, DeidLog, DeidOptions, check_quarantine, deidentify
from .dicomio import read_dicom
from .errors import (
    ArchiveError,
    DicomIngestError,
    ErrorCode,
    IngestError,
    QuarantineError,
    Severity,
    safe_file_label,
)
from .ingest import (
    PHASE_DEIDENTIFYING,
    PHASE_VALIDATING,
    IngestOptions,
    PreparedImport,
    PreparedSeries,
    Progress,
    prepare_upload,
)
from .series import SeriesInfo, SeriesLimits
from .uids import UIDRemapper

__all__ = [
    "PHASE_DEIDENTIFYING",
    "PHASE_VALIDATING",
    "ArchiveError",
    "ArchiveLimits",
    "DeidLog",
    "DeidOptions",
    "Deidentifier",
    "DicomIngestError",
    "ErrorCode",
    "IngestError",
    "IngestOptions",
    "PreparedImport",
    "PreparedSeries",
    "Progress",
    "QuarantineError",
    "SeriesInfo",
    "SeriesLimits",
    "Severity",
    "UIDRemapper",
    "check_quarantine",
    "deidentify",
    "prepare_upload",
    "read_dicom",
    "safe_file_label",
]
