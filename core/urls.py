"""Browser pages of the kernel: home, sign-in with two-factor, audit trail, working-day calendar;
the authority's job page (JB-13) under /jobs/ (``jobs`` namespace); rule sets, drafts and the
policy simulator (issue 13 point 7, issue 15) under /rulesets/ (``rulesets``); a background bulk
upload's progress and result pages under /imports/ (``imports``)."""
from django.contrib.auth import views as auth_views
from django.urls import include, path

from core import views, views_calendar, views_imports, views_jobs, views_rulesets, views_twofactor

job_patterns = [
    path("", views_jobs.jobs_page, name="list"),
    path("progress/", views_jobs.jobs_progress, name="progress"),
]

ruleset_patterns = [
    path("", views_rulesets.ruleset_list, name="list"),
    path("compare/", views_rulesets.compare, name="compare"),
    path("<int:pk>/", views_rulesets.ruleset_detail, name="detail"),
    path("<int:pk>/edit/", views_rulesets.ruleset_edit, name="edit"),
    path("<int:pk>/new-version/", views_rulesets.ruleset_new_version, name="new-version"),
    path("<int:pk>/draft/", views_rulesets.draft_create, name="draft-create"),
    path("drafts/<int:pk>/", views_rulesets.draft_detail, name="draft"),
    path("drafts/<int:pk>/edit/", views_rulesets.draft_edit, name="draft-edit"),
    path("drafts/<int:pk>/adopt/", views_rulesets.draft_adopt, name="draft-adopt"),
    path("drafts/<int:pk>/simulate/", views_rulesets.simulation_start, name="simulate"),
    path("simulations/compare/", views_rulesets.simulation_compare, name="simulation-compare"),
    path("simulations/<int:pk>/", views_rulesets.simulation_detail, name="simulation"),
    path("simulations/<int:pk>/progress/", views_rulesets.simulation_progress, name="simulation-progress"),
    path("simulations/<int:pk>/projection.xlsx", views_rulesets.simulation_xlsx, name="simulation-xlsx"),
]

import_patterns = [
    path("<int:run_id>/", views_imports.import_run_page, name="run"),
    path("<int:run_id>/status.json", views_imports.import_run_status, name="status"),
    path("<int:run_id>/errors.xlsx", views_imports.import_run_errors, name="errors"),
    path("<int:run_id>/confirm/", views_imports.import_run_confirm, name="confirm"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/two-factor/", views_twofactor.two_factor, name="two-factor"),
    path("accounts/two-factor/verify/", views_twofactor.two_factor_verify, name="two-factor-verify"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("audit/", views.audit_list, name="audit-list"),
    path("calendar/", views_calendar.calendar_page, name="calendar"),
    path("jobs/", include((job_patterns, "jobs"))),
    path("rulesets/", include((ruleset_patterns, "rulesets"))),
    path("imports/", include((import_patterns, "imports"))),
]
