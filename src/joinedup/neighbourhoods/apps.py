from django.apps import AppConfig


class NeighbourhoodsConfig(AppConfig):
    name = "joinedup.neighbourhoods"
    label = "neighbourhoods"
    verbose_name = "Integrated neighbourhood teams"
