"""Marks scored against truth lesions: acceptance criteria, LL/NL matching, weights, and the
records round-tripping through the RJafroc workbook."""

from __future__ import annotations

import numpy as np
import pytest

from readerstudy.analysis.froc_io import MarkRecord, TruthRecord, read_froc_xlsx, records_to_xlsx
from readerstudy.analysis.froc_scoring import (
    Criterion,
    Geometry,
    Lesion,
    Mark,
    ScoringError,
    case_mark_records,
    case_truth_records,
    hits,
    mark_from_answer,
    mask_lesions,
    match_marks,
    normalised_weights,
)

# A 10 x 20 x 20 grid, 2 mm in-plane, 5 mm slices, origin (-20, -20, 0): voxel (z, y, x) has its
# centre at (x*2 - 20, y*2 - 20, z*5).
ORIGIN, SPACING, DIRECTION = (-20.0, -20.0, 0.0), (2.0, 2.0, 5.0), (1, 0, 0, 0, 1, 0, 0, 0, 1)


def two_blobs() -> np.ndarray:
    m = np.zeros((10, 20, 20), np.uint8)
    m[2:5, 2:6, 2:6] = 1  # 48 voxels, centre x = y = 3.5 -> -13 mm, z = 3 -> 15 mm
    m[6:8, 12:14, 12:14] = 1  # 8 voxels, centre x = y = 12.5 -> 5 mm, z = 6.5 -> 32.5 mm
    return m


def test_mask_lesions_components_centroids_weights() -> None:
    lesions, geo = mask_lesions(two_blobs(), ORIGIN, SPACING, DIRECTION)
    assert [x.id for x in lesions] == [1, 2]
    assert [x.voxels for x in lesions] == [48, 8]  # largest first
    assert lesions[0].centroid_mm == pytest.approx((-13.0, -13.0, 15.0))
    assert lesions[1].centroid_mm == pytest.approx((5.0, 5.0, 32.5))
    assert [x.weight for x in lesions] == [0.5, 0.5]
    assert set(np.unique(geo.labels)) == {0, 1, 2}
    by_volume, _ = mask_lesions(two_blobs(), ORIGIN, SPACING, DIRECTION, weighting="volume")
    assert [x.weight for x in by_volume] == pytest.approx([48 / 56, 8 / 56])
    small_dropped, geo2 = mask_lesions(two_blobs(), ORIGIN, SPACING, DIRECTION, min_voxels=10)
    assert len(small_dropped) == 1 and set(np.unique(geo2.labels)) == {0, 1}


def test_mask_lesions_diagonal_voxels_are_one_component_and_empty_mask() -> None:
    m = np.zeros((3, 3, 3), np.uint8)
    m[0, 0, 0] = m[1, 1, 1] = 1
    lesions, _ = mask_lesions(m, (0, 0, 0), (1, 1, 1), DIRECTION)
    assert len(lesions) == 1
    none, _ = mask_lesions(np.zeros((3, 3, 3)), (0, 0, 0), (1, 1, 1), DIRECTION)
    assert none == []
    with pytest.raises(ScoringError, match="weighting"):
        mask_lesions(m, (0, 0, 0), (1, 1, 1), DIRECTION, weighting="size")


def test_distance_criterion_uses_radius_and_lesion_radius() -> None:
    lesion = Lesion(1, (0.0, 0.0, 0.0))
    near, far = Mark("a", (6.0, 8.0, 0.0), 3), Mark("b", (6.0, 8.1, 0.0), 3)  # 10 and 10.06 mm
    assert hits(near, lesion, Criterion("distance", 10.0))
    assert not hits(far, lesion, Criterion("distance", 10.0))
    big = Lesion(1, (0.0, 0.0, 0.0), radius_mm=20.0)
    assert hits(far, big, Criterion("distance", 10.0))
    assert not hits(far, big, Criterion("distance", 10.0, use_lesion_radius=False))


