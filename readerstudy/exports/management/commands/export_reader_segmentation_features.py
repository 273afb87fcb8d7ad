"""Radiomic features of a study's reader segmentations as FEATURES.csv (case, rater, session,
feature, value), the input of ``python -m readerstudy.analysis icc``; mirrors
``export_annotator_features``, which does the same for the case library's annotator masks."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from readerstudy.cases.annotator_features import FeatureError, radiomics_extractor, write_features
from readerstudy.exports.segmentation_archive import (
    checked_segmentations,
    segmentation_feature_rows,
)
from readerstudy.studies.errors import StudyError
from readerstudy.studies.models import ReaderStudy


class Command(BaseCommand):
    help = (
        "Compute the DLRN radiomic features of each locked reader segmentation of a study"
        " (long-format CSV: the reader is the rater, s<session>-<condition> the session)."
    )

    def add_arguments(self, parser):
        parser.add_argument("study", type=int, help="the study's id")
        parser.add_argument("--out", required=True, type=Path, help="FEATURES.csv to write")
        parser.add_argument(
            "--params",
            type=Path,
            help="PyRadiomics parameters (YAML) instead of the DLRN model's",
        )
        parser.add_argument("--case", action="append", default=[], help="only these case codes")

    def handle(self, *args, study, out, params, case, **options):
        if params is not None and not params.is_file():
            raise CommandError(f"{params}: no such parameter file")
        found = ReaderStudy.objects.filter(pk=study).first()
        if found is None:
            raise CommandError(f"no study with id {study}")
        try:
            segs = checked_segmentations(found)
        except StudyError as exc:
            raise CommandError(f"study {study}: {exc.message}") from None
        if case:
            segs = [s for s in segs if s.assignment.study_case.case.code in case]
            if not segs:
                raise CommandError(f"no locked segmentation of case {', '.join(case)}")
        segs.sort(key=lambda s: (s.assignment.study_case.case.code, s.assignment.pk))
        try:
            extractor = radiomics_extractor(params)
            count = write_features(out, segmentation_feature_rows(segs, extractor))
        except (FeatureError, StudyError) as exc:
            raise CommandError(f"features not written: {exc}") from None
        except ImportError as exc:
            raise CommandError(f"the radiomics extractor cannot be loaded: {exc}") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"{count} feature values of {len(segs)} reader segmentations written to {out}"
            )
        )
