from django.apps import AppConfig


class DischargeConfig(AppConfig):
    name = "joinedup.discharge"
    label = "discharge"
    verbose_name = "Discharge to assess"
