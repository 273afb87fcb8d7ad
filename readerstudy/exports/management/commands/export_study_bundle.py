"""Write a study's bundle (docs/bundle.md): ``export_study_bundle STUDY --out FILE.zip``."""

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from readerstudy.analysis.bundle import BundleError
from readerstudy.core.errors import DomainError
from readerstudy.exports.bundle_export import export_bundle
from readerstudy.studies.models import ReaderStudy


def user_named(name: str | None):
    if not name:
        return None
    user = get_user_model().objects.filter(username=name).first()
    if user is None:
        raise CommandError(f"no user {name!r}")
    return user


class Command(BaseCommand):
    help = "Write a study's design, reads, cases, truth, models, software and report as a zip."

    def add_arguments(self, parser):
        parser.add_argument("study", type=int, help="the study's id")
        parser.add_argument("--out", required=True, help="the zip to write")
        parser.add_argument(
            "--images", action="store_true", help="include the de-identified DICOM files"
        )
        parser.add_argument(
            "--options",
            help="report options as a JSON object (default: the latest analysis run's), "
            "e.g. '{\"n_bootstrap\": 200}'",
        )
        parser.add_argument("--user", help="the exporting user's username (audit trail)")

    def handle(self, *args, **options):
        study = ReaderStudy.objects.filter(pk=options["study"]).first()
        if study is None:
            raise CommandError(f"no study {options['study']}")
        report_options = None
        if options["options"]:
            try:
                report_options = json.loads(options["options"])
            except ValueError as exc:
                raise CommandError(f"--options is not JSON: {exc}") from exc
            if not isinstance(report_options, dict):
                raise CommandError("--options must be a JSON object")
        out = Path(options["out"])
        if not out.parent.is_dir():
            raise CommandError(f"{out.parent}: no such folder")
        try:
            summary = export_bundle(
                study,
                out,
                user=user_named(options["user"]),
                report_options=report_options,
                images=options["images"],
            )
        except (BundleError, DomainError) as exc:
            raise CommandError(exc.message) from exc
        except ValueError as exc:  # report options the analysis refuses
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"wrote {summary.path} ({summary.bytes} bytes, {summary.files} files; "
            f"{summary.rows.get('revisions.csv', 0)} answer revisions)"
        )
