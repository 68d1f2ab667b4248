from django.urls import URLPattern, URLResolver, path

from joinedup.neighbourhoods import views

app_name = "neighbourhoods"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("refer/", views.refer, name="refer"),
    path("refer/<uuid:token>/", views.referral_status, name="referral-status"),
    path("referrals/", views.referrals, name="referrals"),
    path("referrals/<int:referral_id>/", views.referral, name="referral"),
    path("referrals/<int:referral_id>/<slug:act>/", views.referral_act, name="referral-act"),
    path("teams/<int:team_id>/", views.team, name="team"),
    path("teams/<int:team_id>/caseload/", views.caseload, name="caseload"),
    path("teams/<int:team_id>/caseload/risk/", views.caseload_risk, name="caseload-risk"),
    path("teams/<int:team_id>/case-finding/", views.case_finding, name="case-finding"),
    path("teams/<int:team_id>/tasks/", views.team_tasks, name="team-tasks"),
    path("teams/<int:team_id>/meetings/", views.meetings, name="meetings"),
    path("caseload/<int:entry_id>/", views.entry, name="entry"),
    path("tasks/", views.worklist, name="worklist"),
    path("tasks/<int:task_id>/", views.task, name="task"),
    path("people/<uuid:person_id>/care-plan/", views.careplan, name="careplan"),
    path("people/<uuid:person_id>/packages/", views.packages, name="packages"),
    path("packages/", views.package_totals, name="package-totals"),
    path("meetings/<int:meeting_id>/", views.meeting, name="meeting"),
    path("meetings/items/<int:item_id>/", views.item, name="item"),
    path("meetings/<int:meeting_id>/minutes/", views.minutes, name="minutes"),
    path("meetings/<int:meeting_id>/minutes.pdf", views.minutes_pdf, name="minutes-pdf"),
    path("routing/", views.rules, name="rules"),
    path("routing/new/", views.rule, name="rule-new"),
    path("routing/<int:rule_id>/", views.rule, name="rule"),
]