def test_mask_criterion_inside_and_outside_the_component() -> None:
    lesions, geo = mask_lesions(two_blobs(), ORIGIN, SPACING, DIRECTION)
    inside = Mark("a", (-10.0, -16.0, 10.0), 1)  # voxel (2, 2, 5): in lesion 1
    edge_out = Mark("b", (-8.0, -16.0, 10.0), 1)  # voxel (2, 2, 6): just outside
    assert hits(inside, lesions[0], Criterion("mask"), geo)
    assert not hits(edge_out, lesions[0], Criterion("mask"), geo)
    assert not hits(inside, lesions[1], Criterion("mask"), geo)
    outside_grid = Mark("c", (500.0, 0.0, 0.0), 1)
    assert not hits(outside_grid, lesions[0], Criterion("mask"), geo)
    with pytest.raises(ScoringError, match="mask component"):
        hits(inside, Lesion(1, (0.0, 0.0, 0.0)), Criterion("mask"), geo)


def test_roi_overlap_with_mask_and_with_sphere() -> None:
    lesions, geo = mask_lesions(two_blobs(), ORIGIN, SPACING, DIRECTION)
    # a rectangle on slice z = 15 mm whose box reaches lesion 1's corner voxel (x = y = -10)
    touching = Mark(
        "a", (-5.0, -5.0, 15.0), 2, "rectangle", ((-10.5, -10.5, 15.0), (0.0, 0.0, 15.0))
    )
    missing = Mark("b", (-2.0, -2.0, 15.0), 2, "rectangle", ((-7.5, -7.5, 15.0), (0.0, 0.0, 15.0)))
    assert hits(touching, lesions[0], Criterion("roi_overlap"), geo)
    assert not hits(missing, lesions[0], Criterion("roi_overlap"), geo)
    # without a mask: the box meets the sphere of radius 5 around the centroid
    sphere = Lesion(1, (0.0, 0.0, 0.0), radius_mm=5.0)
    box_near = Mark("c", (8.0, 0.0, 0.0), 2, "ellipse", ((4.0, -1.0, 0.0), (12.0, 1.0, 0.0)))
    box_far = Mark("d", (9.0, 0.0, 0.0), 2, "ellipse", ((6.0, -1.0, 0.0), (12.0, 1.0, 0.0)))
    assert hits(box_near, sphere, Criterion("roi_overlap"))
    assert not hits(box_far, sphere, Criterion("roi_overlap"))


def test_highest_rated_mark_is_the_ll_others_nl() -> None:
    lesions = [Lesion(1, (0.0, 0.0, 0.0)), Lesion(2, (50.0, 0.0, 0.0))]
    marks = [
        Mark("low", (1.0, 0.0, 0.0), 2),
        Mark("high", (2.0, 0.0, 0.0), 5),
        Mark("fp", (100.0, 0.0, 0.0), 4),
        Mark("l2", (49.0, 0.0, 0.0), 1),
    ]
    got = dict(
        (m.id, lesion) for m, lesion in match_marks(marks, lesions, Criterion("distance", 5))
    )
    assert got == {"high": 1, "low": 0, "fp": 0, "l2": 2}
    recs = case_mark_records("R1", "aided", "C1", marks, lesions, Criterion("distance", 5))
    assert recs[1] == MarkRecord("R1", "aided", "C1", 5.0, 1)
    assert sorted((r.lesion, r.rating) for r in recs) == [(0, 2.0), (0, 4.0), (1, 5.0), (2, 1.0)]


def test_a_mark_hitting_two_lesions_takes_the_nearest_and_leaves_the_other() -> None:
    lesions = [Lesion(1, (0.0, 0.0, 0.0)), Lesion(2, (6.0, 0.0, 0.0))]
    marks = [Mark("a", (4.0, 0.0, 0.0), 5), Mark("b", (1.0, 0.0, 0.0), 3)]
    got = {m.id: lesion for m, lesion in match_marks(marks, lesions, Criterion("distance", 10))}
    assert got == {"a": 2, "b": 1}


def test_marks_on_a_normal_case_are_nl() -> None:
    marks = [Mark("a", (0.0, 0.0, 0.0), 3), Mark("b", (1.0, 0.0, 0.0), 1)]
    recs = case_mark_records("R1", "unaided", "N1", marks, [], Criterion())
    assert [r.lesion for r in recs] == [0, 0]
    assert case_truth_records("N1", []) == [TruthRecord("N1", 0, 0.0)]


