from django.urls import URLPattern, URLResolver

app_name = "carehomes"
urlpatterns: list[URLPattern | URLResolver] = []
