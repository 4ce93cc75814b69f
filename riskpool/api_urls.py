"""REST API of the risk pool, under /api/riskpool/."""
from django.urls import path
from rest_framework.routers import SimpleRouter

from riskpool import api

app_name = "riskpool-api"

router = SimpleRouter()
router.register("projects", api.LoanProjectViewSet, basename="project")
router.register("claims", api.ClaimViewSet, basename="claim")

urlpatterns = [
    path("quote/", api.QuoteView.as_view(), name="quote"),
    path("bank-evaluation/preview/", api.BankEvaluationPreviewView.as_view(), name="bank-evaluation-preview"),
    *router.urls,
]
