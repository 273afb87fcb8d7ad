"""Write synthetic head-CT phantom series (CVST-ICH-like and sICH-like) with labels and masks."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Write N synthetic head-CT series (CT Image Storage, one file per slice), a hematoma "
        "mask (NIfTI) per case and labels.csv. Same seed, same bytes."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, type=Path, help="output folder")
        parser.add_argument("--n", type=int, default=10, help="number of cases")
        parser.add_argument("--seed", type=int, default=0, help="random seed")
        parser.add_argument("--thin", action="store_true", help="1-1.25 mm slices")
        parser.add_argument("--matrix", type=int, default=512, help="in-plane matrix size")
        parser.add_argument(
            "--positive-fraction", type=float, default=0.35, help="share of CVST-ICH cases"
        )

    def handle(self, *args, out: Path, n: int, seed: int, thin: bool, matrix: int, **options):
        from phantoms import generate_dataset

        if n < 1:
            raise CommandError("--n must be at least 1")
        if not 64 <= matrix <= 1024:
            raise CommandError("--matrix must be between 64 and 1024")
        fraction = options["positive_fraction"]
        if not 0.0 <= fraction <= 1.0:
            raise CommandError("--positive-fraction must be between 0 and 1")
        records = generate_dataset(
            out, n, seed, thin=thin, matrix=matrix, positive_fraction=fraction
        )
        positives = sum(1 for r in records if r["truth"] == 1)
        self.stdout.write(
            self.style.SUCCESS(
                f"wrote {len(records)} cases ({positives} CVST-ICH, {len(records) - positives} "
                f"sICH) to {out}"
            )
        )
