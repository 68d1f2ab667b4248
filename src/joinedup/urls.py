from django.urls import include, path

from joinedup.api import api

urlpatterns = [
    path("", include("joinedup.web.urls")),
    path("", include("joinedup.core.urls")),
    path("people/", include("joinedup.people.urls")),
    path("deliveries/", include("joinedup.record.urls")),
    path("fhir/R4/", include("joinedup.fhir.urls")),
    path("neighbourhoods/", include("joinedup.neighbourhoods.urls")),
    path("care-homes/", include("joinedup.carehomes.urls")),
    path("discharge/", include("joinedup.discharge.urls")),
    path("population/", include("joinedup.population.urls")),
    path("citizens/", include("joinedup.citizens.urls")),
    path("directory/", include("joinedup.directory.urls")),
    path("openreferral/", include("joinedup.directory.openreferral_urls")),
    path("workforce/", include("joinedup.workforce.urls")),
    path("portfolio/", include("joinedup.portfolio.urls")),
    path("api/", api.urls),
]

handler400 = "joinedup.web.errors.handler400"
handler403 = "joinedup.web.errors.handler403"
handler404 = "joinedup.web.errors.handler404"
handler500 = "joinedup.web.errors.handler500"
