"""The Open Referral UK 3.0 API, open to anyone (read-only, CORS)."""

from django.urls import URLPattern, URLResolver, path

from joinedup.directory import openreferral as views

app_name = "openreferral"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.root, name="root"),
    path("services", views.services, name="services"),
    path("services/<str:service_id>", views.service, name="service"),
    path("service_at_locations", views.service_at_locations, name="service-at-locations"),
    path(
        "service_at_locations/<str:sal_id>",
        views.service_at_location,
        name="service-at-location",
    ),
    path("taxonomies", views.taxonomies, name="taxonomies"),
    path("taxonomies/<str:taxonomy_id>", views.taxonomy, name="taxonomy"),
    path("taxonomy_terms", views.taxonomy_terms, name="taxonomy-terms"),
    path("taxonomy_terms/<str:term_id>", views.taxonomy_term, name="taxonomy-term"),
]
