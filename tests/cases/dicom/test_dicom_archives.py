"""Archive safety: traversal, absolute paths, encryption, bombs, symlinks, nesting; folder walk."""

import io
import os
import random
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


def test_every_member_gets_the_ratio_check_even_at_exactly_1_mib():
    assert _code(_zip([("IM0001.dcm", b"\x00" * (1024 * 1024))])) == ErrorCode.ZIP_BOMB
    assert _code(_zip([("IM0001.dcm", b"\x00" * 100_000)])) == ErrorCode.ZIP_BOMB


def _sparse(size: int, seed: int = 0, step: int = 512) -> bytes:
    """Deflates about 120:1 (below the per-member limit of 200)."""
    rng = random.Random(seed)
    data = bytearray(size)
    for i in range(0, size, step):
        data[i] = rng.randrange(256)
    return bytes(data)


def test_total_expansion_is_capped_relative_to_the_archive_and_absolutely(tmp_path):
    # each member stays below the per-member ratio, the archive as a whole does not
    members = [(f"IM{i:04d}.dcm", _sparse(256 * 1024, i)) for i in range(8)]
    data = _zip(members)
    assert len(list(iter_zip(io.BytesIO(data), ArchiveLimits(max_total_ratio=200)))) == 8
    assert _code(data) == ErrorCode.ZIP_BOMB  # default: 50 x the archive's size
    assert _code(data, max_total_ratio=200, max_total_bytes=1024 * 1024) == ErrorCode.ZIP_BOMB
    zpath = tmp_path / "u.zip"
    zpath.write_bytes(data)
    with pytest.raises(ArchiveError) as ei:
        extract_zip(zpath, tmp_path / "x")
    assert "expands" in ei.value.error.message
    assert not (tmp_path / "x").exists()


def test_limits_are_enforced_on_the_bytes_read_not_only_the_header(tmp_path):
    """With the directory check passed, reading still stops at the first chunk past a limit."""
    from readerstudy.cases.dicom import archives

    data = _zip([("IM0001.dcm", _sparse(4 * 1024 * 1024))])
    limits = ArchiveLimits(max_total_bytes=10 * 1024 * 1024)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members, _ = archives.inspect_zip(zf, limits)
        budget = [1024 * 1024]  # less than the member: as if earlier members used the rest
        out = io.BytesIO()
        with pytest.raises(ArchiveError) as ei:
            archives._copy_member(zf, members[0], out, limits, budget)
    assert ei.value.code == ErrorCode.ZIP_BOMB
    assert len(out.getvalue()) <= 1024 * 1024  # stopped, never read the whole member


def test_lying_header_member_is_refused_and_nothing_is_extracted(tmp_path):
    data = bytearray(_zip([("IM0001.dcm", _sparse(1024 * 1024))]))
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24 : cd + 28] = (100).to_bytes(4, "little")
    data[22:26] = (100).to_bytes(4, "little")
    zpath = tmp_path / "u.zip"
    zpath.write_bytes(bytes(data))
    with pytest.raises(ArchiveError) as ei:
        extract_zip(zpath, tmp_path / "x")
    assert ei.value.code in (ErrorCode.ZIP_BOMB, ErrorCode.BAD_ARCHIVE)
    assert not (tmp_path / "x").exists()


def test_dicom_whose_preamble_starts_like_a_zip_is_not_a_nested_archive(tmp_path):
    dcm = S.to_bytes(S.make_ct_series(1)[0])
    pk = b"PK\x03\x04" + dcm[4:]
    notes = []
    got = list(iter_zip(io.BytesIO(_zip([("IM0001.dcm", pk)])), notes=notes))
    assert [label for label, _ in got] == ["IM0001.dcm"] and notes == []
    out = extract_zip(io.BytesIO(_zip([("IM0001.dcm", pk)])), tmp_path / "x")
    assert out[0][1].read_bytes() == pk
