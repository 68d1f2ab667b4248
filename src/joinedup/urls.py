from django.urls import include, path

from joinedup.api import api

urlpatterns = [
    path("", include("joinedup.web.urls")),
    path("", include("joinedup.core.urls")),
    path("people/", include("joinedup.people.urls")),
    path("deliveries/", include("joinedup.record.urls")),
    path("api/", api.urls),
]

handler400 = "joinedup.web.errors.handler400"
handler403 = "joinedup.web.errors.handler403"
handler404 = "joinedup.web.errors.handler404"
handler500 = "joinedup.web.errors.handler500"
