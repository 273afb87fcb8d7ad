"""Integers stored in int4 columns arrive unchanged or not at all (PostgreSQL would wrap a
server-side bound out-of-range value; SQLite would store it). Runs on both databases."""

import pytest

from readerstudy.cases.errors import ImportFailed
from readerstudy.cases.ingest import import_study
from readerstudy.cases.models import Instance, Series
from tests.cases import crafted
from tests.cases.conftest import library_snapshot

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("keyword", "value", "column"),
    [
        ("SeriesNumber", 2**31 - 1, lambda: Series.objects.values_list("series_number", flat=True)),
        ("SeriesNumber", -(2**31), lambda: Series.objects.values_list("series_number", flat=True)),
        (
            "InstanceNumber",
            2**31 - 1,
            lambda: Instance.objects.values_list("instance_number", flat=True),
        ),
    ],
)
def test_integers_at_the_bounds_are_stored_exactly(keyword, value, column, tmp_path):
    files = crafted.phantom_files(tmp_path, 7)
    import_study(crafted._all(files, crafted._set(keyword, str(value))))
    assert set(column()) == {value}


@pytest.mark.parametrize("keyword", ["SeriesNumber", "InstanceNumber"])
@pytest.mark.parametrize("value", [999_999_999_999, 2**31, -(2**31) - 1])
def test_out_of_range_integers_are_refused_by_name(keyword, value, tmp_path):
    files = crafted.phantom_files(tmp_path, 7)
    before = library_snapshot()
    with pytest.raises(ImportFailed) as refused:
        import_study(crafted._one(files, crafted._set(keyword, str(value))))
    first = refused.value.errors[0]
    assert first["code"] == "invalid_value" and keyword in first["message"]
    assert library_snapshot() == before
    assert not Series.objects.filter(series_number=-727379969).exists()
