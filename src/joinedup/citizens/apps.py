from django.apps import AppConfig


class CitizensConfig(AppConfig):
    name = "joinedup.citizens"
    label = "citizens"
    verbose_name = "Citizens"
