"""Bulk loan-project upload (xlsx/csv), under /riskpool/projects/upload/. Included by riskpool/urls.py inside the `riskpool` namespace."""
from django.urls import path

from riskpool import views_imports

urlpatterns = [
    path("", views_imports.project_upload, name="project-upload"),
    path("template.xlsx", views_imports.project_upload_template, name="project-upload-template"),
]
