"""Seed 004 as a plug-in: 2D CNN -> bidirectional GRU -> stacking GRU (``ich_subtypes_cnn_bigru``)."""
