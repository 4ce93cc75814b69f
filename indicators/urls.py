"""The firm indicator dashboard and its trends under /indicators/ (``indicators`` namespace)."""
from django.urls import include, path

from indicators import views, views_trends

pages = [
    path("", views.dashboard, name="dashboard"),
    path("export.xlsx", views.dashboard_export, name="dashboard-export"),
    path("firms/<int:firm_id>/", views.firm_detail, name="firm-detail"),
    path("trends/", views_trends.trends, name="trends"),
]

urlpatterns = [
    path("indicators/", include((pages, "indicators"))),
]
