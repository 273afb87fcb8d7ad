"""Import a model's predictions made elsewhere as a model version of a study."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from readerstudy.studies.errors import StudyError
from readerstudy.studies.external_predictions import (
    DEFAULT_THRESHOLD,
    SourceFile,
    import_predictions,
)
from readerstudy.studies.models import ReaderStudy


def _source(path: str) -> SourceFile:
    file = Path(path)
    if not file.is_file():
        raise CommandError(f"{path}: no such file")
    return SourceFile(file.name, file.read_bytes())


class Command(BaseCommand):
    help = (
        "Import per-case (and optionally per-slice) probabilities from a CSV or JSON file as a "
        "model version with one output per case, checked against the study's endpoint labels."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="predictions, .csv or .json (see docs/models.md)")
        parser.add_argument("--study", required=True, type=int, help="the study's id")
        parser.add_argument("--model-name", required=True)
        parser.add_argument("--model-version", required=True)
        parser.add_argument("--slices", help="slice-level probabilities, .csv")
        parser.add_argument(
            "--threshold", type=float, default=DEFAULT_THRESHOLD,
            help="the 'default' operating point's threshold when the file names none",
        )  # fmt: skip
        parser.add_argument("--user", help="the importing user's username")

    def handle(self, *args, **options):
        study = ReaderStudy.objects.filter(pk=options["study"]).first()
        if study is None:
            raise CommandError(f"no study {options['study']}")
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"no user {options['user']!r}")
        try:
            version = import_predictions(
                study,
                model_name=options["model_name"],
                model_version=options["model_version"],
                predictions=_source(options["file"]),
                slices=_source(options["slices"]) if options["slices"] else None,
                user=user,
                threshold=options["threshold"],
            )
        except StudyError as exc:
            raise CommandError(exc.message) from None
        outputs = version.jobs.count()
        self.stdout.write(f"imported {version.model_id} {version.version}: {outputs} case outputs")
