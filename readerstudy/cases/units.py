"""Split import paths into studies: each zip is one unit, each folder holding files is one."""

import os
from pathlib import Path

from .dicom.archives import is_zip


def import_units(paths: list[Path]) -> list[Path]:
    units: list[Path] = []
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist")
        if path.is_file():
            units.append(path)
            continue
        for folder, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            visible = [f for f in files if not f.startswith(".") and f.upper() != "DICOMDIR"]
            zips = [Path(folder) / f for f in sorted(visible) if is_zip(Path(folder) / f)]
            units.extend(zips)
            if len(visible) > len(zips) and any(
                not f.endswith((".csv", ".json", ".nii.gz", ".txt", ".md")) for f in visible
            ):
                units.append(Path(folder))
    return units
