from django.apps import AppConfig


class WorkforceConfig(AppConfig):
    name = "joinedup.workforce"
    label = "workforce"
    verbose_name = "Workforce"
