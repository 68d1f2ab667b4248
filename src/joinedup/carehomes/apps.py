from django.apps import AppConfig


class CarehomesConfig(AppConfig):
    name = "joinedup.carehomes"
    label = "carehomes"
    verbose_name = "Care homes"

    def ready(self) -> None:
        from joinedup.carehomes.measures import register

        register()
