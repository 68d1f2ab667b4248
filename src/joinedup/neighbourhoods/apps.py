from django.apps import AppConfig


class NeighbourhoodsConfig(AppConfig):
    name = "joinedup.neighbourhoods"
    label = "neighbourhoods"
    verbose_name = "Integrated neighbourhood teams"

    def ready(self) -> None:
        from joinedup.neighbourhoods.fhir_providers import register

        register()
