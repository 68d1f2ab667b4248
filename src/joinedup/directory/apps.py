from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "joinedup.directory"
    label = "directory"
    verbose_name = "Service directory"

    def ready(self) -> None:
        # Locations on the FHIR facade (the directory is public, so no access scope).
        from joinedup.directory.fhir_providers import register

        register()
