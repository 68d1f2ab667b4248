from django.urls import URLPattern, URLResolver

app_name = "workforce"
urlpatterns: list[URLPattern | URLResolver] = []
