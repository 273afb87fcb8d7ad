from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "readerstudy.demo"
    label = "demo"
    verbose_name = "Demo data"
