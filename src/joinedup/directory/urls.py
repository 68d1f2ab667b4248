from django.urls import URLPattern, URLResolver, path

from joinedup.directory import views

app_name = "directory"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("find/", views.find, name="find"),
    path("find/<str:service_id>/", views.public_service, name="public-service"),
    path("review/", views.due, name="due"),
    path("services/<str:service_id>/", views.service, name="service"),
    path("services/<str:service_id>/review/", views.review, name="review"),
    path("services/<str:service_id>/edit/", views.edit, name="edit"),
]
