import pytest

from readerstudy.analysis.agreement import fleiss_kappa
from readerstudy.analysis.panel_agreement import panel_agreement


def test_fleiss_kappa_and_percent_agreement_by_hand():
    # counts per case (no, yes): (0,3) (2,1) (2,1) (3,0); P-bar = 2/3, Pe = (7^2 + 5^2) / 12^2
    ratings = [[1, 1, 1], [0, 0, 1], [1, 0, 0], [0, 0, 0]]
    result = panel_agreement(ratings)
    p_bar, p_e = 2 / 3, (49 + 25) / 144
    assert result["fleiss_kappa"] == pytest.approx((p_bar - p_e) / (1 - p_e))
    assert result["fleiss_kappa"] == pytest.approx(fleiss_kappa([[0, 3], [2, 1], [2, 1], [3, 0]]))
    assert result["percent_agreement"] == pytest.approx(100 * p_bar)
    assert result["unanimous"] == pytest.approx(50.0)
    assert (result["n_cases"], result["n_raters"]) == (4, 3)


def test_class_labels_and_a_single_category():
    assert panel_agreement([["deep", "deep"], ["lobar", "deep"]])["percent_agreement"] == 50.0
    same = panel_agreement([["none", "none", "none"]])
    assert same["fleiss_kappa"] is None and same["percent_agreement"] == 100.0


def test_unequal_raters_are_refused():
    with pytest.raises(ValueError, match="same number"):
        panel_agreement([[1, 0], [1]])
