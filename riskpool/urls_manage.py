"""The authority's pool administration pages (membership, dishonesty list, RP-21 violations, RP-12 special list), under /riskpool/manage/. Included by riskpool/urls.py inside the `riskpool` namespace."""
from django.urls import path  # noqa: F401

urlpatterns: list = []
