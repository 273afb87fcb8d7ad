"""The import's fast conversion of the large tables' cells gives what the checked one gives:
a time with another offset or precision, JSON with other spacing, a row of another width."""

import csv
import datetime as dt
import io

import pytest

from readerstudy.analysis.bundle import BundleError
from readerstudy.exports.bundle_import import import_bundle
from readerstudy.reading.models import AnswerRevision
from readerstudy.studies.models import ReaderStudy
from tests.exports.bundle_files import bundle_zip, members, rewrite  # noqa: F401
from tests.exports.test_bundle import empty_database

pytestmark = pytest.mark.django_db


def _edited(files: dict, change) -> dict:
    rows = list(csv.reader(io.StringIO(files["revisions.csv"].decode())))
    change(rows)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return {**files, "revisions.csv": out.getvalue().encode()}


def test_cells_in_another_valid_form_import_as_their_values(bundle_zip, tmp_path):  # noqa: F811
    empty_database()
    files = members(bundle_zip)

    def change(rows):
        header, row = rows[0], rows[-1]
        row[header.index("server_time")] = "2026-01-02T05:04:05.5+02:00"
        row[header.index("answers")] = '{ "diagnosis" : "sich",  "confidence": 42 }'
        row[header.index("client_active_ms")] = " 1234 "

    edited = rewrite(bundle_zip, tmp_path / "e.zip", _edited(files, change), rehash=True)
    study = import_bundle(edited).study
    moment = dt.datetime(2026, 1, 2, 3, 4, 5, 500000, tzinfo=dt.UTC)  # 05:04:05.5 at +02:00
    revision = AnswerRevision.objects.get(assignment__study=study, server_time=moment)
    assert revision.answers == {"diagnosis": "sich", "confidence": 42}
    assert revision.client_active_ms == 1234
    assert (
        AnswerRevision.objects.filter(assignment__study=study).count()
        == len(files["revisions.csv"].decode().splitlines()) - 1
    )


def test_a_row_of_another_width_is_refused(bundle_zip, tmp_path):  # noqa: F811
    empty_database()
    files = _edited(members(bundle_zip), lambda rows: rows[2].append("extra"))
    with pytest.raises(BundleError) as error:
        import_bundle(rewrite(bundle_zip, tmp_path / "w.zip", files, rehash=True))
    assert error.value.code == "invalid_table"
    assert "revisions.csv row 3" in error.value.message
    assert ReaderStudy.objects.count() == 0
