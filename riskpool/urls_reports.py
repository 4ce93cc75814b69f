"""The pool's report pages (RP-20, RP-22, RP-23), under /riskpool/reports/. Included by
riskpool/urls.py inside the `riskpool` namespace."""
from django.urls import path

from riskpool import views_reports

urlpatterns = [
    path("", views_reports.report_index, name="report-index"),
    path("<int:pk>/half-year/<str:period>/", views_reports.half_year_report, name="half-year-report"),
    path("<int:pk>/evaluation/<int:year>/", views_reports.bank_evaluation, name="bank-evaluation"),
    path("<int:pk>/quarter/<str:period>/", views_reports.quarter_close, name="quarter-close"),
]
