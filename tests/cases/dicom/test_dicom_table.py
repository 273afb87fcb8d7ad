"""The shipped PS3.15 Annex E table is well-formed and compiles as documented."""

import re

from pydicom.datadict import dictionary_description, dictionary_VR

from readerstudy.cases.dicom.deid import SHIFT, Deidentifier, DeidOptions, load_table

CODES = {"D", "Z", "X", "K", "C", "U", "X/Z", "Z/D", "X/D", "X/Z/D", "X/Z/U*"}


def _norm(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower().replace("(trial)", ""))


def test_table_rows_are_valid_and_match_the_data_dictionary():
    rows = load_table()
    assert len(rows) == 460
    tags = [r.tag for r in rows]
    assert len(set(tags)) == len(tags)
    for r in rows:
        assert r.basic in CODES, r
        assert r.ltm in ("", "K", "C")
        assert r.cd in ("", "C")
        assert r.pc in ("", "K", "C")
        if r.is_pattern:
            continue
        # every listed tag exists with the same name in pydicom's dictionary (guards typos)
        assert _norm(dictionary_description(r.tag_int)) == _norm(r.name), r


def test_key_rows_have_the_standard_actions():
    by_name = {r.name: r for r in load_table()}
    assert by_name["Patient's Name"].basic == "Z"
    assert by_name["Patient ID"].basic == "Z"
    assert by_name["Study Instance UID"].basic == "U"
    assert by_name["Institution Name"].basic == "X/Z/D"
    assert by_name["Referenced Image Sequence"].basic == "X/Z/U*"
    assert by_name["Study Date"].ltm == "C"
    assert by_name["Series Description"].cd == "C"
    assert by_name["Patient's Age"].pc == "K"
    assert {r.tag for r in load_table() if r.is_pattern} == {
        "50XXXXXX",
        "60XX3000",
        "60XX4000",
        "GGGGEEEE",
    }


def test_compiled_actions_follow_the_options():
    on = Deidentifier(DeidOptions(secret=b"s" * 16))
    off = Deidentifier(
        DeidOptions(
            secret=b"s" * 16, retain_longitudinal_modified_dates=False, clean_descriptors=False
        )
    )
    study_date, study_time, series_desc, inst = 0x00080020, 0x00080030, 0x0008103E, 0x00080080
    assert on.action_for(study_date) == SHIFT
    assert on.action_for(study_time) == "K"
    assert on.action_for(series_desc) == "C:clean"
    assert off.action_for(study_date) == "Z"
    assert off.action_for(series_desc) == "X"
    assert on.action_for(inst) == "Z"  # X/Z/D resolved to zero length
    assert on.action_for(0x00081140) == "U*"
    # every DA/DT row of the table is shifted, never kept, under the Modified Dates option
    for r in load_table():
        if not r.is_pattern and r.ltm == "C" and dictionary_VR(r.tag_int) in ("DA", "DT"):
            assert on.action_for(r.tag_int) == SHIFT
