"""Two OR conventions of the standard MRMC packages: sigma2_TR < 0 taken as 0 in sample-size
work, and one per-reader fixed-reader SE from that reader's Var and Cov1 over all modalities."""

from itertools import combinations

import numpy as np
import pytest

from readerstudy.analysis.fom import fom_from_arrays
from readerstudy.analysis.mrmc_or import or_analysis
from readerstudy.analysis.power import OrVarianceComponents, or_power, or_sample_size

from .refdata import mrmc_dataset


@pytest.fixture(scope="module")
def franken_vc():
    ratings, truth, mods, readers, _ = mrmc_dataset("Franken")
    res = or_analysis(fom_from_arrays("auc", truth, ratings, mods, readers))
    return OrVarianceComponents.from_analysis(res, n_cases_pilot=truth.size)


def test_franken_has_a_negative_reader_by_modality_variance(franken_vc):
    assert franken_vc.var_tr == pytest.approx(-0.0007127629357, abs=1e-12)  # OR-DBM MRMC 2.51
    assert franken_vc.cov2 < franken_vc.cov3


def test_a_negative_var_tr_is_taken_as_zero_in_the_sample_size(franken_vc):
    """Franken, 6 readers, effect 0.05, power 0.8: the standard packages give 121 cases; the
    negative sigma2_TR used as it is gave 56."""
    rrrc = or_sample_size(franken_vc, 0.05, n_readers=6, target_power=0.8)
    assert rrrc.n_cases == 121
    assert rrrc.ddf == pytest.approx(5.0)  # sigma2_TR = 0 and Cov2 - Cov3 clipped: (J - 1)
    assert rrrc.power == pytest.approx(0.8004468957, abs=1e-9)
    # RRFC takes the same clipped terms: here the same error term as RRRC.
    assert or_sample_size(franken_vc, 0.05, 6, 0.8, "RRFC").n_cases == 121


def test_no_refusal_for_a_non_positive_error_term(franken_vc):
    """Before: the RRFC error term sigma2_TR + (K/K*)(Var - Cov1 - (Cov2 - Cov3)) went
    negative for Franken and the power was refused."""
    res = or_power(franken_vc, 0.05, n_readers=4, n_cases=500, analysis="RRFC")
    assert 0 < res.power < 1


def _three_modalities():
    ratings, truth, mods, readers, _ = mrmc_dataset("VanDyke")
    rng = np.random.default_rng(7)
    third = np.clip(np.rint(ratings.mean(axis=0) + rng.normal(0, 0.8, ratings.shape[1:])), 1, 5)
    return np.concatenate([ratings, third[None]]), truth, [*mods, "3"], readers


def test_per_reader_fixed_reader_se_uses_every_modality():
    ratings, truth, mods, readers = _three_modalities()
    res = or_analysis(fom_from_arrays("auc", truth, ratings, mods, readers))
    t, r = res.theta.shape
    table = res.frrc["per_reader"]
    for j, reader in enumerate(readers):
        idx = [i * r + j for i in range(t)]
        block = res.cov[np.ix_(idx, idx)]
        var_j = np.diag(block).mean()
        cov1_j = np.mean([block[a, b] for a, b in combinations(range(t), 2)])
        expected = np.sqrt(2 * (var_j - cov1_j))
        rows = table[table["reader"] == reader]
        assert len(rows) == 3  # one row per pair of modalities
        np.testing.assert_allclose(rows["se"].to_numpy(), expected, rtol=1e-12)


def test_with_two_modalities_the_per_reader_se_is_the_pair_s_own():
    ratings, truth, mods, readers, _ = mrmc_dataset("VanDyke")
    res = or_analysis(fom_from_arrays("auc", truth, ratings, mods, readers))
    r = len(readers)
    for j, row in res.frrc["per_reader"].reset_index(drop=True).iterrows():
        a, b = j, r + j
        own = np.sqrt(res.cov[a, a] + res.cov[b, b] - 2 * res.cov[a, b])
        assert row["se"] == pytest.approx(own, rel=1e-12)
