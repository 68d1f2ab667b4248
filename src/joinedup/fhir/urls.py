"""The FHIR R4 API, mounted at /fhir/R4/."""

from django.urls import URLPattern, URLResolver, path, register_converter

from joinedup.fhir import views


class ResourceTypeConverter:
    regex = "[A-Z][A-Za-z]{1,40}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class LogicalIdConverter:
    regex = r"[A-Za-z0-9\-\.]{1,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ResourceTypeConverter, "fhirtype")
register_converter(LogicalIdConverter, "fhirid")

app_name = "fhir"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.system, name="system"),
    path("metadata", views.metadata, name="metadata"),
    path(".well-known/smart-configuration", views.smart_configuration, name="smart"),
    path("auth/token", views.token, name="token"),
    path("Patient/$match", views.patient_match, name="patient-match"),
    path("Patient/<fhirid:rid>/$everything", views.everything, name="everything"),
    path("<fhirtype:resource_type>", views.type_level, name="type"),
    path("<fhirtype:resource_type>/_search", views.search_post, name="search"),
    path("<fhirtype:resource_type>/<fhirid:rid>", views.instance, name="instance"),
    path(
        "<fhirtype:resource_type>/<fhirid:rid>/_history",
        views.instance_history,
        name="history",
    ),
    path(
        "<fhirtype:resource_type>/<fhirid:rid>/_history/<str:vid>",
        views.version_read,
        name="vread",
    ),
]
