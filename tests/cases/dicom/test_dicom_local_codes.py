"""De-identification: codes from local coding schemes never survive in retained sequences."""

import io

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from readerstudy.cases.dicom.deid import Deidentifier, DeidOptions, is_local_code

from . import dicom_synth as S

SECRET = b"test-site-secret-0123456789abcdef"
PLANTED = "DR SMITH NEURO CLINIC"
LOCAL_SCHEMES = ["L", "LOCAL", "99SMITH", "99ST_MARY", "l", ""]


def _code(value, scheme, meaning) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    if scheme is not None:
        item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def _local(i: int) -> Dataset:
    scheme = LOCAL_SCHEMES[i % len(LOCAL_SCHEMES)]
    return _code(f"X{i}", scheme or None, f"{PLANTED} {i}")


def _planted() -> Dataset:
    ds = S.make_ct_series(1)[0]
    head = _code("77477000", "SCT", "CT of head")
    ds.ProcedureCodeSequence = Sequence([_local(0), head])
    ds.RequestedProcedureCodeSequence = Sequence([_local(1)])
    nested = Dataset()
    nested.RequestedProcedureCodeSequence = Sequence([_local(2)])
    nested.ScheduledProtocolCodeSequence = Sequence([_local(3), _code("113100", "DCM", "Basic")])
    ds.RequestAttributesSequence = Sequence([nested])
    # A retained content item (ValueType CODE) inside Real World Value Mapping
    content = Dataset()
    content.ValueType = "CODE"
    content.ConceptNameCodeSequence = Sequence([_code("G-C036", "SRT", "Measurement Method")])
    content.ConceptCodeSequence = Sequence([_local(4)])
    mapping = Dataset()
    mapping.MeasurementUnitsCodeSequence = Sequence([_code("[hnsf'U]", "UCUM", "Hounsfield unit")])
    mapping.QuantityDefinitionSequence = Sequence([content])
    mapping.LUTLabel = "HU"
    ds.RealWorldValueMappingSequence = Sequence([mapping])
    ds.AnatomicRegionSequence = Sequence([_code("69536005", "SCT", "Head"), _local(5)])
    scheme = Dataset()
    scheme.CodingSchemeDesignator = "99SMITH"
    scheme.CodingSchemeName = PLANTED
    scheme.CodingSchemeResponsibleOrganization = PLANTED
    ds.CodingSchemeIdentificationSequence = Sequence([scheme])
    return ds


@pytest.mark.parametrize("clean_descriptors", [True, False])
def test_local_code_meanings_do_not_survive_in_any_sequence(clean_descriptors):
    deidentifier = Deidentifier(DeidOptions(secret=SECRET, clean_descriptors=clean_descriptors))
    source = _planted()
    assert PLANTED.encode() in S.to_bytes(source)
    ds = pydicom.dcmread(io.BytesIO(S.to_bytes(source)))
    log = deidentifier.deidentify(ds, pseudonym="CASE-1")
    out = S.to_bytes(ds)
    assert b"SMITH" not in out and b"CLINIC" not in out
    assert "SMITH" not in str(log.as_dict())
    back = pydicom.dcmread(io.BytesIO(out))
    # standard codes kept, with their meanings
    assert [(c.CodingSchemeDesignator, c.CodeMeaning) for c in back.ProcedureCodeSequence] == [
        ("SCT", "CT of head")
    ]
    assert [c.CodeMeaning for c in back.AnatomicRegionSequence] == ["Head"]
    mapping = back.RealWorldValueMappingSequence[0]
    assert mapping.MeasurementUnitsCodeSequence[0].CodeMeaning == "Hounsfield unit"
    content = mapping.QuantityDefinitionSequence[0]
    assert content.ConceptNameCodeSequence[0].CodingSchemeDesignator == "SRT"
    assert len(content.ConceptCodeSequence) == 0  # present, empty: its only code was local
    assert (
        "RequestedProcedureCodeSequence" in back and len(back.RequestedProcedureCodeSequence) == 0
    )
    assert len(back.CodingSchemeIdentificationSequence) == 0
    assert "RequestAttributesSequence" not in back  # X in the basic profile
    removed = [path for path, kw, action in log.actions if kw == "local code"]
    assert "(0008,1032)[0]" in removed and "(0008,0110)[0]" in removed
    assert "(0040,9096)[0].(0040,9220)[0].(0040,A168)[0]" in removed


@pytest.mark.parametrize(
    ("scheme", "local"),
    [
        ("DCM", False), ("SCT", False), ("SRT", False), ("LN", False), ("RADLEX", False),
        ("UCUM", False), ("FMA", False), ("NCIt", False), ("I10", False), ("ICD-10", False),
        ("L", True), ("LOCAL", True), ("99SMITH", True), ("99", True), ("99DCM", True),
        ("ACME_PACS", True), (None, True),
    ],
)  # fmt: skip
def test_schemes_outside_the_allow_list_are_local(scheme, local):
    assert is_local_code(_code("1", scheme, "m")) is local


def test_items_that_are_not_codes_are_kept():
    item = Dataset()
    item.ReferencedSOPInstanceUID = "1.2.3"
    assert not is_local_code(item)
