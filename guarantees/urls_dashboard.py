from django.urls import path

from guarantees import views_dashboard as views
from guarantees import views_trends

app_name = "indicators"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export.xlsx", views.dashboard_export, name="dashboard-export"),
    path("firms/<int:firm_id>/", views.firm_detail, name="firm-detail"),
    path("trends/", views_trends.trends, name="trends"),
]
