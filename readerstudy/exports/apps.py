from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "readerstudy.exports"
    label = "exports"
    verbose_name = "Exports and analyses"

    def ready(self):
        from readerstudy.core.navigation import register_link

        register_link(
            "export-list", "Exports and analyses", lambda u: u.is_statistician or u.is_coordinator
        )
