from django.apps import AppConfig


class ReadingConfig(AppConfig):
    name = "readerstudy.reading"
    label = "reading"
    verbose_name = "Reading"

    def ready(self):
        from readerstudy.core.navigation import register_link

        register_link("reading-worklist", "My reading", lambda u: u.is_reader)
