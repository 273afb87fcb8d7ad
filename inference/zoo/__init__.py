"""Model plug-ins beyond the seed-000 pipeline: one package per model, plus shared pieces."""
