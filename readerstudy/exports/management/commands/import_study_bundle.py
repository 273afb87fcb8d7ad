"""Rebuild a study from its bundle (docs/bundle.md): ``import_study_bundle FILE.zip``."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from readerstudy.analysis.bundle import BundleError
from readerstudy.exports.bundle_import import import_bundle

from .export_study_bundle import user_named


class Command(BaseCommand):
    help = "Check a study bundle's hashes and import the study, all of it or nothing."

    def add_arguments(self, parser):
        parser.add_argument("bundle", help="the bundle's zip")
        parser.add_argument("--user", help="the importing user's username (audit trail)")

    def handle(self, *args, **options):
        path = Path(options["bundle"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            summary = import_bundle(path, user=user_named(options["user"]))
        except BundleError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        self.stdout.write(
            f"imported study {summary.study.pk} {summary.study.title!r}: "
            f"{summary.created_cases} new case(s), {summary.reused_cases} already here, "
            f"{summary.rows.get('revisions.csv', 0)} answer revisions, {summary.images} images"
        )
