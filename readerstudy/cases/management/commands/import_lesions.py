"""Truth lesions for FROC scoring: from a lesions CSV, or from cases' hematoma masks."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from readerstudy.cases.errors import LabelError
from readerstudy.cases.lesions import extract_mask_lesions, import_lesions_csv
from readerstudy.cases.models import Case, HematomaMask


class Command(BaseCommand):
    help = (
        "Store cases' truth lesions: import_lesions CSV (case_code, lesion_id, x_mm, y_mm, z_mm,"
        " optional radius_mm, weight), or import_lesions --from-masks [--case CODE ...] (the"
        " connected components of each case's hematoma mask)."
    )

    def add_arguments(self, parser):
        parser.add_argument("csv", nargs="?", type=Path, help="lesions CSV")
        parser.add_argument("--from-masks", action="store_true", help="use the hematoma masks")
        parser.add_argument("--case", action="append", default=[], help="case code (repeatable)")
        parser.add_argument("--weighting", choices=("equal", "volume"), default="equal")
        parser.add_argument("--min-voxels", type=int, default=1)

    def handle(self, *args, csv, from_masks, case, weighting, min_voxels, **options):
        if bool(csv) == bool(from_masks):
            raise CommandError("give either a lesions CSV or --from-masks")
        if csv:
            if not csv.is_file():
                raise CommandError(f"{csv}: no such file")
            try:
                summary = import_lesions_csv(csv)
            except LabelError as exc:
                raise CommandError("not imported:\n  " + "\n  ".join(exc.errors)) from None
            self.stdout.write(
                self.style.SUCCESS(f"{summary.lesions} lesions of {summary.cases} cases")
            )
            return
        masks = HematomaMask.objects.select_related("case")
        if case:
            unknown = sorted(
                set(case) - set(Case.objects.filter(code__in=case).values_list("code", flat=True))
            )
            if unknown:
                raise CommandError(f"no case with code {', '.join(unknown)}")
            masks = masks.filter(case__code__in=case)
        for mask in masks.order_by("case__code"):
            try:
                rows = extract_mask_lesions(mask.case, weighting=weighting, min_voxels=min_voxels)
            except ValueError as exc:
                raise CommandError(f"{mask.case.code}: {exc}") from None
            self.stdout.write(f"{mask.case.code}: {len(rows)} lesions")
