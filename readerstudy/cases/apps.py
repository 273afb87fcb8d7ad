from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "readerstudy.cases"
    label = "cases"
    verbose_name = "Case library"
