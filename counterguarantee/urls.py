"""Browser pages of counterguarantee, under /counterguarantee/ in the ``counterguarantee``
namespace. The REST API is in counterguarantee/api_urls.py."""
from django.urls import include, path

from counterguarantee import views

pages = [
    path("", views.home, name="home"),
    path("guarantees/<int:guarantee_id>/plan/", views.plan_edit, name="plan-edit"),
    path("plans/<int:pk>/", views.plan_detail, name="plan-detail"),
    path("plans/<int:pk>/approve/", views.plan_approve, name="plan-approve"),
    path("plans/<int:pk>/release/", views.plan_release, name="plan-release"),
    path("measures/<int:pk>/<slug:action>/", views.measure_action, name="measure-action"),
    path("tables/", views.tables, name="tables"),
    path("credit-share/", views.credit_share, name="credit-share"),
    path("failed/", views.failed, name="failed"),
]

urlpatterns = [
    path("counterguarantee/", include((pages, "counterguarantee"))),
]
