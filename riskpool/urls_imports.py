"""Bulk loan-project upload (xlsx/csv), under /riskpool/projects/upload/. Included by riskpool/urls.py inside the `riskpool` namespace."""
from django.urls import path  # noqa: F401

urlpatterns: list = []
