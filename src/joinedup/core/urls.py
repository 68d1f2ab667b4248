from django.urls import path

from joinedup.core import views

app_name = "core"

urlpatterns = [
    path("sign-in/", views.sign_in, name="sign-in"),
    path("sign-out/", views.sign_out, name="sign-out"),
    path("sign-in/oidc/", views.oidc_start, name="oidc-start"),
    path("sign-in/oidc/callback/", views.oidc_callback, name="oidc-callback"),
    path("admin/", views.admin_home, name="admin-home"),
    path("admin/users/", views.users, name="users"),
    path("admin/audit/", views.audit_trail, name="audit-trail"),
    path("admin/break-glass/", views.break_glass_reviews, name="break-glass-reviews"),
    path(
        "admin/break-glass/<uuid:grant_id>/review/",
        views.break_glass_review,
        name="break-glass-review",
    ),
]
