from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "readerstudy.cases"
    label = "cases"
    verbose_name = "Case library"

    def ready(self):
        from readerstudy.core.navigation import register_link

        register_link("case-list", "Case library", lambda u: u.is_coordinator)
