"""Import several annotators' hematoma masks from a manifest CSV.

Every row is checked first; any problem is printed with its row, nothing is stored and the
command ends with exit status 2.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from readerstudy.cases.annotator_masks import import_manifest
from readerstudy.cases.errors import AnnotatorMaskError


class Command(BaseCommand):
    help = (
        "Import annotator masks: a CSV with case (code), annotator, session (1, 2 = repeat),"
        " date (YYYY-MM-DD) and path (NIfTI on the series grid or binary DICOM SEG, relative"
        " to the CSV); optional user (an account's username) and segment (of a SEG)."
    )

    def add_arguments(self, parser):
        parser.add_argument("manifest", type=Path, help="manifest CSV")

    def handle(self, *args, manifest, **options):
        try:
            summary = import_manifest(manifest)
        except AnnotatorMaskError as exc:
            raise CommandError(
                "annotator masks not imported:\n" + "\n".join(exc.errors), returncode=2
            ) from None
        self.stdout.write(self.style.SUCCESS(summary.message))
