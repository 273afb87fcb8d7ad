"""DICOM PS3.15 Annex E de-identification, driven by the standard's action table.

Profile and options implemented (claimed in ``DeidentificationMethodCodeSequence``):

* 113100 Basic Application Level Confidentiality Profile, from ``annex_e_table.csv``
  (PS3.15 Table E.1-1 as data; see the file header for its source and columns).
* 113107 Retain Longitudinal Temporal Information with Modified Dates Option (default on):
  every DA and DT value in the instance (table rows marked ``C`` in that option's column *and*
  any other DA/DT attribute, so no real date survives to reveal the offset) is moved by a whole
  number of days, the same for all instances of one patient: ``HMAC-SHA256(secret, PatientID)``
  gives an offset in ``[-max_date_shift_days, -1]``.  Intervals within a patient are kept; TM
  values are kept (whole-day shifts do not change times); ``LongitudinalTemporalInformation
  Modified`` is set to ``MODIFIED``.  Timezone offsets are removed (basic profile action).
* 113105 Clean Descriptors Option (default on): text attributes with ``C`` in that column keep
  only tokens from a fixed vocabulary of imaging terms (``HEAD``, ``AXIAL``, ``5MM``, kernel
  names like ``H30S``...) and short numbers; every other token is dropped, and a value with no
  token left becomes empty.  ``CT HEAD WO JOHN SMITH 1234567`` becomes ``CT HEAD WO``.
  Sequences in that column are removed (basic action).
* 113108 Retain Patient Characteristics Option (default off): age, sex, size, weight, smoking
  and pregnancy status kept; its ``C`` rows are cleaned like descriptors.

Local codes (whatever the options): a code item (CodeValue, LongCodeValue, URNCodeValue,
CodeMeaning or CodingSchemeDesignator present) in any retained sequence, at any depth, is kept
only when its CodingSchemeDesignator is one of :data:`STANDARD_CODING_SCHEMES` (PS3.16 Table
8-1 designators of public terminologies: DCM, SCT, SRT, SNM3, LN, RADLEX, UCUM, FMA, NCIt,
ICD-10...).  Any other scheme (``L``, ``LOCAL``, ``99``-prefixed or other private designators,
or none) is an institution's own code list whose meanings are free text (``DR SMITH NEURO
CLINIC``): the item is removed, and a sequence left with no item stays present and empty.
Items of Coding Scheme Identification Sequence describing such schemes go the same way.

Not claimed: Clean Pixel Data, Clean Recognizable Visual Features, Clean Graphics, Clean
Structured Content, Retain UIDs / Device / Institution Identity, Retain Safe Private.  Instances
that may carry identifying pixels are quarantined instead (:func:`check_quarantine`).

Resolution of the combined codes (no IOD model is consulted; each choice leaks nothing):
``X/Z``, ``Z/D`` and ``X/Z/D`` become ``Z`` (present, zero length: valid for Type 2 and 3);
``X/D`` becomes ``X``; ``X/Z/U*`` keeps the sequence and replaces every UID inside it.  ``D`` on a
text value writes a dummy (``ANONYMIZED``; PN ``ANONYMOUS``); ``D`` or ``Z`` on a sequence leaves
an empty sequence.  Not in the table: private attributes (odd groups), curves (50xx), overlays
(60xx), group lengths and public tags unknown to the data dictionary are removed; every other
UI value is replaced (see :mod:`.uids`); sequences are walked recursively; the rest is kept.
``PatientName`` and ``PatientID`` receive the caller's pseudonym.  The file meta group is
rebuilt (only SOP class / instance UIDs, transfer syntax and pydicom's implementation UID) and
the 128-byte preamble is zeroed.  Pixel data are never decoded or touched.

The per-instance :class:`DeidLog` lists attribute paths, keywords and action codes only, never
values.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import read_dataset
from pydicom.filewriter import write_dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    UID,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from .errors import ErrorCode, IngestError, QuarantineError
from .uids import UIDRemapper, keep_uid_attribute

__all__ = [
    "TABLE_VERSION",
    "DeidLog",
    "DeidOptions",
    "Deidentifier",
    "TableRow",
    "check_quarantine",
    "STANDARD_CODING_SCHEMES",
    "clean_descriptor",
    "deidentify",
    "is_local_code",
    "load_table",
]

TABLE_FILE = "annex_e_table.csv"
TABLE_VERSION = "PS3.15 E.1-1 (460 rows)"
IMPLEMENTATION_VERSION_NAME = "RSTUDY_DEID_1"

# Secondary Capture SOP classes (single- and multi-frame)
SECONDARY_CAPTURE_SOP_CLASSES = frozenset(
    {
        "1.2.840.10008.5.1.4.1.1.7",
        "1.2.840.10008.5.1.4.1.1.7.1",
        "1.2.840.10008.5.1.4.1.1.7.2",
        "1.2.840.10008.5.1.4.1.1.7.3",
        "1.2.840.10008.5.1.4.1.1.7.4",
    }
)
# Radiation dose SRs (X-Ray, Enhanced X-Ray, patient radiation dose) and encapsulated PDF
DOSE_REPORT_SOP_CLASSES = frozenset(
    {
        "1.2.840.10008.5.1.4.1.1.88.67",
        "1.2.840.10008.5.1.4.1.1.88.76",
        "1.2.840.10008.5.1.4.1.1.88.73",
        "1.2.840.10008.5.1.4.1.1.104.1",
    }
)

TEXT_VRS = frozenset({"SH", "LO", "ST", "LT", "UT", "UC", "CS", "PN", "AE", "UR"})
_DUMMY: dict[str, str | int | float] = {
    "PN": "ANONYMOUS",
    "AE": "ANONYMOUS",
    "DA": "19000101",
    "TM": "000000",
    "DT": "19000101000000",
    "IS": "0",
    "DS": "0",
    "AS": "000Y",
    "US": 0,
    "SS": 0,
    "UL": 0,
    "SL": 0,
    "FL": 0.0,
    "FD": 0.0,
}
_DUMMY_TEXT = "ANONYMIZED"
_BINARY_VRS = frozenset({"OB", "OW", "UN", "OF", "OD", "OL", "OV"})
_STRING_VRS = TEXT_VRS | {"DA", "TM", "DT", "AS", "DS", "IS", "UI"}

# Resolved action codes used by the walker
X, Z, D, K, U, USEQ, SHIFT, CLEAN = "X", "Z", "D", "K", "U", "U*", "C:shift", "C:clean"
_COMBINED = {"X/Z": Z, "Z/D": Z, "X/Z/D": Z, "X/D": X, "X/Z/U*": USEQ}

_PSEUDONYM = re.compile(r"^[^\\^\x00-\x1f\x7f]{1,64}$")
_PATIENT_NAME = 0x00100010
_PATIENT_ID = 0x00100020
_PIXEL_DATA = 0x7FE00010


@dataclass(frozen=True)
class TableRow:
    tag: str  # 8 hex digits, or a pattern (50xxxxxx, 60xxEEEE, GGGGEEEE)
    basic: str
    ltm: str  # Retain Longitudinal Temporal Information with Modified Dates Option
    cd: str  # Clean Descriptors Option
    pc: str  # Retain Patient Characteristics Option
    name: str

    @property
    def is_pattern(self) -> bool:
        return not re.fullmatch(r"[0-9A-F]{8}", self.tag)

    @property
    def tag_int(self) -> int:
        return int(self.tag, 16)


@lru_cache(maxsize=1)
def load_table() -> tuple[TableRow, ...]:
    """Read the shipped Annex E table (comment lines start with ``#``)."""
    text = resources.files(__package__).joinpath(TABLE_FILE).read_text(encoding="utf-8")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    return tuple(
        TableRow(r["tag"].upper(), r["basic"], r["ltm"], r["cd"], r["pc"], r["name"])
        for r in csv.DictReader(lines)
    )


@dataclass(frozen=True)
class DeidOptions:
    secret: bytes = field(repr=False)
    uid_prefix: str | None = None  # None: pydicom's root 1.2.826.0.1.3680043.8.498.
    retain_longitudinal_modified_dates: bool = True
    clean_descriptors: bool = True
    retain_patient_characteristics: bool = False
    max_date_shift_days: int = 3650
    quarantine: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.secret, bytes | bytearray) or len(self.secret) < 16:
            raise ValueError("secret must be at least 16 bytes")
        if self.max_date_shift_days < 1:
            raise ValueError("max_date_shift_days must be >= 1")


