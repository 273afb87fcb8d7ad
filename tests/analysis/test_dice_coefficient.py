"""The Dice coefficient against two reference implementations (SciPy, SimpleITK)."""

import math

import numpy as np
import pytest
import SimpleITK as sitk
from scipy.spatial.distance import dice as scipy_dice_dissimilarity

from readerstudy.analysis.dice import dice


def _sitk_dice(a: np.ndarray, b: np.ndarray) -> float:
    measures = sitk.LabelOverlapMeasuresImageFilter()
    measures.Execute(
        sitk.GetImageFromArray(a.astype(np.uint8)), sitk.GetImageFromArray(b.astype(np.uint8))
    )
    return measures.GetDiceCoefficient()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dice_equals_scipy_and_simpleitk_on_random_masks(seed):
    rng = np.random.default_rng(seed)
    a = rng.random((6, 20, 24)) < 0.3
    b = np.logical_or(a & (rng.random(a.shape) < 0.8), rng.random(a.shape) < 0.1)
    value = dice(a, b)
    assert value == pytest.approx(1 - scipy_dice_dissimilarity(a.ravel(), b.ravel()), abs=1e-12)
    assert value == pytest.approx(_sitk_dice(a, b), abs=1e-12)


def test_identical_disjoint_empty_and_mismatched_masks():
    box = np.zeros((4, 8, 8), np.uint8)
    box[1:3, 2:6, 2:6] = 1
    other = np.roll(box, 4, axis=2)
    assert dice(box, box) == 1.0
    assert dice(box, other) == 0.0
    assert dice(box, np.roll(box, 2, axis=2)) == pytest.approx(0.5)
    assert dice(box * 7, box) == 1.0  # nonzero is inside
    assert math.isnan(dice(np.zeros_like(box), np.zeros_like(box)))
    with pytest.raises(ValueError, match="differ in shape"):
        dice(box, box[:, :, :4])
