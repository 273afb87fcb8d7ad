"""Trainers the ``train`` sub-command dispatches to by ``--model-id``.

Each value is ``"module:function"``; the function takes the parsed ``argparse`` namespace
(common flags: ``out``, ``n_cases``, ``seed``, ``epochs``, ``threads``, ``version``; a
``None`` value means the trainer's own default) and ignores what it does not use.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from typing import Any

TRAINERS: dict[str, str] = {
    "cvst_ich_demo": "inference.train:run_cli",
    "ich_subtypes_cnn_bigru": "inference.zoo.cnn_bigru.train:run_cli",
    "ich_subtypes_cnn_rnn3d": "inference.zoo.cnn_rnn3d.train:run_cli",
    "ich_location_dtvit": "inference.zoo.dtvit.train:run_cli",
    "cvt_hematoma_dlrn": "inference.zoo.dlrn.train:run_cli",
}


class UnknownTrainerError(LookupError):
    pass


def get_trainer(model_id: str) -> Callable[[argparse.Namespace], Any]:
    if model_id not in TRAINERS:
        raise UnknownTrainerError(
            f"no trainer for model id {model_id!r}; trainers: {', '.join(sorted(TRAINERS))}"
        )
    module, _, attr = TRAINERS[model_id].partition(":")
    trainer: Callable[[argparse.Namespace], Any] = getattr(importlib.import_module(module), attr)
    return trainer
