from django.urls import path

from joinedup.people import views

app_name = "people"

urlpatterns = [
    path("", views.people_list, name="list"),
    path("search/", views.people_search, name="search"),
    path("reviews/", views.reviews_list, name="reviews"),
    path("reviews/<int:review_id>/", views.review_detail, name="review"),
    path("<uuid:person_id>/", views.person_detail, name="detail"),
    path("<uuid:person_id>/break-glass/", views.person_break_glass, name="break-glass"),
]
