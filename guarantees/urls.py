"""Browser pages of guarantees, agreements and compensations under /guarantees/ (``guarantees``
namespace), and the oversight's firm-indicator dashboard and trends under /indicators/
(``indicators`` namespace). The REST API is in guarantees/api_urls.py."""
from django.urls import include, path

from guarantees import views, views_dashboard, views_trends

pages = [
    path("", views.guarantee_list, name="guarantee-list"),
    path("new/", views.guarantee_create, name="guarantee-create"),
    path("import/", views.guarantee_import, name="guarantee-import"),
    path("import/template.xlsx", views.guarantee_import_template, name="guarantee-import-template"),
    path("export.xlsx", views.guarantee_export, name="guarantee-export"),
    path("net-assets/", views.net_assets, name="net-assets"),
    path("<int:pk>/", views.guarantee_detail, name="guarantee-detail"),
    path("<int:pk>/release/", views.guarantee_release, name="guarantee-release"),
    path("<int:pk>/default/", views.guarantee_default, name="guarantee-default"),
    path("agreements/", views.agreement_list, name="agreement-list"),
    path("agreements/new/", views.agreement_create, name="agreement-create"),
    path("agreements/<int:pk>/", views.agreement_detail, name="agreement-detail"),
    path("agreements/<int:pk>/edit/", views.agreement_edit, name="agreement-edit"),
    path("compensations/", views.compensation_list, name="compensation-list"),
    path("compensations/<int:pk>/", views.compensation_detail, name="compensation-detail"),
    path("compensations/<int:pk>/pay/", views.compensation_pay, name="compensation-pay"),
    path("compensations/<int:pk>/recovery-action/", views.compensation_recovery_action, name="compensation-recovery-action"),
    path("compensations/<int:pk>/recovery/", views.compensation_recovery, name="compensation-recovery"),
    path("compensations/<int:pk>/write-off/", views.compensation_write_off, name="compensation-write-off"),
]

indicator_pages = [
    path("", views_dashboard.dashboard, name="dashboard"),
    path("export.xlsx", views_dashboard.dashboard_export, name="dashboard-export"),
    path("firms/<int:firm_id>/", views_dashboard.firm_detail, name="firm-detail"),
    path("trends/", views_trends.trends, name="trends"),
]

urlpatterns = [
    path("guarantees/", include((pages, "guarantees"))),
    path("indicators/", include((indicator_pages, "indicators"))),
]
