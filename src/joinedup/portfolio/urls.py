from django.urls import path

from joinedup.portfolio import views

app_name = "portfolio"

urlpatterns = [
    path("", views.home, name="home"),
    path("programmes/<str:code>/", views.programme_detail, name="programme"),
    path("programmes/<str:code>/projects/new/", views.project_edit, name="project-new"),
    path(
        "programmes/<str:code>/projects/<str:project>/",
        views.project_edit,
        name="project-edit",
    ),
    path("programmes/<str:code>/milestones/new/", views.milestone_edit, name="milestone-new"),
    path(
        "programmes/<str:code>/milestones/<str:milestone>/",
        views.milestone_edit,
        name="milestone-edit",
    ),
    path("decisions/", views.decisions, name="decisions"),
    path("decisions/new/", views.decision_new, name="decision-new"),
    path("risks/", views.risks, name="risks"),
    path("risks/<str:code>/", views.risk_detail, name="risk"),
    path("benefits/", views.benefits, name="benefits"),
    path("board-pack/", views.board_pack, name="board-pack"),
    path("board-pack.xlsx", views.board_pack_xlsx, name="board-pack-xlsx"),
]
