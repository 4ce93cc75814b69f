"""The simulator's REST endpoints (issue 15), included at /api/simulations/."""
from django.urls import path

from core.api import simulations

app_name = "simulations-api"

urlpatterns = [
    path("", simulations.SimulationStartView.as_view(), name="start"),
    path("<int:pk>/", simulations.SimulationDetailView.as_view(), name="detail"),
]
