"""Browser pages of the risk compensation pool: Scheme S under /riskpool/ (Scheme M under
/riskpool/m/, the authority's administration under /riskpool/manage/, reports under
/riskpool/reports/, all in the ``riskpool`` namespace) and the public notice (公示, RP-25, no
login) under /notice/ in the ``notice`` namespace. The REST API is in riskpool/api_urls.py."""
from django.urls import include, path

from riskpool import (
    views,
    views_desks,
    views_imports,
    views_m,
    views_manage,
    views_pools,
    views_public,
    views_reports,
)

# Bulk loan-project upload (xlsx/csv).
upload_patterns = [
    path("", views_imports.project_upload, name="project-upload"),
    path("template.xlsx", views_imports.project_upload_template, name="project-upload-template"),
]

# Scheme M: guarantee firms' reimbursement claims, products, RP-M6 reports.
m_patterns = [
    path("", views_m.m_home, name="m-home"),
    path("claims/", views_m.m_claim_list, name="m-claim-list"),
    path("claims/new/", views_m.m_claim_create, name="m-claim-create"),
    path("claims/<int:pk>/", views_m.m_claim_detail, name="m-claim-detail"),
    path("claims/<int:pk>/<slug:action>/", views_m.m_claim_action, name="m-claim-action"),
    path("products/", views_m.m_products, name="m-products"),
    path("review/", views_m.m_review, name="m-review"),
    path("pay/", views_m.m_pay, name="m-pay"),
    path("reports/", views_m.m_reports, name="m-reports"),
    path("reports/<int:pk>/", views_m.m_report_detail, name="m-report-detail"),
    path("reports/<int:pk>/submit/", views_m.m_report_submit, name="m-report-submit"),
    path("reports/<int:pk>/export.xlsx", views_m.m_report_export, name="m-report-export"),
]

# The authority's pool administration: membership, dishonesty list, RP-21 violations, RP-12 special list.
manage_patterns = [
    path("", views_manage.admin_home, name="admin-home"),
    path("pools/<int:pk>/members/", views_manage.member_list, name="admin-members"),
    path("pools/<int:pk>/members/add/", views_manage.member_add, name="admin-member-add"),
    path("members/<int:pk>/dishonesty/", views_manage.member_dishonest, name="admin-member-dishonest"),
    path("members/<int:pk>/readmit/", views_manage.member_readmit, name="admin-member-readmit"),
    path("pools/<int:pk>/violations/", views_manage.violation_list, name="admin-violations"),
    path("pools/<int:pk>/violations/new/", views_manage.violation_create, name="admin-violation-create"),
    path("violations/<int:pk>/", views_manage.violation_detail, name="admin-violation-detail"),
    path("pools/<int:pk>/special-list/", views_manage.special_list, name="admin-special-list"),
    path("pools/<int:pk>/special-list/add/", views_manage.special_add, name="admin-special-add"),
    path("special-list/<int:pk>/end/", views_manage.special_end, name="admin-special-end"),
    path("pools/<int:pk>/quarters.xlsx", views_manage.pool_quarters_export, name="pool-quarters-export"),
]

# The pool's reports (RP-20, RP-22, RP-23).
reports_patterns = [
    path("", views_reports.report_index, name="report-index"),
    path("<int:pk>/half-year/<str:period>/", views_reports.half_year_report, name="half-year-report"),
    path("<int:pk>/evaluation/<int:year>/", views_reports.bank_evaluation, name="bank-evaluation"),
    path("<int:pk>/quarter/<str:period>/", views_reports.quarter_close, name="quarter-close"),
]

# Scheme S: loan projects, claims and the pool parties' desks.
pages = [
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
    path("review/", views_desks.review_queue, name="review-queue"),
    path("notices/", views_desks.notice_desk, name="notice-desk"),
    path("notices/start/", views_desks.notice_start, name="notice-start"),
    path("objections/<int:pk>/decide/", views_desks.objection_decide, name="objection-decide"),
    path("treasurer/", views_desks.treasurer_desk, name="treasurer-desk"),
    path("finance/", views_desks.finance_desk, name="finance-desk"),
    path("pools/", views_pools.pool_list, name="pool-list"),
    path("pools/<int:pk>/", views_pools.pool_detail, name="pool-detail"),
    path("pools/<int:pk>/funding-plan/", views_pools.funding_plan_issue, name="funding-plan"),
    path("pools/<int:pk>/budget/", views_pools.pool_budget, name="pool-budget"),
    path("pools/<int:pk>/late-entry/", views_manage.project_late_entry, name="project-late-entry"),
    path("projects/upload/", include(upload_patterns)),
    path("m/", include(m_patterns)),
    path("manage/", include(manage_patterns)),
    path("reports/", include(reports_patterns)),
]

# The public notice (公示, RP-25): no login.
notice_patterns = [
    path("", views_public.notice_list, name="notice-list"),
    path("<int:pk>/objection/", views_public.objection_file, name="objection"),
]

urlpatterns = [
    path("riskpool/", include((pages, "riskpool"))),
    path("notice/", include((notice_patterns, "notice"))),
]