@dataclass
class DeidLog:
    """What was done to one instance: (attribute path, keyword, action); never values."""

    file: str = ""
    actions: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, path: str, keyword: str, action: str) -> None:
        self.actions.append((path, keyword, action))

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for _, _, a in self.actions:
            out[a] = out.get(a, 0) + 1
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "actions": [{"path": p, "keyword": k, "action": a} for p, k, a in self.actions],
        }

    def __str__(self) -> str:
        return f"DeidLog({self.file!r}, {self.counts()})"


# ---------------------------------------------------------------------------------------------
# Local codes

# Coding Scheme Designators of public terminologies (PS3.16 Table 8-1; ICD10 / ICD-10 as senders
# write I10), compared upper-cased.
STANDARD_CODING_SCHEMES = frozenset(
    {
        "DCM", "SCT", "SRT", "SNM3", "LN", "RADLEX", "UCUM", "FMA", "NCIT", "UMLS",
        "MSH", "I10", "I10P", "ICD10", "ICD-10", "I9C", "C4", "C5", "NEU", "UBERON", "MDC",
        "ACR", "ISO3166_1", "ISO639_1", "ISO639_2",
    }
)  # fmt: skip
_CODE_ITEM_TAGS = (0x00080100, 0x00080102, 0x00080104, 0x00080119, 0x00080120)
_CODING_SCHEME_DESIGNATOR = 0x00080102


