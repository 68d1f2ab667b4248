from django.urls import URLPattern, URLResolver, path

from joinedup.discharge import views

app_name = "discharge"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("board/", views.board, name="board"),
    path("stays/<int:stay_id>/", views.stay, name="stay"),
    path("metrics/", views.metrics_page, name="metrics"),
    path("metrics/<slug:key>.<str:extension>", views.metrics_download, name="metrics-download"),
    path("planner/", views.planner, name="planner"),
    path("planner/compare/", views.compare, name="compare"),
    path("planner/<int:scenario_id>/", views.scenario_page, name="scenario"),
    path("planner/<int:scenario_id>.xlsx", views.scenario_download, name="scenario-download"),
]
