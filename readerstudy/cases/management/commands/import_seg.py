"""Import a case's hematoma mask from a binary DICOM SEG (or a NIfTI on the series grid)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from readerstudy.cases.labels import import_mask
from readerstudy.cases.models import Case


class Command(BaseCommand):
    help = (
        "Check a binary DICOM SEG against the case's primary series (original or de-identified"
        " UIDs, slice positions) and store it as the case's hematoma mask; the SEG is not kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="the SEG (.dcm) or a NIfTI mask")
        parser.add_argument("--case", required=True, help="case code, e.g. RS-ABCDEFGH")
        parser.add_argument("--segment", type=int, help="segment number, if the SEG has several")

    def handle(self, *args, path, case, segment, **options):
        found = Case.objects.filter(code=case).first()
        if found is None:
            raise CommandError(f"no case with code {case!r}")
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            mask = import_mask(found, path, segment=segment)
        except (RuntimeError, ValueError) as exc:
            raise CommandError(f"{path.name}: not imported: {exc}") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"{found.code}: hematoma mask of {mask.voxels} voxels ({mask.volume_ml:.1f} ml)"
            )
        )