def is_local_code(item: Dataset) -> bool:
    """Whether a sequence item is a code (or coding scheme) outside the standard schemes."""
    if not any(t in item for t in _CODE_ITEM_TAGS):
        return False
    return _text(item, _CODING_SCHEME_DESIGNATOR).upper() not in STANDARD_CODING_SCHEMES


# ---------------------------------------------------------------------------------------------
# Clean Descriptors: vocabulary-based cleaning

_VOCAB_WORDS = """
    CT HEAD BRAIN SKULL CRANIUM CRANIAL NEURO ROUTINE STANDARD STD AXIAL AX AXI CORONAL COR
    SAGITTAL SAG HELICAL HEL SEQUENTIAL SEQ SPIRAL AXIAL WO W WITH WITHOUT CONTRAST NON NONCON
    NONCONTRAST PLAIN NATIVE PRE POST IV THIN THICK SOFT TISSUE BONE BRAIN STROKE ANGIO CTA CTV
    VENOGRAM VENOUS VENOGRAPHY ARTERIAL PERFUSION MIP MINIP MPR VR RECON RECONS REFORMAT REFORMATS
    SCOUT TOPOGRAM LOCALIZER SURVIEW SCANOGRAM ADULT PEDIATRIC PAED PED CHILD TRAUMA EMERGENCY
    ER STAT FOLLOW UP FU MM KV KVP MAS KERNEL FILTER WINDOW WL WW DOSE LOW HIGH RES
    RESOLUTION ISO ISOTROPIC SLICE SLICES SERIES STUDY EXAM NECK FACE FACIAL ORBITS ORBIT SINUS
    SINUSES TEMPORAL IAC MASTOIDS CERVICAL SPINE CTH NCCT ICH CVST SAH BLEED HEMORRHAGE
    HAEMORRHAGE WB PROTOCOL FINAL AND OF THE TO FOR IN ON BY PRIMARY ORIGINAL DERIVED SECONDARY
    DUAL ENERGY MONO MONOENERGETIC KEV IODINE VNC SPECTRAL ITERATIVE IR ASIR ADMIRE SAFIRE
    IDOSE IMR FBP DLR AIDR TRUEFIDELITY GANTRY TILT TILTED CORRECTED NO YES MULTIPHASE PHASE DELAY
    DELAYED EARLY LATE BOLUS TRACKING TEST CAROTID CAROTIDS COW VESSELS
"""
_VOCAB = frozenset(_VOCAB_WORDS.split())
_NUMBER = re.compile(r"^\d{1,3}(\.\d{1,3})?(MM|CM|KV|KVP|MA|MAS|S|KEV|%)?$")
_KERNEL = re.compile(r"^[A-Z]{1,3}\d{2}[A-Z]?$")
_TOKEN_SPLIT = re.compile(r"[^A-Z0-9.%]+")
_CHUNK_SPLIT = re.compile(r"[\s,;_()\[\]{}]+")
_DATEISH = re.compile(r"\d[/\-:]\d|\d\.\d+\.\d")
_MAXLEN = {"SH": 16, "CS": 16, "LO": 64, "ST": 1024, "LT": 10240}


def clean_descriptor(value: str, vr: str = "LO") -> str:
    """Keep only vocabulary tokens and short numbers; drop anything else (documented above).

    Chunks holding digits joined by ``/``, ``-``, ``:`` or ``.`` runs (dates, times, phone
    numbers, IDs such as ``12/03/1961``) are dropped whole before tokenizing.
    """
    kept = []
    for chunk in _CHUNK_SPLIT.split(str(value).upper()):
        if not chunk or _DATEISH.search(chunk):
            continue
        for tok in _TOKEN_SPLIT.split(chunk):
            tok = tok.strip(".")
            if tok and (tok in _VOCAB or _NUMBER.match(tok) or _KERNEL.match(tok)):
                kept.append(tok)
    out = " ".join(kept)
    if vr == "CS":
        out = out.replace(".", "_").replace("%", "")
    limit = _MAXLEN.get(vr)
    if limit and len(out) > limit:
        out = out[:limit].rsplit(" ", 1)[0] if " " in out[:limit] else out[:limit]
    return out


# ---------------------------------------------------------------------------------------------
# Dates


