"""Browser pages of the risk compensation pool, Scheme S (included at /riskpool/)."""
from django.urls import include, path

from riskpool import views, views_manage

app_name = "riskpool"

urlpatterns = [
    path("projects/", views.project_list, name="project-list"),
    path("projects/new/", views.project_create, name="project-create"),
    path("projects/<int:pk>/", views.project_detail, name="project-detail"),
    path("projects/to-close/", views.projects_to_close, name="projects-to-close"),
    path("projects/<int:pk>/classify/", views.project_classify, name="project-classify"),
    path("projects/<int:pk>/close/", views.project_close_repaid, name="project-close"),
    path("projects/<int:pk>/claim/", views.claim_create, name="claim-create"),
    path("claims/", views.claim_list, name="claim-list"),
    path("claims/<int:pk>/", views.claim_detail, name="claim-detail"),
    path("claims/<int:pk>/<slug:action>/", views.claim_action, name="claim-action"),
    path("documents/<int:pk>/", views.claim_document_download, name="claim-document"),
    path("review/", views.review_queue, name="review-queue"),
    path("notices/", views.notice_desk, name="notice-desk"),
    path("notices/start/", views.notice_start, name="notice-start"),
    path("objections/<int:pk>/decide/", views.objection_decide, name="objection-decide"),
    path("treasurer/", views.treasurer_desk, name="treasurer-desk"),
    path("finance/", views.finance_desk, name="finance-desk"),
    path("pools/", views.pool_list, name="pool-list"),
    path("pools/<int:pk>/", views.pool_detail, name="pool-detail"),
    path("pools/<int:pk>/funding-plan/", views.funding_plan_issue, name="funding-plan"),
    path("pools/<int:pk>/budget/", views.pool_budget, name="pool-budget"),
    path("pools/<int:pk>/late-entry/", views_manage.project_late_entry, name="project-late-entry"),
    path("projects/upload/", include("riskpool.urls_imports")),
    path("m/", include("riskpool.urls_m")),
    path("manage/", include("riskpool.urls_manage")),
    path("reports/", include("riskpool.urls_reports")),
]
