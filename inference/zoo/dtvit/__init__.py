"""Seed 003's dual-task ViT (``ich_location_dtvit``): ICH present and haematoma location
(deep / lobar / subtentorial) per 2D slice, with attention rollout as its explanation."""
