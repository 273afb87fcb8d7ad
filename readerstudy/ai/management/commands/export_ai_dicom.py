"""Write a finished job's outputs as DICOM: the mask as a Segmentation, heatmaps as Parametric Maps."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from readerstudy.ai import dicom_export
from readerstudy.ai.models import InferenceOutput


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("job", help="inference job id")
        parser.add_argument("--out", required=True, help="directory to write the DICOM files to")

    def handle(self, *args, job, out, **options):
        try:
            output = (
                InferenceOutput.objects.select_related("job__model_version", "job__series")
                .filter(job_id=job)
                .first()
            )
        except ValidationError:
            raise CommandError(f"{job!r} is not a job id") from None
        if output is None:
            raise CommandError(f"job {job} has no output (unknown job or not finished)")
        try:
            objects = dicom_export.export_objects(output)
        except dicom_export.ExportRefused as exc:
            raise CommandError(str(exc)) from None
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        for obj in objects:
            (folder / obj.name).write_bytes(obj.data)
            self.stdout.write(str(folder / obj.name))
