"""Seed 001's deep-learning radiomics nomogram (``cvt_hematoma_dlrn``)."""
