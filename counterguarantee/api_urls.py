"""REST endpoints of counterguarantee (included at /api/counterguarantee/)."""
from django.urls import path
from rest_framework.routers import SimpleRouter

from counterguarantee import api

app_name = "counterguarantee-api"

router = SimpleRouter()
router.register("plans", api.PlanViewSet, basename="plan")

urlpatterns = [
    path("check/", api.CheckView.as_view(), name="check"),
    *router.urls,
]