def _shift_da(value: str, days: int) -> str | None:
    s = value.strip().replace(".", "")  # ACR-NEMA style YYYY.MM.DD
    if len(s) != 8 or not s.isdigit():
        return None
    try:
        d = date(int(s[:4]), int(s[4:6]), int(s[6:])) + timedelta(days=days)
    except (ValueError, OverflowError):
        return None
    return f"{d.year:04d}{d.month:02d}{d.day:02d}"


_DT = re.compile(r"^(\d{8})(\d{0,6}(?:\.\d{1,6})?)([+-]\d{4})?$")


def _shift_dt(value: str, days: int) -> str | None:
    m = _DT.match(value.strip())
    if not m:
        return None
    d = _shift_da(m.group(1), days)
    if d is None:
        return None
    return d + m.group(2)  # timezone suffix dropped (location information)


def _text(ds: Dataset, tag: int) -> str:
    """Value of a short string element without converting it (raw bytes decoded as latin-1,
    so reading it leaves the element raw and the writer copies it verbatim)."""
    el = ds.get_item(tag)
    if el is None:
        return ""
    value = el.value
    if el.is_raw:
        return value.decode("latin-1").strip(" \x00") if value else ""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("latin-1").strip(" \x00")
    if isinstance(value, list | tuple | MultiValue):
        return "\\".join(str(v) for v in value)
    return str(value).strip()


def check_quarantine(ds: Dataset, label: str = "") -> None:
    """Raise :class:`QuarantineError` for instances whose pixels may identify the patient."""
    where = f"{label}: " if label else ""
    bia = _text(ds, 0x00280301).upper()
    if bia == "YES":
        raise QuarantineError(
            IngestError(
                ErrorCode.BURNED_IN_ANNOTATION,
                f"{where}BurnedInAnnotation is YES; the image may show identifying text",
                file=label or None,
            )
        )
    sop = _text(ds, 0x00080016)
    if sop in DOSE_REPORT_SOP_CLASSES:
        raise QuarantineError(
            IngestError(
                ErrorCode.DOSE_REPORT,
                f"{where}dose report or document object, not an image",
                file=label or None,
            )
        )
    if sop in SECONDARY_CAPTURE_SOP_CLASSES:
        raise QuarantineError(
            IngestError(
                ErrorCode.SECONDARY_CAPTURE,
                f"{where}Secondary Capture SOP class (screen capture)",
                file=label or None,
            )
        )
    image_type = _text(ds, 0x00080008)
    if image_type:
        values = [v.strip().upper() for v in image_type.split("\\")]
        if any("DOSE" in v for v in values):
            raise QuarantineError(
                IngestError(
                    ErrorCode.DOSE_REPORT,
                    f"{where}ImageType marks a dose report or dose screen",
                    file=label or None,
                )
            )
        if (len(values) >= 2 and values[0] == "DERIVED" and values[1] == "SECONDARY") or any(
            "SCREEN" in v or v in ("SAVE", "SCREENSHOT") for v in values
        ):
            raise QuarantineError(
                IngestError(
                    ErrorCode.SECONDARY_CAPTURE,
                    f"{where}ImageType is DERIVED\\SECONDARY or a screen save",
                    file=label or None,
                )
            )


# ---------------------------------------------------------------------------------------------


def _method_items(options: DeidOptions) -> list[tuple[str, str]]:
    items = [("113100", "Basic Application Confidentiality Profile")]
    if options.retain_longitudinal_modified_dates:
        items.append(("113107", "Retain Longitudinal Temporal Information Modified Dates Option"))
    if options.clean_descriptors:
        items.append(("113105", "Clean Descriptors Option"))
    if options.retain_patient_characteristics:
        items.append(("113108", "Retain Patient Characteristics Option"))
    return items


def _method_text(options: DeidOptions) -> list[str]:
    out = [f"DICOM {TABLE_VERSION} Basic Profile"]
    if options.retain_longitudinal_modified_dates:
        out.append("Retain Longitudinal Temporal Info Modified Dates")
    if options.clean_descriptors:
        out.append("Clean Descriptors")
    if options.retain_patient_characteristics:
        out.append("Retain Patient Characteristics")
    out.append("readerstudy deid 1")
    return out


def _tag_str(t: int) -> str:
    return f"({t >> 16:04X},{t & 0xFFFF:04X})"


