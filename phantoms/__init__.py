"""Synthetic head-CT phantoms for tests, demos and model training.

Nothing can be downloaded in this project, so this package renders head CT series with
intracerebral haemorrhage that mimic the reference paper's two classes: CVST-related
ICH (positive, truth 1) and spontaneous ICH (negative, truth 0).  Cases are written as
valid CT Image Storage DICOM series plus a NIfTI haematoma mask on the same grid, and
everything is deterministic from the seed (byte-identical files).
"""

from .case import GENERATOR_VERSION, LABELS, PhantomCase, make_case
from .dataset import generate_dataset
from .dicom_io import write_case

__all__ = [
    "GENERATOR_VERSION",
    "LABELS",
    "PhantomCase",
    "generate_dataset",
    "make_case",
    "write_case",
]
