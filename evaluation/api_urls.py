"""REST endpoints of evaluation (included at /api/evaluation/)."""
from django.urls import path  # noqa: F401

app_name = "evaluation-api"

urlpatterns: list = []