class Deidentifier:
    """Compiled Annex E profile; reuse one instance for many files.

    Values are edited at the byte level where pydicom still holds the element as read
    (``RawDataElement``): UIDs, dates, dummies and cleaned descriptors are re-encoded directly,
    so untouched elements are never decoded.  Elements pydicom has already converted (and
    text in multi-byte ISO 2022 character sets) take the ``DataElement`` path.
    """

    def __init__(self, options: DeidOptions):
        self.options = options
        self.remapper = UIDRemapper(bytes(options.secret), options.uid_prefix)
        self._actions = self._compile(load_table(), options)
        self._vr_cache: dict[int, str | None] = {}
        self._kw_cache: dict[int, str] = {}
        self._method_text = _method_text(options)
        self._method_items = _method_items(options)
        self._templates: dict[tuple[bool, bool], Dataset] = {}

    def __repr__(self) -> str:
        return f"Deidentifier(prefix={self.remapper.prefix!r}, rows={len(self._actions)})"

    # -- table compilation -------------------------------------------------------------------
    @staticmethod
    def _compile(rows: Iterable[TableRow], o: DeidOptions) -> dict[int, str]:
        out: dict[int, str] = {}
        for row in rows:
            if row.is_pattern:  # privates, overlays, curves: handled structurally in the walker
                continue
            t = row.tag_int
            try:
                vr = dictionary_VR(t)
            except KeyError:
                vr = ""
            basic = _COMBINED.get(row.basic, row.basic)
            action = basic
            if o.retain_longitudinal_modified_dates and row.ltm:
                if row.ltm == "K" or vr == "TM":
                    action = K
                elif vr in ("DA", "DT"):
                    action = SHIFT
            elif o.clean_descriptors and row.cd:
                action = CLEAN if vr in TEXT_VRS else basic
            elif o.retain_patient_characteristics and row.pc:
                action = K if row.pc == "K" else (CLEAN if vr in TEXT_VRS else basic)
            out[t] = action
        return out

    def action_for(self, tag: int) -> str | None:
        """Resolved action for a public tag listed in the table (None if not listed)."""
        return self._actions.get(tag)

    # -- keys ----------------------------------------------------------------------------------
    def _hmac(self, purpose: str, value: str) -> bytes:
        msg = purpose.encode() + b"\x00" + value.encode("utf-8", "surrogateescape")
        return hmac.new(bytes(self.options.secret), msg, hashlib.sha256).digest()

    @staticmethod
    def _patient_identity(ds: Dataset) -> str:
        pid = _text(ds, 0x00100020)
        if pid:
            return f"id:{_text(ds, 0x00100021)}:{pid}"
        name, birth = _text(ds, 0x00100010), _text(ds, 0x00100030)
        if name or birth:
            return f"nb:{name}:{birth}"
        return f"study:{_text(ds, 0x0020000D)}"

    def patient_key(self, ds: Dataset) -> str:
        """Opaque, keyed identifier of the patient of ``ds`` (no PHI; stable per site secret).

        Computed from the original PatientID (and its issuer); falls back to name and birth
        date, then to the StudyInstanceUID when the header has no patient identity at all.
        """
        return self._hmac("patient-key", self._patient_identity(ds)).hex()[:32]

    def date_offset_days(self, ds: Dataset) -> int:
        """Per-patient whole-day shift in ``[-max_date_shift_days, -1]``."""
        h = int.from_bytes(self._hmac("date-offset", self._patient_identity(ds))[:8], "big")
        return -(1 + h % self.options.max_date_shift_days)

    # -- main entry ----------------------------------------------------------------------------
    def deidentify(self, ds: Dataset, *, pseudonym: str, label: str = "") -> DeidLog:
        """De-identify ``ds`` in place and return the log.  Raises QuarantineError first.

        ``pseudonym`` (the case code) is written to PatientName and PatientID: 1-64 printable
        characters without backslash or caret.
        """
        if not _PSEUDONYM.match(pseudonym or ""):
            raise ValueError("pseudonym must be 1-64 printable characters without \\ or ^")
        if self.options.quarantine:
            check_quarantine(ds, label)
        log = DeidLog(file=label)
        shift = (
            self.date_offset_days(ds) if self.options.retain_longitudinal_modified_dates else None
        )
        safe_charset = _charset_is_single_byte(ds)
        self._walk(ds, log, "", shift, safe_charset, top=True)
        self._finish(ds, log, pseudonym)
        return log

    # -- helpers -------------------------------------------------------------------------------
    def _vr(self, t: int) -> str | None:
        try:
            return self._vr_cache[t]
        except KeyError:
            pass
        try:
            vr = dictionary_VR(t)
        except KeyError:
            vr = None  # not in the data dictionary
        self._vr_cache[t] = vr
        return vr

    def _kw(self, t: int) -> str:
        kw = self._kw_cache.get(t)
        if kw is None:
            kw = keyword_for_tag(t) or _tag_str(t)
            self._kw_cache[t] = kw
        return kw

    def _walk(
        self,
        ds: Dataset,
        log: DeidLog,
        prefix: str,
        shift: int | None,
        safe_cs: bool,
        top: bool = False,
    ) -> None:
        actions = self._actions
        vr_of = self._vr
        for tag in list(ds.keys()):
            t = int(tag)
            group = t >> 16
            if group & 1:
                del ds[tag]
                log.add(prefix + _tag_str(t), "private", X)
                continue
            if (t & 0xFFFF) == 0 or 0x5000 <= group <= 0x50FF or 0x6000 <= group <= 0x60FF:
                del ds[tag]
                log.add(prefix + _tag_str(t), self._kw(t), X)
                continue
            if t == _PIXEL_DATA:
                continue
            if top and t in (_PATIENT_NAME, _PATIENT_ID):
                continue  # replaced by the pseudonym in _finish
            action = actions.get(t)
            vr = vr_of(t)
            if action is None:
                if vr is None:
                    # public tag unknown to the dictionary: its content cannot be judged
                    del ds[tag]
                    log.add(prefix + _tag_str(t), "unknown", X)
                elif vr == "UI":
                    self._remap_uid(ds, tag, t, log, prefix)
                elif vr == "SQ":
                    self._recurse(ds, tag, t, log, prefix, shift, safe_cs)
                elif shift is not None and (vr == "DA" or vr == "DT"):
                    self._shift(ds, tag, t, vr, shift, log, prefix)
                continue
            self._apply(ds, tag, t, vr, action, log, prefix, shift, safe_cs)

    def _recurse(
        self,
        ds: Dataset,
        tag: BaseTag,
        t: int,
        log: DeidLog,
        prefix: str,
        shift: int | None,
        safe_cs: bool,
    ) -> None:
        elem = ds[tag]
        if elem.VR != "SQ" or not elem.value:
            return
        base = prefix + _tag_str(t)
        kept = []
        for i, item in enumerate(elem.value):
            if is_local_code(item):
                log.add(f"{base}[{i}]", "local code", X)
                continue
            self._walk(item, log, f"{base}[{i}].", shift, safe_cs)
            kept.append(item)
        if len(kept) < len(elem.value):
            elem.value = Sequence(kept)

    @staticmethod
    def _raw(ds: Dataset, tag: BaseTag) -> RawDataElement | None:
        el: DataElement | RawDataElement | None = ds.get_item(tag)  # typed as DataElement
        if isinstance(el, RawDataElement) and el.is_raw and not el.is_buffered:
            return el
        return None

    @staticmethod
    def _put_raw(ds: Dataset, tag: BaseTag, raw: RawDataElement, data: bytes, pad: bytes) -> None:
        if len(data) % 2:
            data += pad
        ds[tag] = raw._replace(value=data, length=len(data))

    def _remap_uid(self, ds: Dataset, tag: BaseTag, t: int, log: DeidLog, prefix: str) -> None:
        kw = self._kw(t)
        if keep_uid_attribute(kw):
            return
        raw = self._raw(ds, tag)
        if raw is not None:
            if not raw.value:
                return
            text = raw.value.decode("ascii", "replace").rstrip("\x00 ")
            new = "\\".join(self.remapper.remap(v) for v in text.split("\\"))
            if new != text:
                self._put_raw(ds, tag, raw, new.encode("ascii"), b"\x00")
                log.add(prefix + _tag_str(t), kw, U)
            return
        elem = ds[tag]
        if elem.value in (None, ""):
            return
        remapped = self.remapper.remap_value(elem.value)
        if remapped != elem.value:
            elem.value = remapped
            log.add(prefix + _tag_str(t), kw, U)

    def _shift(
        self,
        ds: Dataset,
        tag: BaseTag,
        t: int,
        vr: str | None,
        shift: int,
        log: DeidLog,
        prefix: str,
    ) -> None:
        fn = _shift_da if vr == "DA" else _shift_dt
        raw = self._raw(ds, tag)
        if raw is not None:
            if not raw.value:
                return
            values = raw.value.decode("ascii", "replace").rstrip("\x00 ").split("\\")
            shifted = [fn(v, shift) for v in values]
            if any(s is None for s in shifted):
                self._put_raw(ds, tag, raw, b"", b" ")
                log.add(prefix + _tag_str(t), self._kw(t), Z)
            else:
                text = "\\".join(s for s in shifted if s is not None)
                self._put_raw(ds, tag, raw, text.encode("ascii"), b" ")
                log.add(prefix + _tag_str(t), self._kw(t), "C")
            return
        elem = ds[tag]
        value = elem.value
        if value in (None, ""):
            return
        values = [value] if isinstance(value, str) else list(value)
        shifted = [fn(str(v), shift) for v in values]
        if any(s is None for s in shifted):
            elem.value = ""
            log.add(prefix + _tag_str(t), self._kw(t), Z)
            return
        elem.value = shifted[0] if len(shifted) == 1 else shifted
        log.add(prefix + _tag_str(t), self._kw(t), "C")

    def _clean(
        self,
        ds: Dataset,
        tag: BaseTag,
        t: int,
        vr: str | None,
        log: DeidLog,
        path: str,
        kw: str,
        safe_cs: bool,
    ) -> None:
        raw = self._raw(ds, tag)
        if raw is not None and safe_cs:
            if not raw.value:
                return
            # ASCII-only upper-casing; bytes of other characters never form vocabulary tokens
            text = raw.value.upper().decode("latin-1").rstrip("\x00 ")
            cleaned = [c for c in (clean_descriptor(v, vr or "LO") for v in text.split("\\")) if c]
            self._put_raw(ds, tag, raw, "\\".join(cleaned).encode("ascii"), b" ")
            log.add(path, kw, "C")
            return
        elem = ds[tag]
        value = elem.value
        if value in (None, ""):
            return
        values = [value] if isinstance(value, str) else list(value)
        cleaned = [c for c in (clean_descriptor(str(v), vr or "LO") for v in values) if c]
        elem.value = cleaned[0] if len(cleaned) == 1 else (cleaned or "")
        log.add(path, kw, "C")

    def _apply(
        self,
        ds: Dataset,
        tag: BaseTag,
        t: int,
        vr: str | None,
        action: str,
        log: DeidLog,
        prefix: str,
        shift: int | None,
        safe_cs: bool,
    ) -> None:
        path = prefix + _tag_str(t)
        kw = self._kw(t)
        if action == X:
            del ds[tag]
            log.add(path, kw, X)
        elif action == K:
            if vr == "SQ":
                self._recurse(ds, tag, t, log, prefix, shift, safe_cs)
        elif action == U:
            self._remap_uid(ds, tag, t, log, prefix)
        elif action == USEQ:
            if vr == "SQ":
                self._recurse(ds, tag, t, log, prefix, shift, safe_cs)
            elif vr == "UI":
                self._remap_uid(ds, tag, t, log, prefix)
            else:
                self._empty(ds, tag, vr)
                log.add(path, kw, Z)
        elif action == SHIFT and shift is not None:  # SHIFT is compiled only with a shift
            self._shift(ds, tag, t, vr, shift, log, prefix)
        elif action == CLEAN:
            self._clean(ds, tag, t, vr, log, path, kw, safe_cs)
        elif action == Z or (action == D and vr == "SQ"):
            self._empty(ds, tag, vr)
            log.add(path, kw, Z)
        elif action == D:
            if vr == "UI":
                self._remap_uid(ds, tag, t, log, prefix)
                return
            raw = self._raw(ds, tag)
            dummy = _DUMMY.get(vr or "", _DUMMY_TEXT)
            if raw is not None and (vr in _BINARY_VRS or isinstance(dummy, str)):
                data = b"" if vr in _BINARY_VRS else str(dummy).encode("ascii")
                self._put_raw(ds, tag, raw, data, b" ")
            else:
                elem = ds[tag]
                elem.value = b"" if elem.VR in _BINARY_VRS else dummy
            log.add(path, kw, D)
        else:  # unknown code in the table: be safe
            del ds[tag]
            log.add(path, kw, X)

    def _empty(self, ds: Dataset, tag: BaseTag, vr: str | None) -> None:
        raw = self._raw(ds, tag)
        if raw is not None and vr != "SQ" and raw.length != 0xFFFFFFFF:
            self._put_raw(ds, tag, raw, b"", b" ")
            return
        elem = ds[tag]
        if vr == "SQ" or elem.VR == "SQ":
            elem.value = Sequence([])
        elif elem.VR in _BINARY_VRS:
            elem.value = b""
        elif elem.VR in _STRING_VRS:
            elem.value = ""
        else:
            elem.value = None

    def _template(self, implicit: bool, little: bool) -> Dataset:
        """Constant attributes set on every output, pre-encoded once per encoding."""
        key = (implicit, little)
        tpl = self._templates.get(key)
        if tpl is None:
            src = Dataset()
            src.PatientIdentityRemoved = "YES"
            src.DeidentificationMethod = self._method_text
            seq = []
            for code, meaning in self._method_items:
                item = Dataset()
                item.CodeValue = code
                item.CodingSchemeDesignator = "DCM"
                item.CodeMeaning = meaning
                seq.append(item)
            src.DeidentificationMethodCodeSequence = Sequence(seq)
            src.LongitudinalTemporalInformationModified = (
                "MODIFIED" if self.options.retain_longitudinal_modified_dates else "REMOVED"
            )
            seq_ds = Dataset()
            seq_ds.DeidentificationMethodCodeSequence = src.DeidentificationMethodCodeSequence
            del src.DeidentificationMethodCodeSequence
            fp = DicomBytesIO()
            fp.is_implicit_VR, fp.is_little_endian = implicit, little
            write_dataset(fp, src)
            tpl = read_dataset(io.BytesIO(fp.getvalue()), implicit, little)
            # the code sequence is kept as raw bytes too (pydicom parses it only if accessed)
            value = b""
            for item in seq_ds.DeidentificationMethodCodeSequence:
                ifp = DicomBytesIO()
                ifp.is_implicit_VR, ifp.is_little_endian = implicit, little
                write_dataset(ifp, item)
                ib = ifp.getvalue()
                value += struct.pack("<HHL" if little else ">HHL", 0xFFFE, 0xE000, len(ib)) + ib
            tpl[0x00120064] = RawDataElement(
                BaseTag(0x00120064),
                None if implicit else "SQ",
                len(value),
                value,
                0,
                implicit,
                little,
            )
            self._templates[key] = tpl
        return tpl

    def _finish(self, ds: Dataset, log: DeidLog, pseudonym: str) -> None:
        implicit, little = _encoding_of(ds)
        tpl = self._template(implicit, little)
        for tag in list(tpl.keys()):
            ds[tag] = tpl.get_item(tag)
        try:
            pbytes = pseudonym.encode("ascii")
        except UnicodeEncodeError:
            pbytes = None
        for t, vr, kw in ((_PATIENT_NAME, "PN", "PatientName"), (_PATIENT_ID, "LO", "PatientID")):
            if pbytes is not None:
                data = pbytes + b" " if len(pbytes) % 2 else pbytes
                ds[t] = RawDataElement(
                    BaseTag(t), None if implicit else vr, len(data), data, 0, implicit, little
                )
            else:
                ds[t] = DataElement(t, vr, pseudonym)
            log.add(_tag_str(t), kw, "pseudonym")
        # File meta: rebuilt from scratch so no source/sending AE titles or private info survive
        old = getattr(ds, "file_meta", None)
        ts = None
        if old is not None:
            ts = old.get("TransferSyntaxUID", None)
            for t in [int(t) for t in old.keys()]:  # noqa: SIM118 (iterating yields elements)
                if t not in _META_KEPT:
                    log.add(_tag_str(t), self._kw(t), X)
            if "MediaStorageSOPInstanceUID" in old:
                log.add("(0002,0003)", "MediaStorageSOPInstanceUID", U)
        if not ts:
            ts = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
        fm = FileMetaDataset()
        fm.FileMetaInformationVersion = b"\x00\x01"
        sop_class = _text(ds, 0x00080016) or (old.get("MediaStorageSOPClassUID") if old else None)
        if sop_class:
            fm.MediaStorageSOPClassUID = UID(sop_class)
        sop_instance = _text(ds, 0x00080018)
        if sop_instance:
            fm.MediaStorageSOPInstanceUID = UID(sop_instance)
        elif old is not None and "MediaStorageSOPInstanceUID" in old:
            fm.MediaStorageSOPInstanceUID = UID(self.remapper.remap(old.MediaStorageSOPInstanceUID))
        fm.TransferSyntaxUID = ts
        fm.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
        fm.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
        ds.file_meta = fm
        ds.preamble = b"\x00" * 128


