"""readerstudy: AI-assisted reader studies in medical imaging.

Kept import-free on purpose: the Django-free parts (``readerstudy.analysis``) must be
importable without Django or Celery. The Celery app lives in ``readerstudy.celery``.
"""
