"""Synthetic head-CT phantoms for tests, demos and model training.

Nothing can be downloaded in this project, so this package renders head CT series with
intracerebral haemorrhage that mimic the reference paper's two classes: CVST-related
ICH (positive, truth 1) and spontaneous ICH (negative, truth 0).  Cases are written as
valid CT Image Storage DICOM series plus a NIfTI haematoma mask on the same grid, and
everything is deterministic from the seed (byte-identical files).

For the subtype studies (seeds 002-004) it also renders normal heads and haemorrhage of
five subtypes (IPH with its location class, IVH, SAH, SDH, EDH) with a label map and
slice-level labels, as thick, thin or gantry-tilted series (``make_subtype_case``,
``generate_subtype_dataset``, ``python -m phantoms --subtypes``).
"""

from .case import GENERATOR_VERSION, LABELS, PhantomCase, make_case
from .dataset import generate_dataset
from .dicom_io import write_case
from .subtype_case import SubtypeCase, make_subtype_case
from .subtype_dataset import generate_subtype_dataset
from .subtypes import LOCATIONS, SUBTYPES

__all__ = [
    "GENERATOR_VERSION",
    "LABELS",
    "LOCATIONS",
    "SUBTYPES",
    "PhantomCase",
    "SubtypeCase",
    "generate_dataset",
    "generate_subtype_dataset",
    "make_case",
    "make_subtype_case",
    "write_case",
]
