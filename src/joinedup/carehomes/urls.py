from django.urls import URLPattern, URLResolver, path

from joinedup.carehomes import views

app_name = "carehomes"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("register.<str:extension>", views.register_download, name="register-download"),
    path("homes/<str:code>/", views.home_detail, name="home-detail"),
    path("planner/", views.planner_page, name="planner"),
    path("planner/adopt/", views.planner_adopt, name="planner-adopt"),
    path("planner/<slug:key>.<str:extension>", views.planner_download, name="planner-download"),
    path("rounds/", views.rounds, name="rounds"),
    path("rounds/<str:practice_code>/", views.round_list, name="round-list"),
]
