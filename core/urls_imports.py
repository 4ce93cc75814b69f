"""A background bulk upload's progress and result pages, under /imports/ (namespace ``imports``)."""
from django.urls import path

from core import views_imports

app_name = "imports"

urlpatterns = [
    path("<int:run_id>/", views_imports.import_run_page, name="run"),
    path("<int:run_id>/status.json", views_imports.import_run_status, name="status"),
    path("<int:run_id>/errors.xlsx", views_imports.import_run_errors, name="errors"),
    path("<int:run_id>/confirm/", views_imports.import_run_confirm, name="confirm"),
]
