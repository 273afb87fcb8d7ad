"""Attention rollout maths (Abnar & Zuidema 2020) on hand-built attention matrices."""

from __future__ import annotations

import pytest
import torch

from inference.explain.rollout import attention_rollout, cls_rollout


def _att(rows: list[list[float]]) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float64)[None, None]  # (B=1, heads=1, N, N)


def test_two_layer_rollout_is_the_product_worked_by_hand():
    a1 = _att([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    a2 = _att([[0.5, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    # residual 0.5: B1 = [[.5,.5,0],[0,.5,.5],[.5,0,.5]], B2 = [[.75,.25,0],[0,1,0],[0,0,1]]
    # B2 @ B1 row 0 = .75*[.5,.5,0] + .25*[0,.5,.5] = [.375, .5, .125]
    expected = torch.tensor(
        [[0.375, 0.5, 0.125], [0.0, 0.5, 0.5], [0.5, 0.0, 0.5]], dtype=torch.float64
    )
    got = attention_rollout([a1, a2])[0]
    assert torch.allclose(got, expected, atol=1e-12)
    # order matters: layer 1 first, so the reversed product is different
    assert not torch.allclose(attention_rollout([a2, a1])[0], expected)


def test_heads_are_averaged_and_rows_renormalised():
    h1 = [[1.0, 0.0], [0.0, 1.0]]
    h2 = [[0.0, 1.0], [1.0, 0.0]]
    att = torch.tensor([h1, h2], dtype=torch.float64)[None]  # mean = all 0.5
    got = attention_rollout([att], residual=0.0)[0]
    assert torch.allclose(got, torch.full((2, 2), 0.5, dtype=torch.float64))
    # rows of a rollout stay distributions whatever the inputs' scale
    unnormalised = _att([[2.0, 2.0], [1.0, 3.0]])
    rows = attention_rollout([unnormalised, unnormalised]).sum(-1)
    assert torch.allclose(rows, torch.ones_like(rows))


def test_cls_row_over_the_patch_grid():
    n = 1 + 2 * 2
    att = torch.zeros(1, 1, n, n, dtype=torch.float64)
    att[0, 0, :, 4] = 1.0  # every token attends to the last patch (row 1, column 1)
    grid = cls_rollout([att], (2, 2), residual=0.0)
    assert grid.shape == (1, 2, 2)
    assert torch.allclose(grid[0], torch.tensor([[0.0, 0.0], [0.0, 1.0]], dtype=torch.float64))


def test_bad_inputs_name_the_problem():
    with pytest.raises(ValueError, match="at least one layer"):
        attention_rollout([])
    with pytest.raises(ValueError, match="head_fusion"):
        attention_rollout([_att([[1.0]])], head_fusion="median")
    with pytest.raises(ValueError, match="patch grid"):
        cls_rollout([torch.ones(1, 1, 4, 4) / 4], (2, 2))
