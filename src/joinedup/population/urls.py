from django.urls import path

from joinedup.population import views

app_name = "population"

urlpatterns = [
    path("", views.home, name="home"),
    path("life-expectancy/", views.life_expectancy, name="life-expectancy"),
    path("mortality/", views.mortality, name="mortality"),
    path("frailty/", views.frailty, name="frailty"),
    path("vaccines/", views.vaccines, name="vaccines"),
    path("scorecards/<slug:slug>/", views.scorecard, name="scorecard"),
    path("tables/<slug:slug>.<str:fmt>", views.download, name="download"),
    path("frail-people/", views.frail_people, name="frail-people"),
]
