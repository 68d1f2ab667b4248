"""The Open Referral UK 3.0 API, open to anyone (read-only, CORS)."""

from django.urls import URLPattern, URLResolver

app_name = "openreferral"
urlpatterns: list[URLPattern | URLResolver] = []
