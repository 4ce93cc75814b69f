"""REST API of the risk pool, under /api/riskpool/."""
from django.urls import path

from riskpool import api

app_name = "riskpool-api"

urlpatterns = [
    path("quote/", api.QuoteView.as_view(), name="quote"),
    path("bank-evaluation/preview/", api.BankEvaluationPreviewView.as_view(), name="bank-evaluation-preview"),
]
