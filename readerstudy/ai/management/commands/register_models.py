"""Register the installed model plug-ins (entry points) as model versions."""

from django.core.management.base import BaseCommand, CommandError

from readerstudy.ai.registry import sync_installed_models


class Command(BaseCommand):
    help = "Validate and register every installed model plug-in's manifest."

    def handle(self, *args, **options):
        try:
            versions = sync_installed_models()
        except Exception as exc:  # a broken plug-in: say which and why
            raise CommandError(f"model registration failed: {exc}") from None
        for version in versions:
            self.stdout.write(f"registered {version.model_id} {version.version} ({version.name})")
