from django.urls import URLPattern, URLResolver

app_name = "discharge"
urlpatterns: list[URLPattern | URLResolver] = []
