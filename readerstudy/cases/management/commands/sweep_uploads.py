"""Remove uploads whose import ended, has no job, or was abandoned (see cases.sweep)."""

from django.core.management.base import BaseCommand, CommandError

from readerstudy.cases.sweep import DEFAULT_HOURS, sweep_uploads


class Command(BaseCommand):
    help = (
        "Remove uploaded files left behind: those of ended imports, those without a job and, "
        "once unchanged for --hours, those of imports that never finished (their jobs fail as "
        "upload_abandoned) and files of requests that never ended. Run it hourly (cron)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--hours", type=float, default=DEFAULT_HOURS,
            help=f"age after which an unfinished upload counts as abandoned ({DEFAULT_HOURS:g})",
        )  # fmt: skip

    def handle(self, *args, hours, **options):
        try:
            report = sweep_uploads(older_than_hours=hours)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"removed {report.ended} ended, {report.missing} without a job, "
            f"{report.abandoned} abandoned, {report.staged} staged request files; "
            f"kept {report.kept} in progress"
        )
