"""Scheme M pages (guarantee firms' reimbursement claims, products, RP-M6 reports), under /riskpool/m/. Included by riskpool/urls.py inside the `riskpool` namespace."""
from django.urls import path  # noqa: F401

urlpatterns: list = []
