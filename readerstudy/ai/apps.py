from django.apps import AppConfig


class AiConfig(AppConfig):
    name = "readerstudy.ai"
    label = "ai"
    verbose_name = "Models and inference"
