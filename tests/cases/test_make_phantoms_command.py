import hashlib

import numpy as np
import pytest
import SimpleITK as sitk
from django.core.management import call_command
from django.core.management.base import CommandError


def _digest(folder):
    return hashlib.sha256(
        b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())
    ).hexdigest()


def test_make_phantoms_writes_loadable_series_with_aligned_masks(tmp_path, capsys):
    call_command(
        "make_phantoms", "--out", str(tmp_path / "a"), "--n", "2", "--seed", "4", "--matrix", "128"
    )
    assert "wrote 2 cases" in capsys.readouterr().out
    case_dirs = sorted(p for p in (tmp_path / "a").iterdir() if p.is_dir())
    assert len(case_dirs) == 2
    for folder in case_dirs:
        reader = sitk.ImageSeriesReader()
        reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
        image = reader.Execute()
        assert 24 <= image.GetSize()[2] <= 36
        assert 4.0 <= image.GetSpacing()[2] <= 6.0
        assert np.allclose(image.GetDirection(), (1, 0, 0, 0, 1, 0, 0, 0, 1))
        mask = sitk.ReadImage(str(tmp_path / "a" / f"{folder.name}_mask.nii.gz"))
        assert mask.GetSize() == image.GetSize()
        assert np.allclose(mask.GetOrigin(), image.GetOrigin(), atol=1e-3)
        assert np.allclose(mask.GetSpacing(), image.GetSpacing(), atol=1e-4)
        hu = sitk.GetArrayFromImage(image)[sitk.GetArrayFromImage(mask) > 0]
        assert 45 <= hu.mean() <= 85  # acute blood under the mask
    call_command(
        "make_phantoms", "--out", str(tmp_path / "b"), "--n", "2", "--seed", "4", "--matrix", "128"
    )
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")  # same seed, same bytes


def test_make_phantoms_refuses_bad_arguments(tmp_path):
    with pytest.raises(CommandError, match="--n must be at least 1"):
        call_command("make_phantoms", "--out", str(tmp_path), "--n", "0")