_META_KEPT = frozenset(
    {0x00020000, 0x00020001, 0x00020002, 0x00020003, 0x00020010, 0x00020012, 0x00020013}
)
_MULTIBYTE_CHARSETS = (
    "ISO 2022 IR 87",
    "ISO 2022 IR 159",
    "ISO 2022 IR 149",
    "ISO 2022 IR 58",
    "GB18030",
    "GBK",
)


def _charset_is_single_byte(ds: Dataset) -> bool:
    """True unless the dataset uses a multi-byte ISO 2022 / GB character set (UTF-8 is fine:
    its non-ASCII bytes are all >= 0x80 and never form ASCII tokens)."""
    el = ds.get_item(0x00080005)
    if el is None:
        return True
    value = el.value
    if isinstance(value, bytes | bytearray):
        text = bytes(value).decode("ascii", "replace")
    elif isinstance(value, str):
        text = value
    else:
        text = "\\".join(str(v) for v in (value or []))
    return not any(cs in text for cs in _MULTIBYTE_CHARSETS)


def _encoding_of(ds: Dataset) -> tuple[bool, bool]:
    implicit, little = ds.original_encoding
    if implicit is None or little is None:
        fm = getattr(ds, "file_meta", None)
        ts = fm.get("TransferSyntaxUID") if fm is not None else None
        if ts:
            ts = UID(ts)
            return ts.is_implicit_VR, ts.is_little_endian
        return False, True
    return implicit, little


@lru_cache(maxsize=8)
def _deidentifier(options: DeidOptions) -> Deidentifier:
    return Deidentifier(options)


def deidentify(ds: Dataset, *, pseudonym: str, options: DeidOptions, label: str = "") -> DeidLog:
    """De-identify ``ds`` in place (convenience wrapper around a cached :class:`Deidentifier`)."""
    return _deidentifier(options).deidentify(ds, pseudonym=pseudonym, label=label)
