from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "readerstudy.cases"
    label = "cases"
    verbose_name = "Case library"

    def ready(self):
        from django.db.models.signals import post_delete

        from readerstudy.core.navigation import register_link

        from . import frames
        from .models import Series

        post_delete.connect(frames.forget_deleted_series, sender=Series)

        register_link("case-list", "Case library", lambda u: u.is_coordinator)
