"""Import cases' clinical data from a CSV (``case_id`` and one column per variable).

Every row is checked first; any problem is printed with its row and column, nothing is stored
and the command ends with exit status 2 (as ``import_cases --labels``).
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from readerstudy.cases.clinical import define_variable, import_clinical_csv, parse_definition
from readerstudy.cases.errors import ClinicalError


class Command(BaseCommand):
    help = "Import clinical data: one row per case (case_id = the case code), typed columns."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="clinical CSV")
        parser.add_argument(
            "--collection", help="the rows must name cases of this collection of the library"
        )
        parser.add_argument(
            "--define",
            action="append",
            default=[],
            metavar="NAME:TYPE[:A|B]",
            help="declare an extra variable first (number, integer, boolean, text, or "
            "category with its options), e.g. --define gcs:integer --define side:category:L|R",
        )

    def handle(self, *args, path, collection, define, **options):
        try:
            for spec in define:
                name, kind, choices = parse_definition(spec)
                define_variable(name, kind, choices)
                self.stdout.write(f"variable {name!r} ({kind}) declared")
            summary = import_clinical_csv(path, collection=collection)
        except ClinicalError as exc:
            raise CommandError(
                "clinical data not imported:\n" + "\n".join(exc.errors), returncode=2
            ) from None
        self.stdout.write(self.style.SUCCESS(summary.message))
