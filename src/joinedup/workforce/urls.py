from django.urls import path

from joinedup.workforce import views

app_name = "workforce"

urlpatterns = [
    path("", views.home, name="home"),
    path("baseline/<slug:key>.<str:extension>", views.baseline_download, name="download"),
    path("staff/", views.staff, name="staff"),
    path("teams/", views.teams, name="teams"),
    path("teams/<int:team_id>/contact/", views.team_contact, name="team-contact"),
    path("imports/", views.imports, name="imports"),
    path("imports/<int:batch_id>/", views.import_detail, name="import"),
]
