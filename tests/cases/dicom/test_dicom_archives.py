"""Archive safety: traversal, absolute paths, encryption, bombs, symlinks, nesting; folder walk."""

import io
import os
import stat
import zipfile

import pytest

from readerstudy.cases.dicom.archives import (
    ArchiveLimits,
    extract_zip,
    is_dicom_file,
    iter_dicom_files,
    iter_zip,
)
from readerstudy.cases.dicom.errors import ArchiveError, ErrorCode

from . import dicom_synth as S


def _zip(entries, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for e in entries:
            if isinstance(e, zipfile.ZipInfo):
                zf.writestr(e, e.comment or b"data")
            else:
                name, data = e
                zf.writestr(name, data)
    return buf.getvalue()


def _code(data: bytes, **lim) -> ErrorCode:
    with pytest.raises(ArchiveError) as ei:
        list(iter_zip(io.BytesIO(data), ArchiveLimits(**lim) if lim else None))
    return ei.value.code


def test_good_archive_yields_members_and_extracts_under_numbered_names(tmp_path):
    dcm = S.to_bytes(S.make_ct_series(1)[0])
    data = _zip([("study/SE1/IM0001.dcm", dcm), ("study/SE1/IM0002.dcm", dcm), ("study/", b"")])
    got = list(iter_zip(io.BytesIO(data)))
    assert [n for n, _ in got] == ["study/SE1/IM0001.dcm", "study/SE1/IM0002.dcm"]
    assert got[0][1] == dcm
    zpath = tmp_path / "u.zip"
    zpath.write_bytes(data)
    out = extract_zip(zpath, tmp_path / "x")
    assert [p.name for _, p in out] == ["000000.dcm", "000001.dcm"]
    assert all(p.parent == tmp_path / "x" for _, p in out)


@pytest.mark.parametrize(
    "name",
    ["../evil.dcm", "a/../../evil.dcm", "/etc/passwd", "C:/Windows/evil.dcm", "..\\evil.dcm"],
)
def test_unsafe_member_names_are_rejected(name, tmp_path):
    data = _zip([("ok.dcm", b"x"), (name, b"y")])
    assert _code(data) == ErrorCode.UNSAFE_PATH
    # nothing is written when the archive is rejected
    zpath = tmp_path / "u.zip"
    zpath.write_bytes(data)
    with pytest.raises(ArchiveError):
        extract_zip(zpath, tmp_path / "x")
    assert not (tmp_path / "x").exists()
    assert not (tmp_path / "evil.dcm").exists()


def test_encrypted_member_is_rejected():
    data = bytearray(_zip([("IM1.dcm", b"\x00" * 10)], zipfile.ZIP_STORED))
    # set the "encrypted" general-purpose flag in the local header and the central directory
    data[6] |= 0x1
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 8] |= 0x1
    assert _code(bytes(data)) == ErrorCode.ENCRYPTED_MEMBER


def test_symlink_member_is_rejected():
    info = zipfile.ZipInfo("link.dcm")
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(info, "/etc/passwd")
    assert _code(buf.getvalue()) == ErrorCode.SYMLINK


def test_zip_bombs_are_rejected():
    zeros = b"\x00" * (4 * 1024 * 1024)
    assert _code(_zip([("bomb.dcm", zeros)])) == ErrorCode.ZIP_BOMB  # ratio ~1000
    assert _code(_zip([("a.dcm", b"a" * 5000)]), max_member_bytes=4096) == ErrorCode.ZIP_BOMB
    many = _zip([(f"{i}.dcm", b"a" * 3000) for i in range(4)])
    assert _code(many, max_total_bytes=10_000) == ErrorCode.ZIP_BOMB
    assert _code(many, max_members=3) == ErrorCode.TOO_MANY_MEMBERS


def test_lying_size_header_is_caught_while_reading():
    data = bytearray(_zip([("a.dcm", b"a" * 50_000)]))
    # shrink the declared uncompressed size in the central directory and local header
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24 : cd + 28] = (100).to_bytes(4, "little")
    data[22:26] = (100).to_bytes(4, "little")
    with pytest.raises(ArchiveError) as ei:
        list(iter_zip(io.BytesIO(bytes(data))))
    assert ei.value.code in (ErrorCode.ZIP_BOMB, ErrorCode.BAD_ARCHIVE)


def test_nested_archives_are_not_followed():
    inner = _zip([("IM1.dcm", b"x")])
    notes = []
    got = list(
        iter_zip(io.BytesIO(_zip([("inner.zip", inner), ("renamed.dcm", inner)])), notes=notes)
    )
    assert got == []
    assert [n.code for n in notes] == [ErrorCode.NESTED_ARCHIVE, ErrorCode.NESTED_ARCHIVE]


def test_not_a_zip():
    assert _code(b"this is not a zip file") == ErrorCode.BAD_ARCHIVE


def test_folder_walk_skips_hidden_dicomdir_symlinks_and_non_dicom(tmp_path):
    series = S.make_ct_series(3)
    S.write_series(series, tmp_path / "a" / "b")
    (tmp_path / "a" / "DICOMDIR").write_bytes(S.to_bytes(series[0]))
    (tmp_path / ".hidden").mkdir()
    S.write_series(series[:1], tmp_path / ".hidden")
    (tmp_path / "a" / ".IM9.dcm").write_bytes(S.to_bytes(series[0]))
    (tmp_path / "readme.txt").write_text("not dicom")
    os.symlink(tmp_path / "a" / "b" / "IM0000.dcm", tmp_path / "link.dcm")
    found = list(iter_dicom_files(tmp_path))
    assert [p.name for p in found] == ["IM0000.dcm", "IM0001.dcm", "IM0002.dcm"]
    assert is_dicom_file(found[0])
    assert not is_dicom_file(tmp_path / "readme.txt")
    assert len(list(iter_dicom_files(tmp_path, check=False))) == 4  # readme kept unchecked
