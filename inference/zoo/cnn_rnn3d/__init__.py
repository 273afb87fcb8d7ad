"""Seed 002's joint CNN-RNN ("3D") model: ICH and five subtypes, per scan and per slice."""
