from django.urls import URLPattern, URLResolver

app_name = "population"
urlpatterns: list[URLPattern | URLResolver] = []
