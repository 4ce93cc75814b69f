"""REST API of guaranteed loans, under /api/guarantees/."""
from django.urls import path
from rest_framework.routers import SimpleRouter

from guarantees import api

app_name = "guarantees-api"

router = SimpleRouter()
router.register("agreements", api.AgreementViewSet, basename="agreement")
router.register("guarantees", api.GuaranteeViewSet, basename="guarantee")
router.register("compensations", api.CompensationViewSet, basename="compensation")
router.register("firms", api.FirmViewSet, basename="firm")

urlpatterns = [
    path("allocate/", api.AllocateView.as_view(), name="allocate"),
    *router.urls,
]