def test_bad_input_is_refused() -> None:
    with pytest.raises(ScoringError, match="criterion"):
        Criterion("inside")
    with pytest.raises(ScoringError, match="radius_mm"):
        Criterion("distance", 0)
    with pytest.raises(ScoringError, match="repeat"):
        match_marks([Mark("a", (0, 0, 0), 1), Mark("a", (1, 0, 0), 2)], [], Criterion())
    with pytest.raises(ScoringError, match="lesion ids"):
        match_marks([], [Lesion(0, (0, 0, 0))], Criterion())
    with pytest.raises(ScoringError, match="malformed"):
        mark_from_answer({"id": "m1", "point_mm": [1, 2], "rating": 3})
    with pytest.raises(ScoringError, match="weights"):
        normalised_weights([0.5, -1])


def test_mark_from_answer_contract() -> None:
    m = mark_from_answer(
        {
            "id": "m1",
            "tool": "ellipse",
            "sop_instance_uid": "1.2",
            "point_mm": [1, 2, 3],
            "rating": 4,
            "extent_mm": {"corners_mm": [[0, 1, 3], [2, 3, 3]]},
        }
    )
    assert m == Mark("m1", (1.0, 2.0, 3.0), 4.0, "ellipse", ((0.0, 1.0, 3.0), (2.0, 3.0, 3.0)))
    p = mark_from_answer({"id": 7, "tool": "point", "point_mm": [1, 2, 3], "rating": 1})
    assert p.corners_mm is None and p.id == "7"


def test_weights_sum_to_one() -> None:
    assert normalised_weights([None, None]) == [0.5, 0.5]
    assert normalised_weights([1, 3]) == [0.25, 0.75]
    recs = case_truth_records("C", [Lesion(2, (0, 0, 0), 3.0), Lesion(1, (0, 0, 0), 1.0)])
    assert recs == [TruthRecord("C", 1, 0.25), TruthRecord("C", 2, 0.75)]


def test_scored_records_round_trip_through_the_workbook() -> None:
    lesions = [Lesion(1, (0.0, 0.0, 0.0), 1.0), Lesion(2, (40.0, 0.0, 0.0), 3.0)]
    truth = case_truth_records("D1", lesions) + case_truth_records("N1", [])
    crit = Criterion("distance", 5)
    marks: list[MarkRecord] = []
    for reader, mod, shift, rating in (
        ("1", "A", 1.0, 4),
        ("2", "A", 9.0, 3),
        ("1", "B", 0.0, 5),
        ("2", "B", 2.0, 2),
    ):
        marks += case_mark_records(
            reader, mod, "D1", [Mark("m", (shift, 0.0, 0.0), rating)], lesions, crit
        )
        marks += case_mark_records(reader, mod, "N1", [Mark("n", (0.0, 0.0, 0.0), 1)], [], crit)
    ds = read_froc_xlsx(records_to_xlsx(truth, marks, ["1", "2"], ["A", "B"]))
    assert ds.normal_cases == ["N1"] and ds.diseased_cases == ["D1"]
    assert ds.lesion_weights == [[0.25, 0.75]]
    ll = ds.ll_array()
    assert ll[0, 0, 0, 0] == 4 and np.isneginf(ll[0, 1, 0]).all()  # reader 2 in A missed (9 mm)
    top, count = ds.nl_arrays()
    assert count[0, 1].tolist() == [1, 1]  # the miss is an NL on D1, plus the NL on N1


def test_geometry_handles_a_rotated_grid() -> None:
    # x index runs along patient -y, y index along patient +x
    geo = Geometry(
        np.ones((1, 4, 4), np.int32), (0.0, 0.0, 0.0), (1.0, 1.0, 1.0), (0, 1, 0, -1, 0, 0, 0, 0, 1)
    )
    assert geo.to_index((2.0, -3.0, 0.0)) == (0, 2, 3)
    assert geo.to_index((2.0, 3.0, 0.0)) is None
