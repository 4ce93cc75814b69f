"""REST endpoints of evaluation (included at /api/evaluation/)."""
from django.urls import path

from evaluation import api

app_name = "evaluation-api"

urlpatterns: list = [
    path("preview/", api.PreviewView.as_view(), name="preview"),
    path("exemption/decide/", api.DecideView.as_view(), name="exemption-decide"),
]
