from django.apps import AppConfig


class PopulationConfig(AppConfig):
    name = "joinedup.population"
    label = "population"
    verbose_name = "Population health"

    def ready(self) -> None:
        from joinedup.population.measures import register

        register()
