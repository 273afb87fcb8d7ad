"""Where a marks answer's marks lie, checked against the geometry of the case's series.

Every mark names the slice it was placed on (its de-identified SOP Instance UID). Its points
(``point_mm`` and, for an ROI, both ``corners_mm``) must lie on that slice's plane, nearer to
it than to either neighbour (within half the slice spacing), and inside the image (within half
a pixel of its edge pixels' centres). Each slice's own ImagePositionPatient is used, so a
tilted-gantry series' sheared grid is handled as stored. An ROI's ``point_mm`` is the centre of
its corners. A referenced segmentation must be one uploaded for this read.
"""

from dataclasses import dataclass

import numpy as np

from readerstudy.cases.labels import series_grid
from readerstudy.cases.models import Series
from readerstudy.studies.errors import StudyError
from readerstudy.studies.models import Assignment, QuestionType

from .segmentations import ReaderSegmentation

CENTRE_TOLERANCE_MM = 0.5


@dataclass(frozen=True)
class SeriesGeometry:
    positions: dict[str, np.ndarray]  # SOP Instance UID -> ImagePositionPatient (mm)
    row_dir: np.ndarray  # direction of increasing column index
    col_dir: np.ndarray  # direction of increasing row index
    normal: np.ndarray
    rows: int
    columns: int
    spacing_row: float  # mm between rows
    spacing_col: float  # mm between columns
    slice_spacing: float

    @classmethod
    def of(cls, series: Series) -> "SeriesGeometry":
        grid = series_grid(series)
        positions = dict(zip(grid.sop_uids, grid.positions, strict=True))
        iop = np.asarray(series.orientation, dtype=float)
        row_dir, col_dir = iop[:3], iop[3:]
        return cls(
            positions=positions,
            row_dir=row_dir,
            col_dir=col_dir,
            normal=np.cross(row_dir, col_dir),
            rows=series.rows,
            columns=series.columns,
            spacing_row=series.pixel_spacing_row,
            spacing_col=series.pixel_spacing_col,
            slice_spacing=series.slice_spacing,
        )

    def problem(self, uid: str, point) -> str | None:
        """Why ``point`` (patient mm) is not on the slice ``uid`` of this series, else None."""
        origin = self.positions.get(uid)
        if origin is None:
            return f"slice {uid} is not a slice of this case's series"
        shown = [round(float(v), 1) for v in point]
        d = np.asarray(point, dtype=float) - origin
        off = float(d @ self.normal)
        if abs(off) > self.slice_spacing / 2:
            return f"{shown} lies {off:+.1f} mm off slice {uid}'s plane"
        column = float(d @ self.row_dir) / self.spacing_col
        row = float(d @ self.col_dir) / self.spacing_row
        if not (-0.5 <= column <= self.columns - 0.5 and -0.5 <= row <= self.rows - 0.5):
            return (
                f"{shown} lies outside the image (column {column:.1f}, row {row:.1f};"
                f" the image has {self.columns} x {self.rows} pixels)"
            )
        return None


def _mark_problem(mark: dict, geometry: SeriesGeometry) -> tuple[str, str] | None:
    uid = mark["sop_instance_uid"]
    problem = geometry.problem(uid, mark["point_mm"])
    if problem:
        return "point_mm", problem
    corners = mark.get("extent_mm", {}).get("corners_mm")
    if not corners:
        return None
    for corner in corners:
        problem = geometry.problem(uid, corner)
        if problem:
            return "extent_mm", f"corner {problem}"
    centre = (np.asarray(corners[0], dtype=float) + np.asarray(corners[1], dtype=float)) / 2
    distance = float(np.linalg.norm(centre - np.asarray(mark["point_mm"], dtype=float)))
    if distance > CENTRE_TOLERANCE_MM:
        return "point_mm", f"is {distance:.1f} mm from the centre of its corners"
    return None


def check_marks(assignment: Assignment, questions, answers: dict) -> None:
    """Raise StudyError naming the first mark that does not lie where it says (see above)."""
    codes = [q.code for q in questions if q.type == QuestionType.MARKS and q.code in answers]
    if not codes:
        return
    series = Series.objects.filter(
        pk=assignment.study_case.case.primary_series_id  # type: ignore[misc]
    ).first()
    if series is None:
        raise StudyError("invalid_marks", "the case has no series to place marks on")
    geometry = SeriesGeometry.of(series)
    for code in codes:
        value = answers[code]
        for i, mark in enumerate(value["marks"]):
            found = _mark_problem(mark, geometry)
            if found:
                field, message = found
                raise StudyError(
                    "invalid_marks", f"{code}.marks.{i}.{field}: mark {mark['id']!r}: {message}"
                )
        for i, slice_mark in enumerate(value["slice_marks"]):
            if slice_mark["sop_instance_uid"] not in geometry.positions:
                raise StudyError(
                    "invalid_marks",
                    f"{code}.slice_marks.{i}: slice {slice_mark['sop_instance_uid']} is not a"
                    " slice of this case's series",
                )
        _check_segmentation(assignment, code, value.get("segmentation"))


def _check_segmentation(assignment: Assignment, code: str, segmentation: dict | None) -> None:
    if segmentation is None:
        return
    # An aided read opens with the reader's locked unaided answer: its segmentation counts.
    reads = [pk for pk in (assignment.pk, assignment.prerequisite_id) if pk]
    stored = ReaderSegmentation.objects.filter(
        assignment_id__in=reads, question=code, sha256=segmentation["sha256"]
    ).first()
    if stored is None or stored.file != segmentation["file"]:
        raise StudyError(
            "invalid_marks",
            f"{code}.segmentation: no segmentation {segmentation['sha256'][:12]}… was uploaded"
            " for this read and question",
        )
    if stored.voxels != segmentation["voxels"]:
        raise StudyError(
            "invalid_marks",
            f"{code}.segmentation.voxels: the uploaded mask has {stored.voxels} voxels,"
            f" not {segmentation['voxels']}",
        )
