from django.urls import path

from joinedup.citizens import views

app_name = "citizens"

urlpatterns = [
    path("", views.home, name="home"),
    path("join/", views.join, name="join"),
    path("join/thank-you/", views.joined, name="joined"),
    path("join/confirm/<str:token>/", views.confirm, name="confirm"),
    path("join/manage/", views.manage_request, name="manage-request"),
    path("join/manage/<str:token>/", views.manage, name="manage"),
    path("join/manage/<str:token>/delete/", views.manage_delete, name="manage-delete"),
    path("volunteers/", views.search, name="search"),
    path("volunteers/export.<str:extension>", views.export, name="export"),
    path("import/", views.import_page, name="imports"),
    path("import/<int:batch_id>/", views.import_detail, name="import"),
    path("import/<int:batch_id>/report.csv", views.import_report, name="import-report"),
    path("panels/", views.panel_list, name="panels"),
    path("panels/new/", views.panel_new, name="panel-new"),
    path("panels/<int:panel_id>/", views.panel_detail, name="panel"),
    path("panels/<int:panel_id>/replay/", views.panel_replay, name="panel-replay"),
    path("panels/<int:panel_id>/do/<slug:action>/", views.panel_action, name="panel-action"),
    path("panels/<int:panel_id>/download/<str:what>", views.panel_download, name="panel-download"),
    path("surveys/<int:survey_id>/", views.survey_detail, name="survey"),
    path("you-said-we-did/", views.outcomes, name="outcomes"),
]
