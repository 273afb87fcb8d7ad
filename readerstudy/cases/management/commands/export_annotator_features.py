"""Radiomic features of every annotator mask as FEATURES.csv (case, rater, session, feature,
value), the input of ``python -m readerstudy.analysis icc``."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from readerstudy.cases.annotator_features import (
    FeatureError,
    feature_rows,
    radiomics_extractor,
    write_features,
)
from readerstudy.cases.annotator_selectors import annotator_masks


class Command(BaseCommand):
    help = "Compute the DLRN radiomic features of each annotator mask (long-format CSV)."

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, type=Path, help="FEATURES.csv to write")
        parser.add_argument(
            "--params",
            type=Path,
            help="PyRadiomics parameters (YAML) instead of the DLRN model's",
        )
        parser.add_argument("--case", action="append", default=[], help="only these case codes")

    def handle(self, *args, out, params, case, **options):
        if params is not None and not params.is_file():
            raise CommandError(f"{params}: no such parameter file")
        masks = annotator_masks().select_related("series")
        if case:
            masks = masks.filter(case__code__in=case)
        if not masks.exists():
            raise CommandError("no annotator masks to compute features of")
        try:
            extractor = radiomics_extractor(params)
            count = write_features(out, feature_rows(masks.order_by("series_id", "pk"), extractor))
        except FeatureError as exc:
            raise CommandError(f"features not written: {exc}") from None
        except ImportError as exc:
            raise CommandError(f"the radiomics extractor cannot be loaded: {exc}") from None
        self.stdout.write(
            self.style.SUCCESS(f"{count} feature values of {masks.count()} masks written to {out}")
        )
