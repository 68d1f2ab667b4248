from django.urls import path

from joinedup.record import views

app_name = "record"

urlpatterns = [
    path("", views.deliveries, name="deliveries"),
    path("<int:delivery_id>/", views.delivery_detail, name="delivery"),
]
