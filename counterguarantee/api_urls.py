"""REST endpoints of counterguarantee (included at /api/counterguarantee/)."""
from django.urls import path  # noqa: F401

app_name = "counterguarantee-api"

urlpatterns: list = []
