from django.apps import AppConfig


class CarehomesConfig(AppConfig):
    name = "joinedup.carehomes"
    label = "carehomes"
    verbose_name = "Care homes"
