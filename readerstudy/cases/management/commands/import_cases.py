"""Import DICOM studies from folders (searched recursively) and zips, optionally with labels.

A study that is refused is reported on one line and the others are still imported; the command
then ends with a one-line error and exit status 2. ``--collection`` is created with the first
study imported, never for refused ones.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from readerstudy.cases.errors import ImportFailed, LabelError
from readerstudy.cases.ingest import import_study
from readerstudy.cases.labels import import_labels_csv
from readerstudy.cases.slice_labels import import_slice_labels_csv
from readerstudy.cases.units import import_units


class Command(BaseCommand):
    help = "Import studies: each zip, and each folder that holds DICOM files, is one study."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path)
        parser.add_argument("--collection", help="collection name (created if missing)")
        parser.add_argument("--labels", type=Path, help="labels CSV (see docs)")
        parser.add_argument(
            "--slice-labels", type=Path, help="slice-level labels CSV (one row per slice)"
        )
        parser.add_argument(
            "--primary-series",
            help="SeriesInstanceUID (original or de-identified) to use instead of the automatic choice",
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(
        self, *args, paths, collection, labels, slice_labels, no_progress, primary_series, **options
    ):
        try:
            units = import_units(paths)
        except FileNotFoundError as exc:
            raise CommandError(str(exc), returncode=2) from None
        if not units:
            raise CommandError("no DICOM folders or zips found", returncode=2)
        created = existing = failed = 0
        first_failure = ""
        for unit in tqdm(units, desc="importing", unit="study", disable=no_progress):
            label = unit.name
            try:
                outcome = import_study(
                    unit, collection_name=collection, primary_series=primary_series
                )
            except ImportFailed as exc:
                failed += 1
                details = "; ".join(f"[{e['code']}] {e['message']}" for e in exc.errors[:5])
                line = f"{label}: not imported: {details}".replace("\n", " ")
                first_failure = first_failure or line
                tqdm.write(self.style.ERROR(line), file=self.stderr)
                continue
            created += outcome.created
            existing += not outcome.created
            for note in outcome.excluded[:5]:
                tqdm.write(
                    f"{label}: left out: [{note['code']}] {note['message']}", file=self.stdout
                )
        self.stdout.write(
            self.style.SUCCESS(
                f"imported {created} new, {existing} already present, {failed} failed"
            )
        )
        for path, importer, what in (
            (labels, lambda p: import_labels_csv(p, base_dir=p.parent), "labels"),
            (slice_labels, import_slice_labels_csv, "slice labels"),
        ):
            if not path:
                continue
            try:
                summary = importer(path)
            except LabelError as exc:
                raise CommandError(
                    f"{what} not imported:\n" + "\n".join(exc.errors), returncode=2
                ) from None
            self.stdout.write(self.style.SUCCESS(summary.message))
        if failed:
            others = "" if failed == len(units) else "; the others were imported"
            raise CommandError(
                f"{failed} of {len(units)} studies failed, first: {first_failure}{others}",
                returncode=2,
            )
