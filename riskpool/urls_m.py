"""Scheme M pages (guarantee firms' reimbursement claims, products, RP-M6 reports), under /riskpool/m/. Included by riskpool/urls.py inside the `riskpool` namespace."""
from django.urls import path

from riskpool import views_m

urlpatterns: list = [
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
