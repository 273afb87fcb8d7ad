"""A bundle is refused, naming the problem, when a file was altered, a part is missing or its
format version is unknown."""

import json

import pytest
from django.core.management import CommandError, call_command

from readerstudy.analysis.bundle import (
    MANIFEST,
    REQUIRED,
    REQUIRED_SINCE,
    SCORES,
    BundleError,
    open_bundle,
)
from tests.exports.bundle_files import bundle_zip, members, rewrite  # noqa: F401

# every file of the fixture's bundle (test_every_file_is_covered keeps the list honest)
FILES = sorted([*REQUIRED, *REQUIRED_SINCE[3], SCORES])


def test_every_file_is_covered(bundle_zip):  # noqa: F811
    assert sorted(set(members(bundle_zip)) - {MANIFEST}) == FILES
    assert open_bundle(bundle_zip).names == FILES


@pytest.mark.parametrize("name", FILES)
def test_tampering_with_any_file_is_detected(bundle_zip, tmp_path, name):  # noqa: F811
    files = members(bundle_zip)
    data = bytearray(files[name])
    data[len(data) // 2] ^= 0x01  # one bit flipped
    files[name] = bytes(data)
    with pytest.raises(BundleError) as error:
        open_bundle(rewrite(bundle_zip, tmp_path / "t.zip", files))
    assert error.value.code == "hash_mismatch"
    assert name in error.value.message


def test_unknown_version_is_refused(bundle_zip, tmp_path):  # noqa: F811
    files = members(bundle_zip)
    manifest = json.loads(files[MANIFEST])
    manifest["format_version"] = 99
    files[MANIFEST] = json.dumps(manifest).encode()
    with pytest.raises(BundleError) as error:
        open_bundle(rewrite(bundle_zip, tmp_path / "v.zip", files))
    assert error.value.code == "unknown_version"
    assert "99" in error.value.message


@pytest.mark.parametrize("name", ["revisions.csv", "report.json", "study.json", "truth_masks.csv"])
def test_missing_part_is_refused(bundle_zip, tmp_path, name):  # noqa: F811
    files = members(bundle_zip)
    del files[name]
    with pytest.raises(BundleError) as error:  # absent, though the manifest lists it
        open_bundle(rewrite(bundle_zip, tmp_path / "m.zip", files))
    assert (error.value.code, name in error.value.message) == ("missing_part", True)
    with pytest.raises(BundleError) as error:  # absent from the manifest too
        open_bundle(rewrite(bundle_zip, tmp_path / "m2.zip", files, rehash=True))
    assert (error.value.code, name in error.value.message) == ("missing_part", True)


def test_unlisted_and_unsafe_files_are_refused(bundle_zip, tmp_path):  # noqa: F811
    files = members(bundle_zip)
    with pytest.raises(BundleError) as error:
        open_bundle(rewrite(bundle_zip, tmp_path / "u.zip", {**files, "extra.csv": b"a\n"}))
    assert (error.value.code, "extra.csv" in error.value.message) == ("unlisted_file", True)
    unsafe = rewrite(bundle_zip, tmp_path / "s.zip", {**files, "../x.csv": b"a\n"}, rehash=True)
    with pytest.raises(BundleError, match="unsafe"):
        open_bundle(unsafe)


def test_not_a_zip_and_no_manifest(tmp_path, bundle_zip):  # noqa: F811
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    with pytest.raises(BundleError, match="not a readable zip"):
        open_bundle(junk)
    files = members(bundle_zip)
    del files[MANIFEST]
    with pytest.raises(BundleError, match="no manifest.json"):
        open_bundle(rewrite(bundle_zip, tmp_path / "n.zip", files))


@pytest.mark.django_db
def test_import_command_names_the_altered_file(bundle_zip, tmp_path):  # noqa: F811
    files = members(bundle_zip)
    files["truth.csv"] = files["truth.csv"].replace(b"cvst_ich", b"sich", 1)
    with pytest.raises(CommandError, match="hash_mismatch: truth.csv"):
        call_command("import_study_bundle", str(rewrite(bundle_zip, tmp_path / "t.zip", files)))
